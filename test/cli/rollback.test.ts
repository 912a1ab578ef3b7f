import {
  ActionExecutionDetail,
  DisableStageTransitionCommand,
  GetPipelineExecutionCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import { GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { strToU8, zipSync } from 'fflate';
import 'aws-sdk-client-mock-jest';
import { ReleaseLedger } from '../../lib/release/ledger';
import { RunningDynalite, startDynalite } from '../support/dynalite';
import { ARCHIVE_BUCKET, newLedger, releaseRecord, sha256, threeReleases } from '../support/ledger';
import { awsError, captureIo, cli, cloudformation, OPERATOR, pipeline, pipelineCalls, resetMocks, s3, sts } from './support';

let db: RunningDynalite;
let ledger: ReleaseLedger;
let table: string;
const EXECUTION = 'rb-0001';
const LINK = `https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/notes-rollback/executions/${EXECUTION}/timeline?region=eu-west-1`;

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.stop();
});

beforeEach(async () => {
  resetMocks();
  ({ ledger, tableName: table } = await newLedger(db));
  await threeReleases(ledger);
  pipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: 'old', status: 'Succeeded' }] });
  pipeline.on(DisableStageTransitionCommand).resolves({});
  pipeline.on(StartPipelineExecutionCommand).resolves({ pipelineExecutionId: EXECUTION });
});

const startInput = () => pipeline.commandCalls(StartPipelineExecutionCommand)[0]?.args[0].input;

describe('rollback', () => {
  test('with --yes: checks no rollback runs, pauses prod promotions with the reason, starts the rollback pipeline with its variables', async () => {
    const run = await cli(['rollback', '--reason', '5xx: after 1.2.0', '--yes'], db, table);

    expect(run.code).toBe(0);
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
    expect(pipelineCalls()).toEqual(['ListPipelineExecutions', 'DisableStageTransition', 'StartPipelineExecution']);
    expect(pipeline).toHaveReceivedCommandWith(ListPipelineExecutionsCommand, { pipelineName: 'notes-rollback', maxResults: 20 });
    expect(pipeline.commandCalls(DisableStageTransitionCommand)[0].args[0].input).toEqual({
      pipelineName: 'notes-release',
      stageName: 'Prod',
      transitionType: 'Inbound',
      reason: 'Rollback to v1.1.0 - 5xx after 1.2.0',
    });
    expect(startInput()).toEqual({
      name: 'notes-rollback',
      variables: [
        { name: 'TARGET_VERSION', value: '1.1.0' },
        { name: 'REASON', value: '5xx: after 1.2.0' },
        { name: 'REQUESTED_BY', value: OPERATOR },
      ],
    });
    expect(run.stdout).toContain('Production (prod) runs v1.2.0 according to the release ledger.');
    expect(run.stdout).toContain('Target:       v1.1.0');
    expect(run.stdout).toContain(`Rollback started: execution ${EXECUTION}`);
    expect(run.stdout).toContain(LINK);
  });

  test('--to picks the version (with or without v)', async () => {
    const run = await cli(['rollback', '--to', 'v1.0.0', '--reason', 'bad migration', '--yes'], db, table);

    expect(run.code).toBe(0);
    expect(startInput()?.variables?.[0]).toEqual({ name: 'TARGET_VERSION', value: '1.0.0' });
  });

  test('an unknown version exits 3, names the released ones, and changes nothing', async () => {
    const run = await cli(['rollback', '--to', '9.9.9', '--reason', 'x', '--yes'], db, table);

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('error: Unknown version: v9.9.9 was never released (not in the release ledger); choose one of: v1.2.0, v1.1.0, v1.0.0');
    expect(run.stderr).toContain('hint: Run `history`');
    expect(pipeline).toHaveReceivedCommandTimes(DisableStageTransitionCommand, 0);
    expect(pipeline).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 0);
  });

  test('the version prod already runs exits 4', async () => {
    const run = await cli(['rollback', '--to', '1.2.0', '--reason', 'x', '--yes'], db, table);

    expect(run.code).toBe(4);
    expect(run.stderr).toContain('error: Prod already runs v1.2.0 according to the release ledger; nothing to roll back');
    expect(pipelineCalls()).toEqual([]);
  });

  test('a --to that is not a version is a usage error before any AWS call', async () => {
    const run = await cli(['rollback', '--to', 'latest', '--reason', 'x', '--yes'], db, table);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: --to "latest" is not a semantic version');
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 0);
  });

  test('without --reason it is a usage error', async () => {
    const run = await cli(['rollback', '--yes'], db, table);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: --reason is required');
    expect(pipelineCalls()).toEqual([]);
  });

  test('a rollback already running exits 4 naming it, and nothing is paused or started', async () => {
    pipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: 'rb-running', status: 'InProgress' }, { pipelineExecutionId: 'old', status: 'Failed' }] });

    const run = await cli(['rollback', '--reason', 'x', '--yes'], db, table);

    expect(run.code).toBe(4);
    expect(run.stderr).toContain('error: A rollback is already running: execution rb-running of notes-rollback.');
    expect(pipelineCalls()).toEqual(['ListPipelineExecutions']);
  });

  test('a rollback still stopping counts as running: exit 4, and nothing is paused or started', async () => {
    pipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: 'rb-stopping', status: 'Stopping' }] });

    const run = await cli(['rollback', '--reason', 'x', '--yes'], db, table);

    expect(run.code).toBe(4);
    expect(run.stderr).toContain('error: A rollback is already running: execution rb-stopping of notes-rollback.');
    expect(pipelineCalls()).toEqual(['ListPipelineExecutions']);
  });

  test('without a terminal and without --yes it refuses with exit 2 and says to pass --yes', async () => {
    const run = await cli(['rollback', '--reason', 'x'], db, table, { io: captureIo({ interactive: false }) });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: Refusing to roll back without confirmation: stdin is not a terminal.');
    expect(run.stderr).toContain('hint: Pass --yes to confirm non-interactively.');
    expect(pipelineCalls()).toEqual(['ListPipelineExecutions']);
  });

  test('in a terminal it asks, and "yes" goes ahead', async () => {
    const io = captureIo({ interactive: true, answers: ['yes'] });

    const run = await cli(['rollback', '--reason', 'x'], db, table, { io });

    expect(io.questions).toEqual(['Roll back prod to v1.1.0? Type "yes" to continue: ']);
    expect(run.code).toBe(0);
    expect(pipeline).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 1);
  });

  test('in a terminal, any other answer cancels with exit 1 and nothing changed', async () => {
    const run = await cli(['rollback', '--reason', 'x'], db, table, { io: captureIo({ interactive: true, answers: ['no'] }) });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: Rollback cancelled; nothing was changed.');
    expect(pipeline).toHaveReceivedCommandTimes(DisableStageTransitionCommand, 0);
  });

  test('missing credentials exit 5 with a hint, before anything else', async () => {
    sts.on(GetCallerIdentityCommand).rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));

    const run = await cli(['rollback', '--reason', 'x', '--yes'], db, table);

    expect(run.code).toBe(5);
    expect(run.stderr).toContain('error: AWS credentials: Could not load credentials from any providers');
    expect(run.stderr).toContain('hint: No usable AWS credentials. Sign in');
    expect(pipelineCalls()).toEqual([]);
  });

  test('a rollback pipeline that does not exist exits 3 with a hint', async () => {
    pipeline.on(ListPipelineExecutionsCommand).rejects(awsError('PipelineNotFoundException', 'Account 123456789012 does not have a pipeline with name notes-rollback'));

    const run = await cli(['rollback', '--reason', 'x', '--yes'], db, table);

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('error: pipeline notes-rollback was not found in region eu-west-1.');
    expect(run.stderr).toContain('--rollback-pipeline');
  });

  test('when the start fails after promotions were paused, the hint says they stay paused', async () => {
    pipeline.on(StartPipelineExecutionCommand).rejects(awsError('AccessDeniedException', 'not allowed: codepipeline:StartPipelineExecution'));

    const run = await cli(['rollback', '--reason', 'x', '--yes'], db, table);

    expect(run.code).toBe(5);
    expect(run.stderr).toContain('error: Could not start the rollback: Access denied on pipeline notes-rollback');
    expect(run.stderr).toContain('Promotions stay paused; run `resume` if you will not retry.');
  });

  test('--json prints the started execution as JSON on stdout', async () => {
    const run = await cli(['rollback', '--reason', 'x', '--yes', '--json'], db, table);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      executionId: EXECUTION,
      consoleUrl: LINK,
      fromVersion: '1.2.0',
      targetVersion: '1.1.0',
      reason: 'x',
      requestedBy: OPERATOR,
      pausedStage: 'Prod',
      status: 'InProgress',
    });
    expect(run.stderr).toContain('Rollback plan');
  });

  test('--json errors are JSON on stdout with the exit code name', async () => {
    const run = await cli(['rollback', '--to', '9.9.9', '--reason', 'x', '--yes', '--json'], db, table);

    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'NOT_FOUND', exitCode: 3, message: expect.stringContaining('v9.9.9 was never released') } });
  });
});

describe('rollback --wait', () => {
  const action = (stageName: string, actionName: string, status: string, summary?: string): ActionExecutionDetail => ({
    stageName,
    actionName,
    status,
    actionExecutionId: `${stageName}-1`,
    startTime: new Date(Date.UTC(2026, 10, 24, 10, ['Source', 'Resolve', 'Approve', 'Deploy', 'Verify', 'Record'].indexOf(stageName))),
    ...(summary ? { output: { executionResult: { externalExecutionSummary: summary } } } : {}),
  }) as ActionExecutionDetail;

  test('follows the execution with progress and exits 0 when it succeeds', async () => {
    pipeline
      .on(GetPipelineExecutionCommand, { pipelineName: 'notes-rollback', pipelineExecutionId: EXECUTION })
      .resolvesOnce({ pipelineExecution: { status: 'InProgress' } })
      .resolves({ pipelineExecution: { status: 'Succeeded' } });
    pipeline
      .on(ListActionExecutionsCommand)
      .resolvesOnce({ actionExecutionDetails: [action('Resolve', 'Resolve', 'Succeeded', 'Roll back prod from v1.2.0 to v1.1.0'), action('Approve', 'OpsOwnerApproval', 'InProgress')] })
      .resolves({
        actionExecutionDetails: [
          action('Resolve', 'Resolve', 'Succeeded', 'Roll back prod from v1.2.0 to v1.1.0'),
          action('Approve', 'OpsOwnerApproval', 'Succeeded'),
          action('Deploy', 'Deploy', 'Succeeded'),
          action('Verify', 'SmokeTest', 'Succeeded', 'prod: 11/11 checks passed'),
          action('Record', 'Record', 'Succeeded'),
        ],
      });

    const run = await cli(['rollback', '--reason', 'x', '--yes', '--wait', '--poll-seconds', '5'], db, table);

    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([5000]);
    expect(run.stdout).toContain('Resolve/Resolve: Succeeded - Roll back prod from v1.2.0 to v1.1.0');
    expect(run.stdout).toContain('Waiting for the ops owner: npm run release -- approve --pipeline rollback');
    expect(run.stdout).toContain('Verify/SmokeTest: Succeeded - prod: 11/11 checks passed');
    expect(run.stdout).toContain('Rollback succeeded: prod runs v1.1.0.');
    // Each action's line appears once per change, not once per poll.
    expect(run.stdout.match(/Resolve\/Resolve: Succeeded/g)).toHaveLength(1);
  });

  test('exits 1 naming the failed action when the execution fails', async () => {
    pipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Failed' } });
    pipeline.on(ListActionExecutionsCommand).resolves({
      actionExecutionDetails: [action('Resolve', 'Resolve', 'Succeeded'), action('Deploy', 'Deploy', 'Failed', 'Build terminated with state: FAILED')],
    });

    const run = await cli(['rollback', '--reason', 'x', '--yes', '--wait'], db, table);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: Rollback ${EXECUTION} Failed at Deploy/Deploy: Build terminated with state: FAILED.`);
    expect(run.stderr).toContain('Promotions stay paused.');
  });

  test('exits 1 when the execution is stopped, saying so and that promotions stay paused', async () => {
    let t = Date.UTC(2026, 10, 24, 10, 0);
    pipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Stopped' } });
    pipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [action('Resolve', 'Resolve', 'Succeeded'), action('Approve', 'OpsOwnerApproval', 'Abandoned')] });

    const run = await cli(['rollback', '--reason', 'x', '--yes', '--wait', '--timeout-minutes', '1'], db, table, {
      now: () => new Date((t += 20_000)),
    });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: Rollback ${EXECUTION} Stopped.`);
    expect(run.stderr).toContain('Promotions stay paused.');
    expect(run.sleeps).toEqual([]);
  });

  test('gives up waiting after --timeout-minutes with exit 1 (the rollback goes on)', async () => {
    let t = Date.UTC(2026, 10, 24, 10, 0);
    pipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'InProgress' } });
    pipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [] });

    const run = await cli(['rollback', '--reason', 'x', '--yes', '--wait', '--timeout-minutes', '1'], db, table, {
      now: () => new Date((t += 20_000)),
    });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is still InProgress after 1 minutes; stopped waiting (the rollback goes on).');
  });
});

describe('rollback: the plan summary before confirmation', () => {
  const template = (memory: number) => ({ Resources: { Fn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: memory } }, Table: { Type: 'AWS::DynamoDB::Table', Properties: { BillingMode: 'PAY_PER_REQUEST' } } } });
  const assemblyZip = Buffer.from(
    zipSync({
      'manifest.json': strToU8(JSON.stringify({ artifacts: { 'NotesStack-prod': { type: 'aws:cloudformation:stack', properties: { templateFile: 'NotesStack-prod.template.json' } } } })),
      'NotesStack-prod.template.json': strToU8(JSON.stringify(template(256))),
    }),
  );

  beforeEach(async () => {
    ({ ledger, tableName: table } = await newLedger(db));
    await ledger.recordRelease(releaseRecord('1.1.0', '2026-02-10T10:00:00.000Z', { artifact: { bucket: ARCHIVE_BUCKET, key: 'releases/v1.1.0/cloud-assembly.zip', sha256: sha256(assemblyZip), versionId: 'ver-1.1.0' } }));
    await ledger.recordRelease(releaseRecord('1.2.0', '2026-03-10T10:00:00.000Z'));
  });

  test('diffs the archived assembly against what prod runs and prints the summary before anything changes', async () => {
    s3.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => new Uint8Array(assemblyZip) } as unknown as GetObjectCommandOutput['Body'] });
    cloudformation.on(GetTemplateCommand).resolves({ TemplateBody: JSON.stringify(template(512)) });

    const run = await cli(['rollback', '--reason', 'errors since 1.2.0', '--yes'], db, table);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('  Prod plan:    plan: 0 added, 1 modified, 0 removed, 0 replaced; IAM: no changes');
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: ARCHIVE_BUCKET, Key: 'releases/v1.1.0/cloud-assembly.zip', VersionId: 'ver-1.1.0' });
    expect(cloudformation).toHaveReceivedCommandWith(GetTemplateCommand, { StackName: 'NotesStack-prod', TemplateStage: 'Original' });
    // The plan comes before the first change.
    expect(run.stdout.indexOf('Prod plan:')).toBeLessThan(run.stdout.indexOf('Rollback started'));
  });

  test('an archive that does not match the ledger\'s hash is said in the plan line', async () => {
    s3.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => new Uint8Array(Buffer.from('something else')) } as unknown as GetObjectCommandOutput['Body'] });

    const run = await cli(['rollback', '--reason', 'errors since 1.2.0', '--yes'], db, table);

    expect(run.stdout).toContain(`  Prod plan:    could not be worked out here (s3://${ARCHIVE_BUCKET}/releases/v1.1.0/cloud-assembly.zip has sha256 ${sha256(Buffer.from('something else'))}, the ledger recorded ${sha256(assemblyZip)})`);
  });

  test('no read access to the archive does not block an urgent rollback: the line says where the plan will be shown', async () => {
    s3.on(GetObjectCommand).rejects(awsError('AccessDenied', 'User is not authorized to perform s3:GetObject'));

    const run = await cli(['rollback', '--reason', 'errors since 1.2.0', '--yes'], db, table);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain("  Prod plan:    could not be worked out here (User is not authorized to perform s3:GetObject); the rollback's Plan step shows it before the approval");
    expect(pipeline).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 1);
  });
});
