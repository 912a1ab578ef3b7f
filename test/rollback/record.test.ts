import {
  ActionExecutionDetail,
  CodePipelineClient,
  GetPipelineExecutionCommand,
  ListActionExecutionsCommand,
  PipelineExecutionStatus,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../lambda/rollback-record/index';
import { ReleaseLedger } from '../../lib/release/ledger';
import { RunningDynalite, startDynalite } from '../support/dynalite';
import { newLedger, threeReleases } from '../support/ledger';

const pipeline = mockClient(CodePipelineClient);
const sns = mockClient(SNSClient);
const EXECUTION = 'rb-exec-9';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:notes-rollback';
const BOB = 'arn:aws:sts::123456789012:assumed-role/ops/bob';

let db: RunningDynalite;
let ledger: ReleaseLedger;

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.stop();
});

const jobEvent = () => ({
  'CodePipeline.job': { id: 'job-rec', data: { actionConfiguration: { configuration: { UserParameters: JSON.stringify({ executionId: EXECUTION }) } } } },
});
const stateChange = (state: string, pipelineName = 'notes-rollback') => ({
  source: 'aws.codepipeline',
  'detail-type': 'CodePipeline Pipeline Execution State Change',
  detail: { pipeline: pipelineName, 'execution-id': EXECUTION, state, version: 1 },
});

function run(stage: string, action: string, status: string, minute: number, extra: Partial<ActionExecutionDetail> = {}): ActionExecutionDetail {
  return { stageName: stage, actionName: action, status, startTime: new Date(Date.UTC(2026, 2, 11, 10, minute)), ...extra } as ActionExecutionDetail;
}
const resolved = run('Resolve', 'Resolve', 'Succeeded', 0, {
  output: { outputVariables: { TARGET_VERSION: '1.1.0', FROM_VERSION: '1.2.0', ARTIFACT_KEY: 'releases/v1.1.0/cloud-assembly.zip' } },
});

function execution(status: string, actions: ActionExecutionDetail[], variables: Record<string, string> = { TARGET_VERSION: 'previous', REASON: '5xx after 1.2.0', REQUESTED_BY: BOB }): void {
  pipeline.on(GetPipelineExecutionCommand, { pipelineName: 'notes-rollback', pipelineExecutionId: EXECUTION }).resolves({
    pipelineExecution: {
      status: status as PipelineExecutionStatus,
      variables: Object.entries(variables).map(([name, resolvedValue]) => ({ name, resolvedValue })),
      trigger: { triggerType: 'StartPipelineExecution', triggerDetail: BOB },
    },
  });
  pipeline.on(ListActionExecutionsCommand, { pipelineName: 'notes-rollback', filter: { pipelineExecutionId: EXECUTION } }).resolves({ actionExecutionDetails: actions });
}

function published(): { Subject?: string; Message?: string; TopicArn?: string } {
  const calls = sns.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  return calls[0].args[0].input;
}

beforeEach(async () => {
  pipeline.reset();
  sns.reset();
  pipeline.on(PutJobSuccessResultCommand).resolves({});
  pipeline.on(PutJobFailureResultCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  const created = await newLedger(db);
  ledger = created.ledger;
  await threeReleases(ledger);
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    PIPELINE_NAME: 'notes-rollback',
    RELEASE_PIPELINE_NAME: 'notes-release',
    LEDGER_TABLE: created.tableName,
    TOPIC_ARN: TOPIC,
    DYNAMODB_ENDPOINT: db.endpoint,
  });
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

describe('rollback Record step', () => {
  test('as the last action, writes a SUCCEEDED ROLLBACK entry, notifies, and prod is on the target per the ledger', async () => {
    execution('InProgress', [resolved, run('Approve', 'OpsOwnerApproval', 'Succeeded', 1), run('Deploy', 'Deploy', 'Succeeded', 2), run('Verify', 'SmokeTest', 'Succeeded', 9)]);

    await handler(jobEvent());

    expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 1);
    expect(pipeline).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 0);
    const [entry] = await ledger.listRollbacks();
    expect(entry).toMatchObject({ fromVersion: '1.2.0', toVersion: '1.1.0', reason: '5xx after 1.2.0', requestedBy: BOB, pipelineExecutionId: EXECUTION, outcome: 'SUCCEEDED' });
    expect(Date.parse(entry.recordedAt)).not.toBeNaN();
    expect(await ledger.currentVersion()).toBe('1.1.0');
    const message = published();
    expect(message.TopicArn).toBe(TOPIC);
    expect(message.Subject).toBe('Notes prod rolled back to v1.1.0');
    expect(message.Message).toContain('Prod was rolled back from v1.2.0 to v1.1.0');
    expect(message.Message).toContain('npm run release -- resume');
    expect(message.Message).toContain(`https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/notes-rollback/executions/${EXECUTION}/timeline?region=eu-west-1`);
  });

  test('the requester is who CodePipeline says started the execution, not what the variable claims', async () => {
    execution('InProgress', [resolved, run('Verify', 'SmokeTest', 'Succeeded', 9)], { TARGET_VERSION: 'previous', REASON: 'errors', REQUESTED_BY: 'arn:aws:iam::123456789012:user/someone-else' });

    await handler(jobEvent());

    const [entry] = await ledger.listRollbacks();
    expect(entry.requestedBy).toBe(BOB);
  });

  test('an execution that failed in Verify is recorded FAILED and prod stays on the release per the ledger', async () => {
    execution('Failed', [
      resolved,
      run('Deploy', 'Deploy', 'Succeeded', 2),
      run('Verify', 'SmokeTest', 'Failed', 9, { output: { executionResult: { externalExecutionSummary: 'health: expected version 1.1.0, got 1.2.0' } } }),
    ]);

    await handler(stateChange('FAILED'));

    const [entry] = await ledger.listRollbacks();
    expect(entry).toMatchObject({ fromVersion: '1.2.0', toVersion: '1.1.0', outcome: 'FAILED' });
    expect(await ledger.currentVersion()).toBe('1.2.0');
    const message = published();
    expect(message.Subject).toBe('Notes rollback to v1.1.0 FAILED');
    expect(message.Message).toContain('FAILED at Verify/SmokeTest: health: expected version 1.1.0, got 1.2.0');
  });

  test('an execution that failed after Verify passed (e.g. the first Record attempt) is recorded SUCCEEDED', async () => {
    execution('Failed', [resolved, run('Deploy', 'Deploy', 'Succeeded', 2), run('Verify', 'SmokeTest', 'Succeeded', 9), run('Record', 'Record', 'Failed', 10)]);

    await handler(stateChange('FAILED'));

    const [entry] = await ledger.listRollbacks();
    expect(entry.outcome).toBe('SUCCEEDED');
  });

  test('a Verify that failed, was retried and passed counts as passed: its latest run decides, whatever order CodePipeline lists runs in', async () => {
    // ListActionExecutions answers newest first.
    execution('Failed', [
      run('Record', 'Record', 'Failed', 13),
      run('Verify', 'SmokeTest', 'Succeeded', 12),
      run('Verify', 'SmokeTest', 'Failed', 9),
      run('Deploy', 'Deploy', 'Succeeded', 2),
      resolved,
    ]);

    await handler(stateChange('FAILED'));

    const [entry] = await ledger.listRollbacks();
    expect(entry.outcome).toBe('SUCCEEDED');
    expect(await ledger.currentVersion()).toBe('1.1.0');
  });

  test('reads every page of the action history before deciding the outcome', async () => {
    execution('Failed', []);
    const filter = { pipelineName: 'notes-rollback', filter: { pipelineExecutionId: EXECUTION } };
    pipeline
      .on(ListActionExecutionsCommand, { ...filter, nextToken: undefined })
      .resolves({ actionExecutionDetails: [resolved, run('Deploy', 'Deploy', 'Succeeded', 2)], nextToken: 'page-2' })
      .on(ListActionExecutionsCommand, { ...filter, nextToken: 'page-2' })
      .resolves({ actionExecutionDetails: [run('Verify', 'SmokeTest', 'Succeeded', 9), run('Record', 'Record', 'Failed', 10)] });

    await handler(stateChange('FAILED'));

    expect(pipeline.commandCalls(ListActionExecutionsCommand).map((c) => c.args[0].input)).toEqual([
      { ...filter, nextToken: undefined },
      { ...filter, nextToken: 'page-2' },
    ]);
    const [entry] = await ledger.listRollbacks();
    expect(entry.outcome).toBe('SUCCEEDED');
  });

  test('an execution an operator stopped is recorded FAILED and announced', async () => {
    execution('Stopped', [resolved, run('Approve', 'OpsOwnerApproval', 'Succeeded', 1), run('Deploy', 'Deploy', 'Abandoned', 2)]);

    await handler(stateChange('STOPPED'));

    const [entry] = await ledger.listRollbacks();
    expect(entry).toMatchObject({ fromVersion: '1.2.0', toVersion: '1.1.0', pipelineExecutionId: EXECUTION, outcome: 'FAILED' });
    expect(await ledger.currentVersion()).toBe('1.2.0');
    expect(published().Subject).toBe('Notes rollback to v1.1.0 FAILED');
  });

  test('when no operator started the execution, the requester is the REQUESTED_BY variable, not the trigger', async () => {
    pipeline.on(GetPipelineExecutionCommand).resolves({
      pipelineExecution: {
        status: 'InProgress',
        variables: [
          { name: 'TARGET_VERSION', resolvedValue: 'previous' },
          { name: 'REASON', resolvedValue: 'alarm' },
          { name: 'REQUESTED_BY', resolvedValue: BOB },
        ],
        trigger: { triggerType: 'CloudWatchEvent', triggerDetail: 'arn:aws:events:eu-west-1:123456789012:rule/notes-rollback-on-alarm' },
      },
    });
    pipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [resolved, run('Verify', 'SmokeTest', 'Succeeded', 9)] });

    await handler(jobEvent());

    const [entry] = await ledger.listRollbacks();
    expect(entry.requestedBy).toBe(BOB);
  });

  test('both paths for one execution leave one ledger entry', async () => {
    execution('InProgress', [resolved, run('Verify', 'SmokeTest', 'Succeeded', 9)]);

    await handler(jobEvent());
    await handler(stateChange('FAILED'));

    expect(await ledger.listRollbacks()).toHaveLength(1);
  });

  test('an execution that failed in Resolve writes no ledger entry but tells people why', async () => {
    execution('Failed', [
      run('Resolve', 'Resolve', 'Failed', 0, { output: { executionResult: { externalExecutionSummary: 'rollback: resolve: v9.9.9 was never released' } } }),
    ]);

    await handler(stateChange('FAILED'));

    expect(await ledger.listRollbacks()).toEqual([]);
    const message = published();
    expect(message.Subject).toBe('Notes rollback did not start: no target resolved');
    expect(message.Message).toContain('Why: rollback: resolve: v9.9.9 was never released');
  });

  test('the failed run CodePipeline starts by itself on creation is neither recorded nor announced', async () => {
    pipeline.on(GetPipelineExecutionCommand).resolves({
      pipelineExecution: { status: 'Failed', variables: [{ name: 'REASON', resolvedValue: 'none given' }], trigger: { triggerType: 'CreatePipeline' } },
    });
    pipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [run('Resolve', 'Resolve', 'Failed', 0)] });

    await handler(stateChange('FAILED'));

    expect(await ledger.listRollbacks()).toEqual([]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  test('state changes of other pipelines, or of running executions, are ignored', async () => {
    await handler(stateChange('FAILED', 'notes-release'));
    await handler(stateChange('STARTED'));

    expect(pipeline).toHaveReceivedCommandTimes(GetPipelineExecutionCommand, 0);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  test('when the notification cannot be sent after the ledger write, the job fails once naming it', async () => {
    execution('InProgress', [resolved, run('Verify', 'SmokeTest', 'Succeeded', 9)]);
    sns.on(PublishCommand).rejects(new Error('KMS key disabled'));

    await handler(jobEvent());

    const calls = pipeline.commandCalls(PutJobFailureResultCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input.failureDetails?.message).toBe('rollback: record: could not send the notification: KMS key disabled');
    expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 0);
    expect(await ledger.listRollbacks()).toHaveLength(1);
  });

  test('an event that is neither a job nor a state change is refused', async () => {
    await expect(handler({ hello: 'world' })).rejects.toThrow('rollback-record: neither a CodePipeline job nor an execution state change event');
  });
});
