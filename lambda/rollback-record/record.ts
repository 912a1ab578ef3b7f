/**
 * The rollback pipeline's Record step: a ROLLBACK entry in the release ledger and a notification.
 *
 * It runs two ways. As the last action of a successful execution (outcome SUCCEEDED). And from an
 * EventBridge rule when an execution ends FAILED or STOPPED, because a failed pipeline never reaches
 * its last stage: the outcome is then SUCCEEDED only if the Verify step passed (prod runs the
 * target; something after it failed, e.g. this step's first attempt) and FAILED otherwise. The
 * ledger write is idempotent per execution, so both paths may run for one execution.
 */
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  CREATED_PIPELINE_TRIGGER,
  executionConsoleUrl,
  latestRun,
  readExecution,
  resolvedTarget,
  ROLLBACK_STAGES,
  ROLLBACK_VARIABLES,
  UNKNOWN_REQUESTER,
} from '../../lib/release/rollback-execution';
import { ReleaseLedger, RollbackRecord } from '../../lib/release/ledger';

export interface RecordDeps {
  codepipeline: CodePipelineClient;
  sns: SNSClient;
  ledger: ReleaseLedger;
  now: () => Date;
}

export interface RecordSettings {
  pipelineName: string;
  /** The release pipeline whose prod promotions a rollback pauses (named in the notification). */
  releasePipelineName: string;
  topicArn: string;
  region: string;
}

export type RecordTrigger = 'pipeline-action' | 'execution-ended';

export interface RecordResult {
  summary: string;
  record?: RollbackRecord;
}

function step(message: string): Error {
  return new Error(`rollback: record: ${message}`);
}

/** Records and announces one execution of the rollback pipeline. */
export async function recordRollback(deps: RecordDeps, settings: RecordSettings, executionId: string, trigger: RecordTrigger): Promise<RecordResult> {
  if (!executionId) throw step('no pipeline execution id');
  const execution = await readExecution(deps.codepipeline, settings.pipelineName, executionId).catch((err: Error) => {
    throw step(`could not read execution ${executionId} of ${settings.pipelineName}: ${err.message}`);
  });
  const link = executionConsoleUrl(settings.region, settings.pipelineName, executionId);
  const reason = execution.variables[ROLLBACK_VARIABLES.reason] ?? '';
  const requestedVariable = execution.variables[ROLLBACK_VARIABLES.requestedBy];
  const requestedBy = execution.startedBy ?? (requestedVariable && requestedVariable !== UNKNOWN_REQUESTER ? requestedVariable : UNKNOWN_REQUESTER);
  const target = resolvedTarget(execution.actions);

  if (!target && execution.triggerType === CREATED_PIPELINE_TRIGGER) {
    // The run CodePipeline starts on creation: Resolve refused it; nobody asked, nobody to tell.
    return { summary: 'Ignored the execution CodePipeline started when the pipeline was created' };
  }
  if (!target) {
    // Nothing was resolved, so nothing was deployed: no ledger entry, but people asked for a rollback.
    const resolveRun = latestRun(execution.actions, ROLLBACK_STAGES.resolve);
    const why = resolveRun?.output?.executionResult?.externalExecutionSummary ?? `execution ${execution.status.toLowerCase()} before a target version was resolved`;
    const subject = 'Notes rollback did not start: no target resolved';
    const message = [
      `Rollback execution ${executionId} ended ${execution.status} before a target version was resolved; prod was not changed.`,
      `Why: ${why}`,
      `Reason given: ${reason || '(none)'}`,
      `Requested by: ${requestedBy}`,
      `Execution: ${link}`,
      `Promotions of ${settings.releasePipelineName} may still be paused; resume them with: npm run release -- resume`,
    ].join('\n');
    await publish(deps, settings, subject, message);
    return { summary: `No ledger entry: ${why}` };
  }

  const verify = latestRun(execution.actions, ROLLBACK_STAGES.verify);
  const outcome: RollbackRecord['outcome'] = trigger === 'pipeline-action' || verify?.status === 'Succeeded' ? 'SUCCEEDED' : 'FAILED';
  const record: RollbackRecord = {
    fromVersion: target.FROM_VERSION,
    toVersion: target.TARGET_VERSION,
    reason,
    requestedBy,
    pipelineExecutionId: executionId,
    recordedAt: deps.now().toISOString(),
    outcome,
  };
  try {
    await deps.ledger.recordRollback(record);
  } catch (err) {
    throw step(`could not write the ledger entry: ${(err as Error).message}`);
  }

  const failedAt = execution.actions.filter((a) => a.status === 'Failed').pop();
  const subject =
    outcome === 'SUCCEEDED'
      ? `Notes prod rolled back to v${record.toVersion}`
      : `Notes rollback to v${record.toVersion} FAILED`;
  const lines = [
    outcome === 'SUCCEEDED'
      ? `Prod was rolled back from v${record.fromVersion} to v${record.toVersion} and its smoke test passed.`
      : `The rollback of prod from v${record.fromVersion} to v${record.toVersion} FAILED${failedAt ? ` at ${failedAt.stageName}/${failedAt.actionName}: ${failedAt.output?.executionResult?.externalExecutionSummary ?? 'see the execution'}` : ''}. Prod may still run v${record.fromVersion}; check npm run release -- status and follow docs/runbooks/rollback.md (escalate).`,
    `Reason: ${reason}`,
    `Requested by: ${requestedBy}`,
    `Execution: ${executionId} ${link}`,
    `Promotions of ${settings.releasePipelineName} stay paused until the fix is ready: npm run release -- resume`,
  ];
  await publish(deps, settings, subject, lines.join('\n'));
  return { summary: `Recorded ROLLBACK v${record.fromVersion} -> v${record.toVersion} (${outcome}) and notified`, record };
}

async function publish(deps: RecordDeps, settings: RecordSettings, subject: string, message: string): Promise<void> {
  try {
    await deps.sns.send(new PublishCommand({ TopicArn: settings.topicArn, Subject: subject.slice(0, 100), Message: message }));
  } catch (err) {
    throw step(`could not send the notification: ${(err as Error).message}`);
  }
}
