/**
 * The failure recorder with EventBridge event fixtures: CodePipeline behind aws-sdk-client-mock
 * (the calls asserted), the release ledger for real on dynalite.
 */
import {
  ActionExecutionDetail,
  ActionExecutionStatus,
  CodePipelineClient,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  PipelineExecutionStatus,
  PipelineExecutionSummary,
} from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../lambda/failure-recorder/index';
import { FailureRecorderSettings, recordFromEvent, StageEvent } from '../../lambda/failure-recorder/record';
import { ReleaseLedger } from '../../lib/release/ledger';
import { waitForActive } from '../support/active';
import { RunningDynalite, startDynalite } from '../support/dynalite';
import { releaseRecord } from '../support/ledger';

const pipeline = mockClient(CodePipelineClient);
let db: RunningDynalite;
let ledger: ReleaseLedger;
let table: string;
let sleeps: number[];

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.stop();
});

const PREVIOUS = 'cccccccc-0000-4000-8000-000000000000';
const FAILED = 'aaaaaaaa-0000-4000-8000-000000000001';
const BUILD_FAILED = 'dddddddd-0000-4000-8000-000000000003';
const ROLLBACK = 'bbbbbbbb-0000-4000-8000-000000000002';
const COMMIT = 'c0ffee1234567890c0ffee1234567890c0ffee12';
const COMMIT_TIMES = { releaseCommitAt: '2026-11-30T16:00:00.000Z', commits: ['2026-11-30T16:00:00.000Z', '2026-11-29T10:00:00.000Z'], truncated: false };
const SMOKE_FAILURE = 'smoke: 10/11 checks passed; GET /notes/{id} answered 500';

const settings: FailureRecorderSettings = { pipelines: ['notes-release', 'notes-hotfix'], prodStage: 'Prod', rollbackWait: { attempts: 3, intervalMs: 15_000 } };

function stageEvent(executionId: string, state: string, overrides: { stage?: string; pipeline?: string; time?: string } = {}): StageEvent {
  return {
    source: 'aws.codepipeline',
    'detail-type': 'CodePipeline Stage Execution State Change',
    time: overrides.time ?? '2026-12-01T10:12:00Z',
    detail: { pipeline: overrides.pipeline ?? 'notes-release', 'execution-id': executionId, stage: overrides.stage ?? 'Prod', state },
  };
}

const at = (hhmm: string) => new Date(`2026-12-01T${hhmm}:00Z`);
const action = (stageName: string, actionName: string, status: ActionExecutionStatus, start: string, extra: Partial<ActionExecutionDetail> = {}): ActionExecutionDetail => ({
  stageName,
  actionName,
  status,
  startTime: at(start),
  lastUpdateTime: at(start),
  ...extra,
});

/** The attempt: built 1.3.0, passed Dev, approved, and failed its prod smoke test at 10:04. */
function attemptActions(prod: 'smoke fails' | 'alarm fires', withTimes = true): ActionExecutionDetail[] {
  return [
    action('Build', 'Build', 'Succeeded', '09:00', {
      output: { outputVariables: { VERSION: '1.3.0', COMMIT, CHANGE_SUMMARY: '2 commits', PR_URL: 'none', ...(withTimes ? { COMMIT_TIMES: JSON.stringify(COMMIT_TIMES) } : {}) } },
    }),
    action('Dev', 'SmokeTest', 'Succeeded', '09:20'),
    action('ApproveProd', 'ApproveRelease', 'Succeeded', '09:40'),
    action('Prod', 'BackupCheck', 'Succeeded', '10:00'),
    action('Prod', 'Deploy', 'Succeeded', '10:01'),
    prod === 'smoke fails'
      ? action('Prod', 'SmokeTest', 'Failed', '10:03', { lastUpdateTime: new Date('2026-12-01T10:04:30Z'), output: { executionResult: { errorDetails: { code: 'JobFailed', message: SMOKE_FAILURE } } } })
      : action('Prod', 'SmokeTest', 'Succeeded', '10:03'),
  ];
}

const summaries: PipelineExecutionSummary[] = [
  { pipelineExecutionId: ROLLBACK, status: 'Succeeded', executionType: 'ROLLBACK', startTime: at('10:05'), trigger: { triggerType: 'AutomatedRollback' }, rollbackMetadata: { rollbackTargetPipelineExecutionId: PREVIOUS } },
  // Queued behind the attempt and refused by its build: it never reached Prod.
  { pipelineExecutionId: BUILD_FAILED, status: 'Failed', executionType: 'STANDARD', startTime: at('09:30') },
  { pipelineExecutionId: FAILED, status: 'Failed', executionType: 'STANDARD', startTime: at('08:55'), statusSummary: 'Stage Prod failed' },
  { pipelineExecutionId: PREVIOUS, status: 'Succeeded', executionType: 'STANDARD', startTime: at('07:00') },
];

function controlPlane(prod: 'smoke fails' | 'alarm fires' = 'smoke fails', rollbackStatus: PipelineExecutionStatus = 'Succeeded', withTimes = true): void {
  pipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: ROLLBACK }).resolves({ pipelineExecution: { pipelineExecutionId: ROLLBACK, executionType: 'ROLLBACK', status: rollbackStatus } });
  pipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: FAILED }).resolves({ pipelineExecution: { pipelineExecutionId: FAILED, executionType: 'STANDARD', status: 'Failed' } });
  pipeline.on(GetPipelineExecutionCommand, { pipelineExecutionId: PREVIOUS }).resolves({ pipelineExecution: { pipelineExecutionId: PREVIOUS, executionType: 'STANDARD', status: 'Succeeded' } });
  pipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: summaries });
  pipeline.on(ListActionExecutionsCommand, { filter: { pipelineExecutionId: FAILED } }).resolves({ actionExecutionDetails: attemptActions(prod, withTimes) });
  pipeline.on(ListActionExecutionsCommand, { filter: { pipelineExecutionId: BUILD_FAILED } }).resolves({ actionExecutionDetails: [action('Build', 'Build', 'Failed', '09:30')] });
  pipeline.on(ListActionExecutionsCommand, { filter: { pipelineExecutionId: PREVIOUS } }).resolves({ actionExecutionDetails: [action('Prod', 'SmokeTest', 'Succeeded', '07:30')] });
}

const deps = () => ({ codepipeline: new CodePipelineClient({ region: 'eu-west-1' }), ledger, now: () => new Date('2026-12-01T10:12:05.000Z'), sleep: async (ms: number) => void sleeps.push(ms) });

beforeEach(async () => {
  pipeline.reset();
  sleeps = [];
  table = await db.createLedgerTable();
  await waitForActive(db.client, table);
  ledger = new ReleaseLedger(db.documentClient, table);
  await ledger.recordRelease(releaseRecord('1.2.0', '2026-12-01T07:40:00.000Z', { pipelineExecutionId: PREVIOUS }));
});

const expectedRecord = {
  version: '1.3.0',
  commit: COMMIT,
  pipelineName: 'notes-release',
  pipelineExecutionId: FAILED,
  stageName: 'Prod',
  failedAction: 'SmokeTest',
  failureMessage: SMOKE_FAILURE,
  detectedAt: '2026-12-01T10:04:30.000Z',
  rollback: { executionId: ROLLBACK, outcome: 'SUCCEEDED', finishedAt: '2026-12-01T10:12:00.000Z' },
  recordedAt: '2026-12-01T10:12:05.000Z',
  commitTimes: COMMIT_TIMES,
};

describe('which executions count', () => {
  test('the end of a stage rollback records the attempt it rolled back: version, commit, failed action and message, detection and rollback times', async () => {
    controlPlane();

    const result = await recordFromEvent(deps(), settings, stageEvent(ROLLBACK, 'SUCCEEDED'));

    expect(result).toEqual({ outcome: 'recorded', record: expectedRecord });
    expect(await ledger.listFailedAttempts()).toEqual([expectedRecord]);
    expect(pipeline).toHaveReceivedCommandWith(GetPipelineExecutionCommand, { pipelineName: 'notes-release', pipelineExecutionId: ROLLBACK });
    expect(pipeline).toHaveReceivedCommandWith(ListPipelineExecutionsCommand, { pipelineName: 'notes-release' });
    // The newer execution that failed in Build is looked at and passed over; the attempt is the one that reached Prod.
    expect(pipeline.commandCalls(ListActionExecutionsCommand).map((c) => c.args[0].input.filter?.pipelineExecutionId)).toEqual([BUILD_FAILED, FAILED]);
  });

  test('a stage rolled back by its on-success condition (the alarm) names the condition; detection is the rollback start', async () => {
    controlPlane('alarm fires');

    const result = await recordFromEvent(deps(), settings, stageEvent(ROLLBACK, 'SUCCEEDED'));

    expect(result.outcome).toBe('recorded');
    expect(await ledger.listFailedAttempts()).toEqual([
      {
        ...expectedRecord,
        failedAction: 'Prod condition',
        failureMessage: "every Prod action succeeded; the stage's on-success condition (the service-health alarm watch) rolled it back (Stage Prod failed)",
        detectedAt: '2026-12-01T10:05:00.000Z',
      },
    ]);
  });

  test('a stage rollback that itself failed is recorded with outcome FAILED', async () => {
    controlPlane('smoke fails', 'Failed');

    await recordFromEvent(deps(), settings, stageEvent(ROLLBACK, 'FAILED'));

    expect((await ledger.listFailedAttempts())[0].rollback).toEqual({ executionId: ROLLBACK, outcome: 'FAILED', finishedAt: '2026-12-01T10:12:00.000Z' });
  });

  test('a failed prod stage whose rollback is under way is left to the rollback: nothing written yet', async () => {
    controlPlane();
    pipeline.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'Prod', latestExecution: { pipelineExecutionId: ROLLBACK, status: 'InProgress', type: 'ROLLBACK' } }] });

    const result = await recordFromEvent(deps(), settings, stageEvent(FAILED, 'FAILED', { time: '2026-12-01T10:04:31Z' }));

    expect(result).toEqual({ outcome: 'deferred', reason: `stage rollback ${ROLLBACK} is under way; its end records attempt ${FAILED}` });
    expect(await ledger.listFailedAttempts()).toEqual([]);
    expect(pipeline).toHaveReceivedCommandWith(GetPipelineStateCommand, { name: 'notes-release' });
  });

  test('a failed prod stage that is never rolled back (no earlier success in this pipeline structure) is recorded without a rollback after the wait', async () => {
    controlPlane();
    pipeline.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'Prod', latestExecution: { pipelineExecutionId: FAILED, status: 'Failed', type: 'STANDARD' } }] });

    const result = await recordFromEvent(deps(), settings, stageEvent(FAILED, 'FAILED', { time: '2026-12-01T10:04:31Z' }));

    expect(result.outcome).toBe('recorded');
    expect(sleeps).toEqual([15_000, 15_000]);
    expect(pipeline).toHaveReceivedCommandTimes(GetPipelineStateCommand, 3);
    expect(await ledger.listFailedAttempts()).toEqual([{ ...expectedRecord, rollback: null }]);
  });

  test('a standard execution that passed Prod is not a failed attempt (the Release stage records it)', async () => {
    controlPlane();

    const result = await recordFromEvent(deps(), settings, stageEvent(PREVIOUS, 'SUCCEEDED'));

    expect(result).toEqual({ outcome: 'ignored', reason: `execution ${PREVIOUS} passed Prod; the Release stage records it` });
    expect(pipeline.commandCalls(GetPipelineExecutionCommand)).toHaveLength(1);
    expect(pipeline).toHaveReceivedCommandTimes(ListActionExecutionsCommand, 0);
    expect(await ledger.listFailedAttempts()).toEqual([]);
  });

  test.each([
    ['another stage', stageEvent(FAILED, 'FAILED', { stage: 'Dev' }), 'stage Dev is not the prod stage Prod'],
    ['another pipeline', stageEvent(FAILED, 'FAILED', { pipeline: 'notes-rollback' }), 'pipeline notes-rollback is not a release or hotfix pipeline'],
    ['a stage that only started', stageEvent(FAILED, 'STARTED'), 'stage state STARTED is not an end'],
    ['another detail type', { ...stageEvent(FAILED, 'FAILED'), 'detail-type': 'CodePipeline Action Execution State Change' }, 'not a CodePipeline Stage Execution State Change event'],
  ])('%s is ignored without any AWS call', async (_name, event, reason) => {
    const result = await recordFromEvent(deps(), settings, event);

    expect(result).toEqual({ outcome: 'ignored', reason });
    expect(pipeline.calls()).toHaveLength(0);
  });

  test('an operator\'s console stage rollback of a recorded release is not a failed attempt', async () => {
    controlPlane();
    pipeline.on(ListPipelineExecutionsCommand).resolves({
      pipelineExecutionSummaries: [{ ...summaries[0], trigger: { triggerType: 'ManualRollback', triggerDetail: 'arn:aws:sts::123456789012:assumed-role/ops/bob' } }, summaries[3]],
    });

    const result = await recordFromEvent(deps(), settings, stageEvent(ROLLBACK, 'SUCCEEDED'));

    expect(result).toEqual({ outcome: 'ignored', reason: `stage rollback ${ROLLBACK} took prod away from v1.2.0, a recorded release (a console rollback, not a failed attempt)` });
    expect(await ledger.listFailedAttempts()).toEqual([]);
  });

  test('an attempt built before commit times existed is recorded without them', async () => {
    controlPlane('smoke fails', 'Succeeded', false);

    await recordFromEvent(deps(), settings, stageEvent(ROLLBACK, 'SUCCEEDED'));

    const [record] = await ledger.listFailedAttempts();
    expect(record.version).toBe('1.3.0');
    expect(record).not.toHaveProperty('commitTimes');
  });
});

describe('idempotent on redelivery', () => {
  test('the same event delivered twice writes one entry, unchanged by the second delivery', async () => {
    controlPlane();
    await recordFromEvent(deps(), settings, stageEvent(ROLLBACK, 'SUCCEEDED'));

    const again = await recordFromEvent({ ...deps(), now: () => new Date('2026-12-01T11:00:00.000Z') }, settings, stageEvent(ROLLBACK, 'SUCCEEDED'));

    expect(again.outcome).toBe('already recorded');
    expect(await ledger.listFailedAttempts()).toEqual([expectedRecord]);
  });

  test('the attempt recorded without a rollback and then seen again through a late rollback stays one entry', async () => {
    controlPlane();
    pipeline.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'Prod', latestExecution: { pipelineExecutionId: FAILED, status: 'Failed', type: 'STANDARD' } }] });
    await recordFromEvent(deps(), settings, stageEvent(FAILED, 'FAILED'));

    const late = await recordFromEvent(deps(), settings, stageEvent(ROLLBACK, 'SUCCEEDED'));

    expect(late.outcome).toBe('already recorded');
    expect((await ledger.listFailedAttempts()).map((r) => r.pipelineExecutionId)).toEqual([FAILED]);
  });
});

describe('the Lambda handler', () => {
  test('reads its settings from the environment and writes to the ledger table it names', async () => {
    controlPlane();
    Object.assign(process.env, {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      PIPELINE_NAMES: 'notes-release,notes-hotfix',
      PROD_STAGE: 'Prod',
      LEDGER_TABLE: table,
      DYNAMODB_ENDPOINT: db.endpoint,
      ROLLBACK_WAIT_SECONDS: '0',
    });
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);

    await handler(stageEvent(ROLLBACK, 'SUCCEEDED'));

    expect((await ledger.listFailedAttempts()).map((r) => [r.version, r.failedAction, r.rollback?.outcome])).toEqual([['1.3.0', 'SmokeTest', 'SUCCEEDED']]);
    expect(JSON.parse(String(log.mock.calls[0][0]))).toMatchObject({ message: 'failure recorder: recorded', attempt: FAILED, version: '1.3.0' });
    log.mockRestore();
  });
});
