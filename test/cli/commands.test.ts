import { createServer, Server } from 'http';
import { AddressInfo } from 'net';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  EnableStageTransitionCommand,
  GetPipelineStateCommand,
  GetPipelineStateCommandOutput,
  ListPipelineExecutionsCommand,
  PutApprovalResultCommand,
} from '@aws-sdk/client-codepipeline';
import 'aws-sdk-client-mock-jest';
import { DEFAULT_PIPELINES, stageNameOf } from '../../lib/cli/settings';
import { HOTFIX_PIPELINE_NAME, RELEASE_PIPELINE_NAME } from '../../lib/pipeline/pipeline-stack';
import { environmentStageName } from '../../lib/pipeline/release-pipeline';
import { ROLLBACK_PIPELINE_NAME } from '../../lib/pipeline/rollback-pipeline';
import { ReleaseLedger } from '../../lib/release/ledger';
import { RunningDynalite, startDynalite } from '../support/dynalite';
import { newLedger, rollbackRecord, threeReleases } from '../support/ledger';
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { awsError, cli, cloudformation, lambda, pipeline, pipelineCalls, resetMocks, sts } from './support';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { repoConfig } from '../infra/fixture';

let db: RunningDynalite;
let ledger: ReleaseLedger;
let table: string;
let health: Server;
let healthUrl: string;
let healthVersion = '1.2.0';

beforeAll(async () => {
  db = await startDynalite();
  health = createServer((req, res) => {
    res.writeHead(req.url === '/prod/health' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', version: healthVersion, commit: 'abc' }));
  });
  await new Promise<void>((r) => health.listen(0, '127.0.0.1', () => r()));
  healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/prod/`;
});
afterAll(async () => {
  await db.stop();
  await new Promise((r) => health.close(r));
});

beforeEach(async () => {
  resetMocks();
  healthVersion = '1.2.0';
  ({ ledger, tableName: table } = await newLedger(db));
  await threeReleases(ledger);
});

const releaseState = (paused: boolean, approvalWaiting: boolean): GetPipelineStateCommandOutput => ({
  $metadata: {},
  pipelineName: 'notes-release',
  stageStates: [
    { stageName: 'Source', latestExecution: { status: 'Succeeded', pipelineExecutionId: 'e-9' } },
    {
      stageName: 'ApproveProd',
      latestExecution: { status: approvalWaiting ? 'InProgress' : 'Succeeded', pipelineExecutionId: 'e-9' },
      actionStates: [
        { actionName: 'ApproveRelease', latestExecution: approvalWaiting ? { status: 'InProgress', token: 'tok-1', lastStatusChange: new Date('2026-11-24T09:00:00Z') } : { status: 'Succeeded' } },
      ],
    },
    {
      stageName: 'Prod',
      inboundTransitionState: paused
        ? { enabled: false, disabledReason: 'Rollback to v1.1.0 - 5xx', lastChangedBy: 'arn:aws:sts::123456789012:assumed-role/ops/bob', lastChangedAt: new Date('2026-11-24T10:00:00Z') }
        : { enabled: true },
      latestExecution: { status: 'Succeeded', pipelineExecutionId: 'e-8' },
    },
  ],
});

describe('names and stages agree with the pipeline code', () => {
  test('default pipeline names are the ones NotesPipelineStack and RollbackPipeline use', () => {
    expect(DEFAULT_PIPELINES).toEqual({ release: RELEASE_PIPELINE_NAME, hotfix: HOTFIX_PIPELINE_NAME, rollback: ROLLBACK_PIPELINE_NAME });
  });

  test('the prod stage name is derived as the release pipeline derives it', () => {
    for (const name of ['prod', 'prod-eu', 'production']) expect(stageNameOf(name)).toBe(environmentStageName({ name }));
  });
});

describe('--help', () => {
  test.each(['status', 'history', 'rollback', 'resume', 'approve', 'reject'])('%s --help prints its usage and exit codes without any AWS call', async (command) => {
    const run = await cli([command, '--help'], db, undefined);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: notes-release ${command}`);
    expect(run.stdout).toContain('Exit codes: 0 ok, 1 operation failed, 2 usage');
    expect(pipeline.calls()).toHaveLength(0);
    expect(sts.calls()).toHaveLength(0);
  });

  test('no command prints the overview and exits 2; an unknown command exits 2 naming the commands', async () => {
    const none = await cli([], db, undefined);
    const unknown = await cli(['deploy'], db, undefined);

    expect(none.code).toBe(2);
    expect(none.stdout).toContain('Commands:');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error: Unknown command "deploy".');
  });
});

describe('status', () => {
  beforeEach(() => {
    cloudformation.on(DescribeStacksCommand, { StackName: 'NotesStack-prod' }).resolves({
      Stacks: [{ StackName: 'NotesStack-prod', CreationTime: new Date(), StackStatus: 'UPDATE_COMPLETE', Outputs: [{ OutputKey: 'ApiUrl', OutputValue: healthUrl }] }],
    });
    pipeline.on(GetPipelineStateCommand, { name: 'notes-release' }).resolves(releaseState(true, true));
    pipeline.on(GetPipelineStateCommand, { name: 'notes-hotfix' }).resolves({ stageStates: [{ stageName: 'Source', latestExecution: { status: 'Succeeded', pipelineExecutionId: 'h-1' } }] });
    pipeline.on(GetPipelineStateCommand, { name: 'notes-rollback' }).resolves({ stageStates: [{ stageName: 'Resolve', latestExecution: { status: 'Succeeded', pipelineExecutionId: 'r-1' } }] });
  });

  test('shows the version prod serves (ledger and /health), each pipeline, the paused transition and the waiting approval', async () => {
    const run = await cli(['status'], db, table);

    expect(run.code).toBe(0);
    expect(pipelineCalls()).toEqual(['GetPipelineState', 'GetPipelineState', 'GetPipelineState']);
    expect(run.stdout).toContain('Production (prod) serves v1.2.0');
    expect(run.stdout).toContain('ledger:  v1.2.0');
    expect(run.stdout).toContain(`/health: v1.2.0 (${healthUrl}health)`);
    expect(run.stdout).toContain('PAUSED: promotions into Prod are disabled: "Rollback to v1.1.0 - 5xx" by arn:aws:sts::123456789012:assumed-role/ops/bob at 2026-11-24T10:00:00.000Z');
    expect(run.stdout).toContain('WAITING FOR APPROVAL: ApproveRelease since 2026-11-24T09:00:00.000Z');
    expect(run.stdout).toContain('Pipeline notes-hotfix');
    expect(run.stdout).toContain('Pipeline notes-rollback');
  });

  test('prod in another account (three-account layout): its stack and live alias are read as prod\'s reader role; the pipelines and ledger with the caller\'s own credentials', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'AKIAPRODREADER', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3600_000) } });
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7' });
    cloudformation.on(DescribeStacksCommand, { StackName: 'NotesStack-prod' }).resolves({
      Stacks: [{ StackName: 'NotesStack-prod', CreationTime: new Date(), StackStatus: 'UPDATE_COMPLETE', Outputs: [{ OutputKey: 'ApiUrl', OutputValue: healthUrl }, { OutputKey: 'ApiFunctionName', OutputValue: 'notes-prod-api' }] }],
    });

    const run = await cli(['status'], db, table, { config: repoConfig('three-accounts') });

    expect(run.code).toBe(0);
    const credentialsOf = (client: unknown) => (client as { config: { credentials: () => Promise<{ accessKeyId: string }> } }).config.credentials();
    const prodStack = cloudformation.commandCalls(DescribeStacksCommand, { StackName: 'NotesStack-prod' })[0].thisValue;
    await expect(credentialsOf(prodStack)).resolves.toMatchObject({ accessKeyId: 'AKIAPRODREADER' });
    await expect(credentialsOf(lambda.commandCalls(GetAliasCommand)[0].thisValue)).resolves.toMatchObject({ accessKeyId: 'AKIAPRODREADER' });
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleArn: 'arn:aws:iam::333333333333:role/notes-release-reader-eu-west-1', RoleSessionName: 'notes-release-cli' },
    ]);
    const pipelineClient = pipeline.commandCalls(GetPipelineStateCommand)[0].thisValue as { config: { credentials: () => Promise<{ accessKeyId: string }> } };
    expect(pipelineClient.config.credentials).not.toBe((prodStack as typeof pipelineClient).config.credentials);
    expect(run.stdout).toContain('Production (prod) serves v1.2.0');
  });

  test('warns when the ledger and /health disagree', async () => {
    healthVersion = '1.3.0-rc.1';

    const run = await cli(['status'], db, table);

    expect(run.stdout).toContain('WARNING: the ledger says v1.2.0 but prod reports v1.3.0-rc.1');
  });

  test('after a rollback, the ledger version is the rollback target', async () => {
    await ledger.recordRollback(rollbackRecord('1.2.0', '1.1.0', '2026-11-24T10:30:00.000Z'));
    healthVersion = '1.1.0';

    const run = await cli(['status', '--json'], db, table);

    expect(JSON.parse(run.stdout).prod).toMatchObject({ environment: 'prod', ledgerVersion: '1.1.0', healthVersion: '1.1.0' });
  });

  test('--json has the stages with their paused transition and pending approvals', async () => {
    const run = await cli(['status', '--json'], db, table);

    const report = JSON.parse(run.stdout);
    expect(report.pipelines.map((p: { name: string }) => p.name)).toEqual(['notes-release', 'notes-hotfix', 'notes-rollback']);
    expect(report.pipelines[0].stages[1]).toEqual({ name: 'ApproveProd', status: 'InProgress', executionId: 'e-9', pendingApprovals: [{ action: 'ApproveRelease', since: '2026-11-24T09:00:00.000Z' }] });
    expect(report.pipelines[0].stages[2].pausedTransition).toEqual({ reason: 'Rollback to v1.1.0 - 5xx', by: 'arn:aws:sts::123456789012:assumed-role/ops/bob', at: '2026-11-24T10:00:00.000Z' });
  });

  test('an unreachable /health is reported, not fatal', async () => {
    const run = await cli(['status', '--health-url', 'http://127.0.0.1:1/health'], db, table);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\/health: unknown \(/);
  });

  describe('the live alias', () => {
    const withFunctionOutput = () =>
      cloudformation.on(DescribeStacksCommand, { StackName: 'NotesStack-prod' }).resolves({
        Stacks: [
          {
            StackName: 'NotesStack-prod',
            CreationTime: new Date(),
            StackStatus: 'UPDATE_IN_PROGRESS',
            Outputs: [
              { OutputKey: 'ApiUrl', OutputValue: healthUrl },
              { OutputKey: 'ApiFunctionName', OutputValue: 'notes-prod-api' },
            ],
          },
        ],
      });

    test('shows the version the live alias serves when no shift is in progress', async () => {
      withFunctionOutput();
      lambda.on(GetAliasCommand, { FunctionName: 'notes-prod-api', Name: 'live' }).resolves({ Name: 'live', FunctionVersion: '41' });

      const run = await cli(['status'], db, table);

      expect(run.code).toBe(0);
      expect(run.stdout).toContain('alias:   version 41 (notes-prod-api:live), no traffic shift in progress');
    });

    test('shows a canary in progress: both versions with their weights (text and --json)', async () => {
      withFunctionOutput();
      lambda.on(GetAliasCommand).resolves({ Name: 'live', FunctionVersion: '41', RoutingConfig: { AdditionalVersionWeights: { '42': 0.1 } } });

      const text = await cli(['status'], db, table);
      const json = await cli(['status', '--json'], db, table);

      expect(text.stdout).toContain('alias:   SHIFTING (notes-prod-api:live): version 41 90%, version 42 10%');
      expect(JSON.parse(json.stdout).prod.alias).toEqual({
        functionName: 'notes-prod-api',
        version: '41',
        shifting: [
          { version: '41', weight: 0.9 },
          { version: '42', weight: 0.1 },
        ],
      });
      expect(lambda.commandCalls(GetAliasCommand).map((c) => c.args[0].input)).toEqual([
        { FunctionName: 'notes-prod-api', Name: 'live' },
        { FunctionName: 'notes-prod-api', Name: 'live' },
      ]);
    });

    test('a stack from before traffic shifting has no live alias: said, not fatal, and Lambda is not asked', async () => {
      const run = await cli(['status'], db, table);

      expect(run.code).toBe(0);
      expect(run.stdout).toContain('alias:   unknown (stack NotesStack-prod has no ApiFunctionName output (deployed before traffic shifting: no live alias))');
      expect(lambda.commandCalls(GetAliasCommand)).toHaveLength(0);
    });
  });

  test('a pipeline that does not exist: the others are shown, exit 3 names it', async () => {
    pipeline.on(GetPipelineStateCommand, { name: 'notes-hotfix' }).rejects(awsError('PipelineNotFoundException', 'no pipeline'));

    const run = await cli(['status'], db, table);

    expect(run.code).toBe(3);
    expect(run.stdout).toContain('Pipeline notes-hotfix: NOT FOUND in eu-west-1');
    expect(run.stdout).toContain('Pipeline notes-rollback');
    expect(run.stderr).toContain('error: Pipeline not found in eu-west-1: notes-hotfix');
  });

  test('expired credentials exit 5', async () => {
    pipeline.on(GetPipelineStateCommand).rejects(awsError('ExpiredTokenException', 'The security token included in the request is expired'));

    const run = await cli(['status'], db, table);

    expect(run.code).toBe(5);
    expect(run.stderr).toContain('hint: No usable AWS credentials.');
  });
});

describe('history', () => {
  test('lists releases and rollbacks newest first', async () => {
    await ledger.recordRollback(rollbackRecord('1.2.0', '1.1.0', '2026-11-24T10:30:00.000Z'));

    const run = await cli(['history'], db, table);

    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toContain('ROLLBACK  v1.2.0 -> v1.1.0  SUCCEEDED');
    expect(lines.slice(1).map((l) => l.match(/RELEASE\s+(v\S+)/)?.[1])).toEqual(['v1.2.0', 'v1.1.0', 'v1.0.0']);
  });

  test('--limit and --json', async () => {
    const run = await cli(['history', '--limit', '2', '--json'], db, table);

    const { entries } = JSON.parse(run.stdout);
    expect(entries.map((e: { kind: string; version: string }) => `${e.kind} ${e.version}`)).toEqual(['RELEASE 1.2.0', 'RELEASE 1.1.0']);
  });

  test('finds the ledger table from the NotesPipeline stack output when none is given', async () => {
    cloudformation.on(DescribeStacksCommand, { StackName: 'NotesPipeline' }).resolves({
      Stacks: [{ StackName: 'NotesPipeline', CreationTime: new Date(), StackStatus: 'UPDATE_COMPLETE', Outputs: [{ OutputKey: 'LedgerTableName', OutputValue: table }] }],
    });

    const run = await cli(['history', '--limit', '1'], db, undefined);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('RELEASE   v1.2.0');
  });

  test('without the output, exit 3 says how to name the table', async () => {
    cloudformation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'NotesPipeline', CreationTime: new Date(), StackStatus: 'UPDATE_COMPLETE', Outputs: [] }] });

    const run = await cli(['history'], db, undefined);

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('hint: Pass --ledger-table <name> or set NOTES_LEDGER_TABLE.');
  });

  test('a ledger table that does not exist exits 3', async () => {
    const run = await cli(['history'], db, 'no-such-table');

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('error: release ledger table no-such-table was not found');
  });

  test('a bad --limit is a usage error', async () => {
    const run = await cli(['history', '--limit', 'lots'], db, table);

    expect(run.code).toBe(2);
  });
});

describe('resume', () => {
  beforeEach(() => {
    pipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: 'rb-1', status: 'Succeeded' }] });
    pipeline.on(EnableStageTransitionCommand).resolves({});
  });

  test('re-enables the inbound transition into prod and says what had paused it', async () => {
    pipeline.on(GetPipelineStateCommand, { name: 'notes-release' }).resolves(releaseState(true, false));

    const run = await cli(['resume'], db, table);

    expect(run.code).toBe(0);
    expect(pipelineCalls()).toEqual(['ListPipelineExecutions', 'GetPipelineState', 'EnableStageTransition']);
    expect(pipeline.commandCalls(EnableStageTransitionCommand)[0].args[0].input).toEqual({ pipelineName: 'notes-release', stageName: 'Prod', transitionType: 'Inbound' });
    expect(run.stdout).toContain('They were paused: "Rollback to v1.1.0 - 5xx" by arn:aws:sts::123456789012:assumed-role/ops/bob');
  });

  test('when promotions are not paused it changes nothing', async () => {
    pipeline.on(GetPipelineStateCommand).resolves(releaseState(false, false));

    const run = await cli(['resume'], db, table);

    expect(run.code).toBe(0);
    expect(pipeline).toHaveReceivedCommandTimes(EnableStageTransitionCommand, 0);
    expect(run.stdout).toContain('are not paused; nothing to do');
  });

  test('a release pipeline without the prod stage exits 3 naming the stage, and enables nothing', async () => {
    pipeline.on(GetPipelineStateCommand, { name: 'notes-release' }).resolves(releaseState(true, false));

    const run = await cli(['resume', '--prod-stage', 'Production'], db, table);

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('error: Pipeline notes-release has no stage Production.');
    expect(run.stderr).toContain('hint: Pass the production stage name with --prod-stage.');
    expect(pipeline).toHaveReceivedCommandTimes(EnableStageTransitionCommand, 0);
  });

  test('refuses with exit 4 while a rollback runs, unless --force', async () => {
    pipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: 'rb-2', status: 'InProgress' }] });
    pipeline.on(GetPipelineStateCommand).resolves(releaseState(true, false));

    const refused = await cli(['resume'], db, table);
    const forced = await cli(['resume', '--force'], db, table);

    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('A rollback is still running (execution rb-2)');
    expect(forced.code).toBe(0);
    expect(pipeline).toHaveReceivedCommandTimes(EnableStageTransitionCommand, 1);
  });
});

describe('approve and reject', () => {
  beforeEach(() => {
    pipeline.on(PutApprovalResultCommand).resolves({ approvedAt: new Date() });
  });

  test('approve answers the waiting approval with its token and the comment', async () => {
    pipeline.on(GetPipelineStateCommand, { name: 'notes-release' }).resolves(releaseState(false, true));

    const run = await cli(['approve', '--comment', 'smoke green, reviewed'], db, table);

    expect(run.code).toBe(0);
    expect(pipelineCalls()).toEqual(['GetPipelineState', 'PutApprovalResult']);
    expect(pipeline.commandCalls(PutApprovalResultCommand)[0].args[0].input).toEqual({
      pipelineName: 'notes-release',
      stageName: 'ApproveProd',
      actionName: 'ApproveRelease',
      token: 'tok-1',
      result: { summary: 'smoke green, reviewed', status: 'Approved' },
    });
  });

  test('reject on the rollback pipeline', async () => {
    pipeline.on(GetPipelineStateCommand, { name: 'notes-rollback' }).resolves({
      stageStates: [{ stageName: 'Approve', actionStates: [{ actionName: 'OpsOwnerApproval', latestExecution: { status: 'InProgress', token: 'tok-rb' } }] }],
    });

    const run = await cli(['reject', '--pipeline', 'rollback', '--comment', 'wrong target'], db, table);

    expect(run.code).toBe(0);
    expect(pipeline).toHaveReceivedCommandWith(PutApprovalResultCommand, { pipelineName: 'notes-rollback', token: 'tok-rb', result: { summary: 'wrong target', status: 'Rejected' } });
  });

  test('nothing waiting exits 3', async () => {
    pipeline.on(GetPipelineStateCommand).resolves(releaseState(false, false));

    const run = await cli(['approve', '--comment', 'ok'], db, table);

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('error: No approval is waiting in notes-release.');
  });

  test('two approvals waiting need --action (exit 2), and --action picks one', async () => {
    pipeline.on(GetPipelineStateCommand, { name: 'notes-hotfix' }).resolves({
      stageStates: [
        {
          stageName: 'ApproveProd',
          actionStates: [
            { actionName: 'SeniorReview', latestExecution: { status: 'InProgress', token: 'tok-a' } },
            { actionName: 'OpsOwner', latestExecution: { status: 'InProgress', token: 'tok-b' } },
          ],
        },
      ],
    });

    const ambiguous = await cli(['approve', '--pipeline', 'hotfix', '--comment', 'ok'], db, table);
    const chosen = await cli(['approve', '--pipeline', 'hotfix', '--action', 'OpsOwner', '--comment', 'ok'], db, table);

    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('Several approvals are waiting in notes-hotfix: SeniorReview, OpsOwner.');
    expect(chosen.code).toBe(0);
    expect(pipeline).toHaveReceivedCommandWith(PutApprovalResultCommand, { actionName: 'OpsOwner', token: 'tok-b' });
  });

  test('an approval decided meanwhile exits 4', async () => {
    pipeline.on(GetPipelineStateCommand).resolves(releaseState(false, true));
    pipeline.on(PutApprovalResultCommand).rejects(awsError('ApprovalAlreadyCompletedException', 'already approved'));

    const run = await cli(['approve', '--comment', 'ok'], db, table);

    expect(run.code).toBe(4);
  });

  test('without --comment it is a usage error', async () => {
    const run = await cli(['reject'], db, table);

    expect(run.code).toBe(2);
    expect(pipelineCalls()).toEqual([]);
  });
});
