/**
 * The smoke-test Lambda: a CodePipeline "Lambda invoke" action that runs the must-pass smoke
 * checks (`checks.ts`) against the environment's API and reports the job's outcome EXACTLY ONCE,
 * with PutJobSuccessResult or PutJobFailureResult, whatever happens: a failed check, an exception,
 * or running out of time (a timer armed from the remaining invocation time reports the failure
 * before Lambda would kill the function, and a late finish cannot report a second time).
 *
 * Deployed by NotesStack, one per environment (`notes-<env>-smoke-test`). Environment:
 *   API_URL, USER_POOL_ID, SMOKE_CLIENT_ID, SMOKE_SECRET_ARN (JSON {"username","password"}),
 *   EXPECTED_VERSION (optional), HEALTH_SLA_MS (default 1000), HTTP_TIMEOUT_MS (default 5000),
 *   PIPELINE_REGION (the pipeline's region: the job is reported there; default the function's), and
 *   JOB_REPORTER_ROLE_ARN in an environment outside the pipeline's account: CodePipeline takes a job's
 *   result only from a principal of the pipeline's account, so the report goes through that role.
 * The pipeline's UserParameters `{"expectedVersion":"1.2.3"}` override EXPECTED_VERSION.
 *
 * Invoked without a CodePipeline job (an operator: `aws lambda invoke --payload '{}'`), it runs the
 * same checks, reports nothing to CodePipeline and returns the report.
 *
 * Never logged: the event (CodePipeline puts artifact credentials in it), the secret, the token.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { AdminInitiateAuthCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { MAX_SMOKE_SUMMARY_CHARS } from '../../lib/release/approval-limits';
import { assumedRoleCredentials } from '../../lib/release/assumed-credentials';
import { DEFAULT_HEALTH_SLA_MS, DEFAULT_TIMEOUT_MS, errorText, runSmokeChecks, type CheckName, type SmokeReport } from './checks';

/** CodePipeline's limits: executionDetails.summary and failureDetails.message. */
export const MAX_SUMMARY_CHARS = 2048;
export const MAX_FAILURE_MESSAGE_CHARS = 5000;
/**
 * SMOKE_SUMMARY is quoted in the approval text, whose length CodePipeline limits: it is bounded here,
 * where it is produced (lib/release/approval-limits.ts).
 */
export const MAX_OUTPUT_VARIABLE_CHARS = MAX_SMOKE_SUMMARY_CHARS;
/** Time kept back from the invocation's remaining time to report and clean up: 20 %, at most 5 s. */
export const MAX_MARGIN_MS = 5000;

export const logger = new Logger({ serviceName: 'notes-smoke-test' });

export interface SmokeLambdaConfig {
  apiUrl: string;
  userPoolId: string;
  clientId: string;
  secretArn: string;
  region: string;
  expectedVersion?: string;
  healthSlaMs: number;
  timeoutMs: number;
}

/** A configuration or input problem: the smoke test cannot run at all. */
export class SmokeSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmokeSetupError';
  }
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new SmokeSetupError(`${name} must be a positive whole number of milliseconds (got "${value}")`);
  return n;
}

export function configFromEnv(env: NodeJS.ProcessEnv): SmokeLambdaConfig {
  const required = ['API_URL', 'USER_POOL_ID', 'SMOKE_CLIENT_ID', 'SMOKE_SECRET_ARN'] as const;
  const missing = required.filter((name) => !env[name]?.trim());
  if (missing.length > 0) throw new SmokeSetupError(`${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set`);
  const userPoolId = (env.USER_POOL_ID as string).trim();
  // A pool id is "<region>_<id>"; the region of the pool wins over the function's own.
  const poolRegion = /^([a-z]{2}(?:-[a-z]+)+-\d+)_/.exec(userPoolId)?.[1];
  return {
    apiUrl: (env.API_URL as string).trim(),
    userPoolId,
    clientId: (env.SMOKE_CLIENT_ID as string).trim(),
    secretArn: (env.SMOKE_SECRET_ARN as string).trim(),
    region: poolRegion ?? env.AWS_REGION ?? 'us-east-1',
    expectedVersion: env.EXPECTED_VERSION?.trim() || undefined,
    healthSlaMs: positiveInt(env.HEALTH_SLA_MS, 'HEALTH_SLA_MS', DEFAULT_HEALTH_SLA_MS),
    timeoutMs: positiveInt(env.HTTP_TIMEOUT_MS, 'HTTP_TIMEOUT_MS', DEFAULT_TIMEOUT_MS),
  };
}

/** UserParameters of the pipeline action: empty, or JSON `{"expectedVersion":"1.2.3"}`. */
export function parseUserParameters(raw: string | undefined): { expectedVersion?: string } {
  if (raw === undefined || raw.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new SmokeSetupError(`UserParameters must be JSON like {"expectedVersion":"1.2.3"} (got ${JSON.stringify(raw.slice(0, 100))})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SmokeSetupError('UserParameters must be a JSON object like {"expectedVersion":"1.2.3"}');
  }
  const version = (value as Record<string, unknown>).expectedVersion;
  if (version === undefined) return {};
  if (typeof version !== 'string' || version.trim() === '' || version.length > 128) {
    throw new SmokeSetupError('UserParameters.expectedVersion must be a non-empty version string such as "1.2.3"');
  }
  return { expectedVersion: version.trim() };
}

// Clients are made once per container and reused by warm invocations.
const pipelineClients = new Map<string, CodePipelineClient>();
let secrets: SecretsManagerClient | undefined;
const cognitoByRegion = new Map<string, CognitoIdentityProviderClient>();

/**
 * The client that reports the job: in the pipeline's region (PIPELINE_REGION), and, when
 * JOB_REPORTER_ROLE_ARN is set (an environment outside the pipeline's account), with that role's
 * credentials. Exported for the test that checks where a report goes.
 */
export function pipelineClient(env: NodeJS.ProcessEnv = process.env): CodePipelineClient {
  const region = env.PIPELINE_REGION || undefined;
  const roleArn = env.JOB_REPORTER_ROLE_ARN || undefined;
  const key = `${region ?? ''} ${roleArn ?? ''}`;
  let client = pipelineClients.get(key);
  if (!client) {
    client = new CodePipelineClient({
      region,
      ...(roleArn ? { credentials: assumedRoleCredentials(roleArn, 'notes-smoke-test-job-report', { region }) } : {}),
    });
    pipelineClients.set(key, client);
  }
  return client;
}
const secretsClient = (): SecretsManagerClient => (secrets ??= new SecretsManagerClient({}));
function cognitoClient(region: string): CognitoIdentityProviderClient {
  let client = cognitoByRegion.get(region);
  if (!client) cognitoByRegion.set(region, (client = new CognitoIdentityProviderClient({ region })));
  return client;
}

interface SmokeCredentials {
  username: string;
  password: string;
}

/** The smoke user's credentials per secret, cached for the container's life (dropped when refused). */
const credentialCache = new Map<string, Promise<SmokeCredentials>>();

async function fetchCredentials(secretArn: string): Promise<SmokeCredentials> {
  const out = await secretsClient().send(new GetSecretValueCommand({ SecretId: secretArn }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.SecretString ?? '');
  } catch {
    parsed = undefined;
  }
  const username = (parsed as { username?: unknown } | undefined)?.username;
  const password = (parsed as { password?: unknown } | undefined)?.password;
  if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
    // Never quote the secret's value.
    throw new SmokeSetupError(`secret ${secretArn} is not JSON with string fields "username" and "password"`);
  }
  return { username, password };
}

function credentialsFor(secretArn: string): Promise<SmokeCredentials> {
  let cached = credentialCache.get(secretArn);
  if (!cached) {
    cached = fetchCredentials(secretArn);
    credentialCache.set(secretArn, cached);
    cached.catch(() => credentialCache.delete(secretArn));
  }
  return cached;
}

async function adminLogin(config: SmokeLambdaConfig, creds: SmokeCredentials): Promise<string> {
  const out = await cognitoClient(config.region).send(
    new AdminInitiateAuthCommand({
      UserPoolId: config.userPoolId,
      ClientId: config.clientId,
      AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: creds.username, PASSWORD: creds.password },
    }),
  );
  const token = out.AuthenticationResult?.IdToken;
  if (!token) throw new Error(`Cognito returned no id token (challenge: ${out.ChallengeName ?? 'none'})`);
  return token;
}

/**
 * Logs the smoke user in with AdminInitiateAuth (ADMIN_USER_PASSWORD_AUTH on the smoke client).
 * A refused password with cached credentials reads the secret again once (it may have rotated).
 */
export async function smokeLogin(config: SmokeLambdaConfig): Promise<string> {
  const wasCached = credentialCache.has(config.secretArn);
  const creds = await credentialsFor(config.secretArn);
  try {
    return await adminLogin(config, creds);
  } catch (err) {
    if (!wasCached || (err as { name?: unknown }).name !== 'NotAuthorizedException') throw err;
    credentialCache.delete(config.secretArn);
    return adminLogin(config, await credentialsFor(config.secretArn));
  }
}

/** How long the checks may run: the remaining time minus a margin (20 %, at most 5 s) to report and clean up. */
export function checksDeadlineMs(remainingMs: number): number {
  const margin = Math.min(MAX_MARGIN_MS, Math.floor(remainingMs * 0.2));
  return Math.max(0, remainingMs - margin);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** The one-line form for SMOKE_SUMMARY: the verdict, and each check's time when that fits. */
export function compactSummary(report: SmokeReport): string {
  // Without the API URL: the approval text names it next to this summary.
  const head = report.passed
    ? `Smoke test passed: ${report.checks.filter((c) => c.passed).length}/${report.checks.length} checks in ${report.totalMs} ms`
    : report.summary.split('\n')[0];
  const times = report.checks.map((c) => `${c.name} ${c.passed ? `${c.ms}ms` : c.skipped ? 'skipped' : 'FAILED'}`).join(', ');
  // Each check's time when it fits; else the verdict alone (the job's summary keeps every check).
  const full = `${head} (${times})`;
  return full.length <= MAX_OUTPUT_VARIABLE_CHARS ? full : truncate(head, MAX_OUTPUT_VARIABLE_CHARS);
}

type Outcome = { kind: 'success'; summary: string; outputVariables: Record<string, string> } | { kind: 'failure'; message: string };

/**
 * Reports one job's outcome to CodePipeline at most once: the first `report` sends, any later one
 * (a late finish after a timeout) is logged and dropped. Job ids reported by this container are
 * remembered, so a retried invocation of an already reported job does not report again.
 */
const reportedJobs = new Set<string>();

class JobReporter {
  private sending: Promise<void> | undefined;

  constructor(
    private readonly jobId: string,
    private readonly executionId: string,
  ) {}

  get reported(): boolean {
    return this.sending !== undefined;
  }

  /** Resolves when the report (if any) has been sent or has failed. */
  settled(): Promise<void> {
    return this.sending ?? Promise.resolve();
  }

  report(outcome: Outcome): Promise<void> {
    if (this.sending) {
      logger.warn('job already reported; later outcome dropped', { jobId: this.jobId, dropped: outcome.kind });
      return this.sending;
    }
    reportedJobs.add(this.jobId);
    this.sending = this.send(outcome).catch((err: unknown) => {
      // Not retried with the other call: the job gets one report. The SDK has already retried.
      logger.error('reporting the job to CodePipeline failed', { jobId: this.jobId, outcome: outcome.kind, error: errorText(err) });
    });
    return this.sending;
  }

  private async send(outcome: Outcome): Promise<void> {
    if (outcome.kind === 'success') {
      await pipelineClient().send(
        new PutJobSuccessResultCommand({
          jobId: this.jobId,
          executionDetails: {
            summary: truncate(outcome.summary, MAX_SUMMARY_CHARS),
            externalExecutionId: this.executionId,
            percentComplete: 100,
          },
          outputVariables: outcome.outputVariables,
        }),
      );
    } else {
      await pipelineClient().send(
        new PutJobFailureResultCommand({
          jobId: this.jobId,
          failureDetails: {
            type: 'JobFailed',
            message: truncate(outcome.message, MAX_FAILURE_MESSAGE_CHARS),
            externalExecutionId: this.executionId,
          },
        }),
      );
    }
    logger.info('job reported', { jobId: this.jobId, outcome: outcome.kind });
  }
}

function logReport(report: SmokeReport, extra: Record<string, unknown>): void {
  logger.info('smoke test finished', {
    ...extra,
    passed: report.passed,
    failedCheck: report.failure?.name,
    totalMs: report.totalMs,
    checks: report.checks.map((c) => ({ name: c.name, passed: c.passed, skipped: c.skipped ?? false, ms: c.ms })),
    leftBehind: report.cleanup.leftBehind,
  });
  if (!report.passed) logger.warn('smoke test failed', { ...extra, summary: report.summary });
}

interface RunOutcome {
  report?: SmokeReport;
  /** Set when the checks did not finish before the deadline. */
  timedOut?: { afterMs: number; check: CheckName | 'setup' };
  error?: unknown;
}

/**
 * Runs the checks under a deadline. `onDeadline` is called once if the deadline strikes first; the
 * checks are then stopped (the current one fails, the rest are skipped, the clean-up still runs)
 * and are awaited up to `graceMs` more.
 */
async function runWithDeadline(
  config: () => SmokeLambdaConfig,
  expectedVersion: () => string | undefined,
  context: Context,
  onDeadline: (afterMs: number, check: CheckName | 'setup') => void,
): Promise<RunOutcome> {
  const remaining = context.getRemainingTimeInMillis();
  const deadlineMs = checksDeadlineMs(remaining);
  const controller = new AbortController();
  let current: CheckName | 'setup' = 'setup';
  let timedOut: RunOutcome['timedOut'];
  const timer = setTimeout(() => {
    timedOut = { afterMs: deadlineMs, check: current };
    controller.abort();
    onDeadline(deadlineMs, current);
  }, deadlineMs);

  const checks = (async (): Promise<RunOutcome> => {
    try {
      const cfg = config();
      const report = await runSmokeChecks({
        apiUrl: cfg.apiUrl,
        expectedVersion: expectedVersion() ?? cfg.expectedVersion,
        healthSlaMs: cfg.healthSlaMs,
        timeoutMs: cfg.timeoutMs,
        login: () => smokeLogin(cfg),
        forgery: { issuer: `https://cognito-idp.${cfg.region}.amazonaws.com/${cfg.userPoolId}`, audience: cfg.clientId },
        signal: controller.signal,
        onCheckStart: (name) => {
          current = name;
        },
      });
      return { report };
    } catch (err) {
      return { error: err };
    } finally {
      clearTimeout(timer);
    }
  })();

  // After the deadline, give the stopped checks (and their clean-up) what time is left, less a little.
  let graceTimer: NodeJS.Timeout | undefined;
  const grace = new Promise<RunOutcome>((resolve) => {
    const waitForDeadline = (): void => {
      const left = Math.max(0, context.getRemainingTimeInMillis() - 200);
      graceTimer = setTimeout(() => resolve({}), left);
    };
    controller.signal.addEventListener('abort', waitForDeadline, { once: true });
  });
  const outcome = await Promise.race([checks, grace]);
  clearTimeout(graceTimer);
  return { ...outcome, ...(timedOut ? { timedOut } : {}) };
}

export interface DirectInvocationResult {
  report?: SmokeReport;
  error?: string;
}

type JobEvent = { 'CodePipeline.job': { id: string; data?: { actionConfiguration?: { configuration?: { UserParameters?: string } } } } };

function jobOf(event: unknown): JobEvent['CodePipeline.job'] | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const job = (event as Record<string, unknown>)['CodePipeline.job'];
  if (typeof job !== 'object' || job === null) return undefined;
  const id = (job as { id?: unknown }).id;
  return typeof id === 'string' && id.length > 0 ? (job as JobEvent['CodePipeline.job']) : undefined;
}

async function runJob(job: JobEvent['CodePipeline.job'], context: Context): Promise<void> {
  const jobId = job.id;
  if (reportedJobs.has(jobId)) {
    logger.warn('job already reported by this container; invocation ignored', { jobId });
    return;
  }
  const reporter = new JobReporter(jobId, context.awsRequestId);
  logger.info('smoke test started', { jobId });

  const outcome = await runWithDeadline(
    () => configFromEnv(process.env),
    () => parseUserParameters(job.data?.actionConfiguration?.configuration?.UserParameters).expectedVersion,
    context,
    (afterMs, check) => {
      void reporter.report({ kind: 'failure', message: `smoke test timed out after ${afterMs} ms in check ${check}` });
    },
  );

  if (outcome.report) logReport(outcome.report, { jobId });
  if (outcome.timedOut) {
    // Already reported by the timer; a late finish must not report again.
    logger.error('smoke test timed out', { jobId, afterMs: outcome.timedOut.afterMs, check: outcome.timedOut.check });
  } else if (outcome.report?.passed) {
    const report = outcome.report;
    await reporter.report({
      kind: 'success',
      summary: report.summary,
      outputVariables: { SMOKE_RESULT: 'PASSED', SMOKE_SUMMARY: compactSummary(report) },
    });
  } else if (outcome.report) {
    await reporter.report({ kind: 'failure', message: outcome.report.summary });
  } else {
    const reason = errorText(outcome.error);
    logger.error('smoke test could not run', { jobId, reason });
    await reporter.report({ kind: 'failure', message: `smoke test could not run: ${reason}` });
  }
  // The timer's report may still be in flight: wait for it before returning (Lambda freezes after).
  await reporter.settled();
}

async function runDirect(event: unknown, context: Context): Promise<DirectInvocationResult> {
  let override: string | undefined;
  try {
    const raw = typeof event === 'object' && event !== null ? (event as Record<string, unknown>).expectedVersion : undefined;
    override = parseUserParameters(raw === undefined ? undefined : JSON.stringify({ expectedVersion: raw })).expectedVersion;
  } catch (err) {
    return { error: errorText(err) };
  }
  const outcome = await runWithDeadline(() => configFromEnv(process.env), () => override, context, (afterMs, check) =>
    logger.error('smoke test timed out', { afterMs, check }),
  );
  if (outcome.report) logReport(outcome.report, {});
  if (outcome.timedOut) {
    return {
      ...(outcome.report ? { report: outcome.report } : {}),
      error: `smoke test timed out after ${outcome.timedOut.afterMs} ms in check ${outcome.timedOut.check}`,
    };
  }
  if (outcome.report) return { report: outcome.report };
  return { error: `smoke test could not run: ${errorText(outcome.error)}` };
}

/**
 * Entry point. With a CodePipeline job: reports the job exactly once and returns nothing (it never
 * throws, so Lambda's asynchronous retries never run the job a second time). Without one: returns
 * `{ report }` (or `{ error }`); the payload may carry `{"expectedVersion":"1.2.3"}`.
 */
export const handler = async (event: unknown, context: Context): Promise<DirectInvocationResult | void> => {
  const job = jobOf(event);
  if (job) {
    try {
      await runJob(job, context);
    } catch (err) {
      // Unreachable by design (runJob catches); logged rather than thrown to avoid a retried job.
      logger.error('smoke test handler failed', { jobId: job.id, error: errorText(err) });
    }
    return;
  }
  return runDirect(event, context);
};
