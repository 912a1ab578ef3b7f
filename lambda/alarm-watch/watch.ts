/**
 * The prod alarm watch, for a prod environment in another account than the pipeline: CodePipeline's
 * CloudWatchAlarm rule names an alarm only by name, read in the pipeline's own account, so it cannot
 * watch prod's alarms there (see the decision log, #11). This step reads them itself, as prod's
 * read-only release role, for the watch period after the smoke test; any alarm in ALARM fails the
 * step, and the prod stage's onFailure rolls the release back, as the rule would have.
 *
 * A long watch runs as one Lambda invoke action over several invocations: each one checks for up
 * to `pollBudgetMs`, then reports the job in progress with a continuation token holding when the
 * watch started, and CodePipeline invokes the function again with that token.
 */
import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';

export interface AlarmWatchParameters {
  alarmNames: string[];
  region: string;
  watchMinutes: number;
  /** Prod's read-only release role (the watch reads prod's alarms as that role). */
  roleArn?: string;
  /** This pipeline and execution: a stage rollback is not watched (see index.ts). */
  pipelineName?: string;
  executionId?: string;
}

export function parseAlarmWatchParameters(p: Record<string, unknown>): AlarmWatchParameters {
  const { alarmNames, region, watchMinutes, roleArn, pipelineName, executionId } = p;
  if (!Array.isArray(alarmNames) || alarmNames.length === 0 || alarmNames.some((n) => typeof n !== 'string' || n === '')) {
    throw new Error('alarm watch: UserParameters.alarmNames must be a non-empty list of alarm names');
  }
  if (alarmNames.length > 100) throw new Error('alarm watch: UserParameters.alarmNames may name at most 100 alarms (DescribeAlarms)');
  if (typeof region !== 'string' || region === '') throw new Error('alarm watch: UserParameters.region is missing');
  if (typeof watchMinutes !== 'number' || !Number.isInteger(watchMinutes) || watchMinutes < 1 || watchMinutes > 60) {
    throw new Error('alarm watch: UserParameters.watchMinutes must be a whole number of minutes from 1 to 60');
  }
  if (roleArn !== undefined && (typeof roleArn !== 'string' || !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(roleArn))) {
    throw new Error('alarm watch: UserParameters.roleArn must be an IAM role ARN');
  }
  const named = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    alarmNames: alarmNames as string[],
    region,
    watchMinutes,
    ...(roleArn ? { roleArn } : {}),
    ...(named(pipelineName) ? { pipelineName: named(pipelineName) } : {}),
    ...(named(executionId) ? { executionId: named(executionId) } : {}),
  };
}

/** What one invocation concluded. */
export type WatchOutcome =
  | { kind: 'passed'; summary: string }
  | { kind: 'failed'; message: string }
  /** Still watching: report success with this continuation token. */
  | { kind: 'continue'; token: string; summary: string };

export interface WatchToken {
  /** When the watch started (epoch ms). */
  startedAt: number;
}

export function parseToken(token: string | undefined, now: number): WatchToken {
  if (!token) return { startedAt: now };
  let value: unknown;
  try {
    value = JSON.parse(token);
  } catch {
    throw new Error('alarm watch: the continuation token is not JSON');
  }
  const startedAt = (value as { startedAt?: unknown } | null)?.startedAt;
  if (typeof startedAt !== 'number' || !Number.isFinite(startedAt) || startedAt > now) throw new Error('alarm watch: the continuation token has no valid start time');
  return { startedAt };
}

/** One look at the alarms: the ones in ALARM, and the ones that do not exist. */
async function look(cloudwatch: CloudWatchClient, names: string[]): Promise<{ alarming: MetricAlarm[]; missing: string[] }> {
  const found: MetricAlarm[] = [];
  let nextToken: string | undefined;
  do {
    const out = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: names, AlarmTypes: ['MetricAlarm'], NextToken: nextToken }));
    found.push(...(out.MetricAlarms ?? []));
    nextToken = out.NextToken;
  } while (nextToken);
  const seen = new Set(found.map((a) => a.AlarmName));
  return { alarming: found.filter((a) => a.StateValue === 'ALARM'), missing: names.filter((n) => !seen.has(n)) };
}

export interface WatchClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * Checks the alarms every `pollIntervalMs` until the watch period (from `token.startedAt`) is over,
 * an alarm is in ALARM, or this invocation has used `pollBudgetMs`.
 */
export async function watchAlarms(
  cloudwatch: CloudWatchClient,
  params: AlarmWatchParameters,
  token: WatchToken,
  clock: WatchClock,
  options: { pollIntervalMs: number; pollBudgetMs: number },
): Promise<WatchOutcome> {
  const invokedAt = clock.now();
  const endsAt = token.startedAt + params.watchMinutes * 60_000;
  const where = `${params.region}${params.roleArn ? ` as ${params.roleArn}` : ''}`;
  for (;;) {
    let seen: Awaited<ReturnType<typeof look>>;
    try {
      seen = await look(cloudwatch, params.alarmNames);
    } catch (err) {
      throw new Error(`alarm watch: could not read the prod alarms in ${where}: ${(err as Error).message}`);
    }
    if (seen.missing.length > 0) {
      return { kind: 'failed', message: `alarm watch: alarm${seen.missing.length > 1 ? 's' : ''} ${seen.missing.join(', ')} not found in ${where} (the prod stack defines them)` };
    }
    if (seen.alarming.length > 0) {
      const first = seen.alarming[0];
      return {
        kind: 'failed',
        message: `alarm watch: ${seen.alarming.map((a) => a.AlarmName).join(', ')} in ALARM after the deploy${first.StateReason ? ` (${first.AlarmName}: ${first.StateReason})` : ''}; the prod stage rolls back`,
      };
    }
    const now = clock.now();
    const watched = Math.round((now - token.startedAt) / 60_000);
    if (now >= endsAt) return { kind: 'passed', summary: `alarm watch: ${params.alarmNames.length} alarms not in ALARM for ${params.watchMinutes} minutes after the deploy` };
    if (now - invokedAt + options.pollIntervalMs > options.pollBudgetMs) {
      return { kind: 'continue', token: JSON.stringify(token), summary: `alarm watch: no alarm after ${watched} of ${params.watchMinutes} minutes; still watching` };
    }
    await clock.sleep(Math.min(options.pollIntervalMs, endsAt - now));
  }
}
