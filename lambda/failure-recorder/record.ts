/**
 * Which prod stage events are a failed attempt, and the one ledger entry each gets.
 *
 * The events are "CodePipeline Stage Execution State Change" for the prod stage of the release and
 * hotfix pipelines, state FAILED or SUCCEEDED (the rule in lib/pipeline/failure-recorder.ts).
 * CodePipeline rolls a stage back by starting a new execution of type ROLLBACK that runs the stage
 * with the last successful execution's artifacts
 * (https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html), so:
 *
 * - the prod stage of a ROLLBACK execution ends (SUCCEEDED or FAILED): the stage rolled itself back
 *   (its deploy or smoke test failed, or its on-success condition, the service-health alarm, fired).
 *   The attempt is the newest standard execution that reached the prod stage before the rollback
 *   started. One that the ledger records as a release (an operator's stage rollback of a good
 *   release from the console) is not a failed attempt and is left alone.
 * - the prod stage of a STANDARD execution FAILED: if a stage rollback follows (CodePipeline can
 *   only roll back to an execution of the current pipeline structure), its end records the attempt
 *   with the rollback's times; so the recorder watches the stage for a while, and when no rollback
 *   starts it records the attempt with `rollback: null`.
 * - anything else (a prod stage that succeeded in a standard execution, other stages, other
 *   pipelines) is not a failed attempt.
 *
 * EventBridge delivers at least once; the entry is keyed by the failed execution's id and written
 * with a conditional put, so a redelivery, or both paths seeing the same attempt, write it once.
 */
import {
  ActionExecutionDetail,
  CodePipelineClient,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListPipelineExecutionsCommand,
  ListPipelineExecutionsCommandOutput,
  PipelineExecutionSummary,
} from '@aws-sdk/client-codepipeline';
import { COMMIT_TIMES_VARIABLE, parseCommitTimes } from '../../lib/release/commit-times';
import { listActionExecutions } from '../../lib/release/job';
import { FailedAttemptRecord, ReleaseLedger } from '../../lib/release/ledger';

export const STAGE_EVENT = 'CodePipeline Stage Execution State Change';

/** The part of the EventBridge event the recorder reads. */
export interface StageEvent {
  source?: string;
  'detail-type'?: string;
  time?: string;
  detail?: { pipeline?: string; 'execution-id'?: string; stage?: string; state?: string };
}

export interface FailureRecorderSettings {
  /** The pipelines whose prod attempts are recorded (release and hotfix). */
  pipelines: string[];
  prodStage: string;
  /** How often and how long a STANDARD failure waits for its stage rollback to start. */
  rollbackWait: { attempts: number; intervalMs: number };
}

export interface FailureRecorderDeps {
  codepipeline: CodePipelineClient;
  ledger: ReleaseLedger;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
}

export type Outcome =
  | { outcome: 'recorded' | 'already recorded'; record: FailedAttemptRecord }
  | { outcome: 'ignored' | 'deferred'; reason: string };

/** How many pipeline executions (newest first) the search for the rolled-back attempt reads. */
const MAX_EXECUTIONS_SEARCHED = 100;
const MAX_CANDIDATES = 10;
const MAX_MESSAGE = 1000;

const iso = (d: Date | undefined): string | undefined => d?.toISOString();

export async function recordFromEvent(deps: FailureRecorderDeps, settings: FailureRecorderSettings, event: StageEvent): Promise<Outcome> {
  const detail = event.detail ?? {};
  const pipelineName = detail.pipeline ?? '';
  const executionId = detail['execution-id'] ?? '';
  if (event.source !== 'aws.codepipeline' || event['detail-type'] !== STAGE_EVENT) return { outcome: 'ignored', reason: `not a ${STAGE_EVENT} event` };
  if (!settings.pipelines.includes(pipelineName)) return { outcome: 'ignored', reason: `pipeline ${pipelineName} is not a release or hotfix pipeline` };
  if (detail.stage !== settings.prodStage) return { outcome: 'ignored', reason: `stage ${detail.stage} is not the prod stage ${settings.prodStage}` };
  if (detail.state !== 'FAILED' && detail.state !== 'SUCCEEDED') return { outcome: 'ignored', reason: `stage state ${detail.state} is not an end` };
  if (!executionId) return { outcome: 'ignored', reason: 'the event names no execution' };
  const eventTime = event.time && !Number.isNaN(Date.parse(event.time)) ? new Date(event.time).toISOString() : deps.now().toISOString();

  const out = await deps.codepipeline.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: executionId }));
  const execution = out.pipelineExecution;
  if (execution?.executionType === 'ROLLBACK') {
    return recordRolledBack(deps, settings, pipelineName, executionId, detail.state === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED', eventTime);
  }
  if (detail.state === 'SUCCEEDED') return { outcome: 'ignored', reason: `execution ${executionId} passed ${settings.prodStage}; the Release stage records it` };

  // A standard execution's prod stage failed: wait for its stage rollback, if one is coming.
  for (let i = 0; i < settings.rollbackWait.attempts; i++) {
    const state = await deps.codepipeline.send(new GetPipelineStateCommand({ name: pipelineName }));
    const latest = state.stageStates?.find((s) => s.stageName === settings.prodStage)?.latestExecution;
    if (latest && latest.type === 'ROLLBACK' && latest.pipelineExecutionId !== executionId) {
      return { outcome: 'deferred', reason: `stage rollback ${latest.pipelineExecutionId} is under way; its end records attempt ${executionId}` };
    }
    if (latest && latest.pipelineExecutionId !== executionId) break; // another execution is in prod: no rollback of this one
    if (i < settings.rollbackWait.attempts - 1) await deps.sleep(settings.rollbackWait.intervalMs);
  }
  const actions = await listActionExecutions(deps.codepipeline, pipelineName, executionId);
  const record = attemptRecord(deps, settings, pipelineName, executionId, actions, { detectedAtFallback: eventTime, statusSummary: execution?.statusSummary, rollback: null });
  return { outcome: await deps.ledger.recordFailedAttempt(record), record };
}

async function recordRolledBack(
  deps: FailureRecorderDeps,
  settings: FailureRecorderSettings,
  pipelineName: string,
  rollbackExecutionId: string,
  rollbackOutcome: 'SUCCEEDED' | 'FAILED',
  finishedAt: string,
): Promise<Outcome> {
  const executions = await recentExecutions(deps.codepipeline, pipelineName);
  const rollback = executions.find((e) => e.pipelineExecutionId === rollbackExecutionId);
  if (!rollback?.startTime) throw new Error(`failure recorder: rollback execution ${rollbackExecutionId} is not among the ${MAX_EXECUTIONS_SEARCHED} newest executions of ${pipelineName}`);
  const candidates = executions
    .filter((e) => e.executionType !== 'ROLLBACK' && e.startTime && e.startTime.getTime() < rollback.startTime!.getTime())
    .sort((a, b) => b.startTime!.getTime() - a.startTime!.getTime())
    .slice(0, MAX_CANDIDATES);
  for (const candidate of candidates) {
    const actions = await listActionExecutions(deps.codepipeline, pipelineName, candidate.pipelineExecutionId!);
    if (!actions.some((a) => a.stageName === settings.prodStage)) continue;
    const released = (await deps.ledger.listReleases()).find((r) => r.pipelineExecutionId === candidate.pipelineExecutionId);
    if (released) {
      return {
        outcome: 'ignored',
        reason: `stage rollback ${rollbackExecutionId} took prod away from v${released.version}, a recorded release (a console rollback, not a failed attempt)`,
      };
    }
    const record = attemptRecord(deps, settings, pipelineName, candidate.pipelineExecutionId!, actions, {
      detectedAtFallback: rollback.startTime.toISOString(),
      statusSummary: candidate.statusSummary,
      rollback: { executionId: rollbackExecutionId, outcome: rollbackOutcome, finishedAt },
    });
    return { outcome: await deps.ledger.recordFailedAttempt(record), record };
  }
  throw new Error(`failure recorder: no standard execution of ${pipelineName} reached ${settings.prodStage} before stage rollback ${rollbackExecutionId}`);
}

async function recentExecutions(client: CodePipelineClient, pipelineName: string): Promise<PipelineExecutionSummary[]> {
  const all: PipelineExecutionSummary[] = [];
  let nextToken: string | undefined;
  do {
    const out: ListPipelineExecutionsCommandOutput = await client.send(new ListPipelineExecutionsCommand({ pipelineName, maxResults: 50, nextToken }));
    all.push(...(out.pipelineExecutionSummaries ?? []));
    nextToken = out.nextToken;
  } while (nextToken && all.length < MAX_EXECUTIONS_SEARCHED);
  return all;
}

function attemptRecord(
  deps: FailureRecorderDeps,
  settings: FailureRecorderSettings,
  pipelineName: string,
  executionId: string,
  actions: ActionExecutionDetail[],
  extra: { detectedAtFallback: string; statusSummary?: string; rollback: FailedAttemptRecord['rollback'] },
): FailedAttemptRecord {
  let version = 'unknown';
  let commit = 'unknown';
  let commitTimesRaw: string | undefined;
  for (const a of actions) {
    const vars = a.output?.outputVariables ?? {};
    if (vars.VERSION) version = vars.VERSION;
    if (vars.COMMIT) commit = vars.COMMIT;
    if (vars[COMMIT_TIMES_VARIABLE]) commitTimesRaw = vars[COMMIT_TIMES_VARIABLE];
  }
  // Oldest first: the last failed prod action is the one that stopped this run of the stage.
  const failed = actions.filter((a) => a.stageName === settings.prodStage && a.status === 'Failed').pop();
  const message = failed
    ? failed.output?.executionResult?.errorDetails?.message || failed.output?.executionResult?.externalExecutionSummary || extra.statusSummary || 'the action gave no message'
    : `every ${settings.prodStage} action succeeded; the stage's on-success condition (the service-health alarm watch) rolled it back` +
      (extra.statusSummary ? ` (${extra.statusSummary})` : '');
  const commitTimes = parseCommitTimes(commitTimesRaw);
  return {
    version,
    commit,
    pipelineName,
    pipelineExecutionId: executionId,
    stageName: settings.prodStage,
    failedAction: failed?.actionName ?? `${settings.prodStage} condition`,
    failureMessage: message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE - 3)}...`,
    detectedAt: iso(failed?.lastUpdateTime) ?? extra.detectedAtFallback,
    rollback: extra.rollback,
    recordedAt: deps.now().toISOString(),
    ...(commitTimes ? { commitTimes } : {}),
  };
}
