/**
 * Pipeline step "watch the prod alarms" (Lambda invoke action, last in the prod stage when prod is in
 * another account than the pipeline; see watch.ts). UserParameters:
 * `{"alarmNames":[...],"region":"eu-west-1","watchMinutes":10,"roleArn":"arn:aws:iam::<prod>:role/..."}`.
 * Each invocation reports its job exactly once: failed, passed, or in progress with a continuation
 * token (CodePipeline then invokes it again).
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { assumedRoleCredentials } from '../../lib/release/assumed-credentials';
import { jobOf, parseJsonParameters, reportFailure, reportSuccess } from '../../lib/release/job';
import { deployMode } from '../../lib/release/scripts/deploy-mode';
import { parseAlarmWatchParameters, parseToken, watchAlarms, type WatchOutcome } from './watch';

const codepipeline = new CodePipelineClient({});
/** One check a minute, and at most two minutes of checking per invocation (the function's timeout is three). */
export const POLL = { pollIntervalMs: 60_000, pollBudgetMs: 120_000 };
const clock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) };

function continuationTokenOf(event: unknown): string | undefined {
  const token = (event as { 'CodePipeline.job'?: { data?: { continuationToken?: unknown } } })['CodePipeline.job']?.data?.continuationToken;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

/** The handler's work, with the clock and the polling pace as parameters (tests run it on a fake clock). */
export async function handleJob(event: unknown, options: { clock?: typeof clock; poll?: typeof POLL; codepipeline?: CodePipelineClient } = {}): Promise<void> {
  const job = jobOf(event);
  if (!job) throw new Error('alarm-watch: not a CodePipeline job event');
  let outcome: WatchOutcome;
  try {
    const params = parseAlarmWatchParameters(parseJsonParameters(job.userParameters, 'alarm watch'));
    const now = (options.clock ?? clock).now();
    const continuation = continuationTokenOf(event);
    // A stage rollback re-runs this stage to put the previous release back. Its alarms may still be
    // in ALARM from the release being rolled back, and failing the rollback for that would leave
    // prod restored but the rollback reported failed: a rollback is not watched.
    if (!continuation && params.pipelineName && (await isStageRollback(options.codepipeline ?? codepipeline, params.pipelineName, params.executionId))) {
      return await report(job.id, { kind: 'passed', summary: 'alarm watch: stage rollback, the previous release is back; its alarms are not watched' }, options.codepipeline ?? codepipeline);
    }
    const token = parseToken(continuation, now);
    const cloudwatch = new CloudWatchClient({
      region: params.region,
      ...(params.roleArn ? { credentials: assumedRoleCredentials(params.roleArn, 'notes-alarm-watch', { region: params.region }) } : {}),
    });
    outcome = await watchAlarms(cloudwatch, params, token, options.clock ?? clock, options.poll ?? POLL);
  } catch (err) {
    outcome = { kind: 'failed', message: (err as Error).message };
  }
  await report(job.id, outcome, options.codepipeline ?? codepipeline);
}

async function isStageRollback(client: CodePipelineClient, pipelineName: string, executionId: string | undefined): Promise<boolean> {
  try {
    return (await deployMode(client, pipelineName, executionId)) === 'rollback';
  } catch (err) {
    throw new Error(`alarm watch: cannot tell whether execution ${executionId} of ${pipelineName} is a stage rollback: ${(err as Error).message}`);
  }
}

/** Reports the job exactly once; never throws (a Lambda retry would report the same job again). */
async function report(jobId: string, outcome: WatchOutcome, codepipeline: CodePipelineClient): Promise<void> {
  try {
    if (outcome.kind === 'failed') await reportFailure(codepipeline, jobId, outcome.message);
    else await reportSuccess(codepipeline, jobId, outcome.summary, undefined, outcome.kind === 'continue' ? outcome.token : undefined);
    console.log(JSON.stringify({ message: 'job reported', jobId, outcome: outcome.kind }));
  } catch (err) {
    console.log(JSON.stringify({ message: 'reporting the job failed', jobId, error: (err as Error).message }));
  }
}

export const handler = (event: unknown): Promise<void> => handleJob(event);
