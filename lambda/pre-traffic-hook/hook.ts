/**
 * The CodeDeploy BeforeAllowTraffic hook of the notes API: before any request moves to the new
 * version, it runs the smoke checks against that version directly (health with the expected
 * version, then the CRUD round trip as the smoke user), and reports the lifecycle event to CodeDeploy
 * EXACTLY ONCE, with PutLifecycleEventHookExecutionStatus: Succeeded or Failed, also when it throws
 * and when it runs out of time (a timer armed from the remaining invocation time reports Failed before
 * Lambda would stop the function; a late finish cannot report a second time).
 *
 * The auth checks of the smoke test (no token, forged token) test API Gateway's authorizer, which a
 * direct invocation does not pass through; the pipeline's smoke test runs them after the deploy.
 */
import { PutLifecycleEventHookExecutionStatusCommand, type CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { CHECK_NAMES, errorText, runSmokeChecks, type CheckName, type SmokeReport } from '../smoke-test/checks';
import { DIRECT_BASE_URL, invokeFetch, syntheticIdToken } from './invoke-fetch';

/** The checks the hook runs: those of the function itself, not of the gateway in front of it. */
/** The gateway's own checks: a direct invocation of the function bypasses the authorizer they test. */
const GATEWAY_CHECKS: readonly CheckName[] = ['auth-no-token', 'auth-forged-token'];
export const HOOK_CHECKS: readonly CheckName[] = CHECK_NAMES.filter((name) => !GATEWAY_CHECKS.includes(name));

/** Time kept back from the remaining invocation time to report: 20 %, at most 5 s. */
export const MAX_MARGIN_MS = 5000;
/** Each invocation of the new version may take this long (the notes function's timeout is 10 s). */
export const DEFAULT_INVOKE_TIMEOUT_MS = 15_000;

export interface HookConfig {
  functionName: string;
  version: string;
  expectedVersion: string;
  secretArn: string;
  invokeTimeoutMs: number;
}

export interface HookEvent {
  DeploymentId?: string;
  LifecycleEventHookExecutionId?: string;
}

export type HookStatus = 'Succeeded' | 'Failed';

export interface HookResult {
  status: HookStatus;
  /** Why it failed, naming the check (`crud-update: PUT /notes/... -> 500 ...`). */
  reason?: string;
  report?: SmokeReport;
  /** False when CodeDeploy refused or lost the report (logged). */
  reported: boolean;
}

export interface HookDeps {
  lambda: LambdaClient;
  codeDeploy: CodeDeployClient;
  secrets: SecretsManagerClient;
  config: () => HookConfig;
  log: (level: 'info' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

export class HookSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HookSetupError';
  }
}

export function configFromEnv(env: NodeJS.ProcessEnv): HookConfig {
  const required = ['NOTES_FUNCTION_NAME', 'NOTES_FUNCTION_VERSION', 'EXPECTED_VERSION', 'SMOKE_SECRET_ARN'] as const;
  const missing = required.filter((name) => !env[name]?.trim());
  if (missing.length > 0) throw new HookSetupError(`${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set`);
  const version = (env.NOTES_FUNCTION_VERSION as string).trim();
  if (!/^\d+$/.test(version)) throw new HookSetupError(`NOTES_FUNCTION_VERSION must be a published version number (got "${version}")`);
  return {
    functionName: (env.NOTES_FUNCTION_NAME as string).trim(),
    version,
    expectedVersion: (env.EXPECTED_VERSION as string).trim(),
    secretArn: (env.SMOKE_SECRET_ARN as string).trim(),
    invokeTimeoutMs: DEFAULT_INVOKE_TIMEOUT_MS,
  };
}

/** How long the checks may run: the remaining time minus a margin (20 %, at most 5 s) to report. */
export function checksDeadlineMs(remainingMs: number): number {
  return Math.max(0, remainingMs - Math.min(MAX_MARGIN_MS, Math.floor(remainingMs * 0.2)));
}

/** The smoke user's name from its secret `{"username","password"}`; the password is never used or logged. */
async function smokeUsername(secrets: SecretsManagerClient, secretArn: string): Promise<string> {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  let username: unknown;
  try {
    username = (JSON.parse(out.SecretString ?? '') as { username?: unknown }).username;
  } catch {
    username = undefined;
  }
  if (typeof username !== 'string' || username.length === 0) throw new HookSetupError(`secret ${secretArn} has no "username" string`);
  return username;
}

/**
 * The identity the hook acts as: the smoke user, under a `sub` no Cognito user can have (Cognito
 * subs are UUIDs), so the round trip never touches a real user's notes.
 */
export function hookClaims(username: string): Record<string, string> {
  return { sub: `pre-traffic-hook.${username}`, email: username, 'cognito:username': username };
}

export function createPreTrafficHook(deps: HookDeps) {
  return async (event: HookEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<HookResult> => {
    const deploymentId = event?.DeploymentId;
    const executionId = event?.LifecycleEventHookExecutionId;
    if (typeof deploymentId !== 'string' || typeof executionId !== 'string' || !deploymentId || !executionId) {
      // Nothing to report to: CodeDeploy did not send this event.
      deps.log('error', 'pre-traffic hook: the event has no DeploymentId and LifecycleEventHookExecutionId');
      return { status: 'Failed', reason: 'not a CodeDeploy lifecycle event', reported: false };
    }

    let sent: Promise<boolean> | undefined;
    let verdict: { status: HookStatus; reason?: string } | undefined;
    const report = (status: HookStatus, reason?: string): Promise<boolean> => {
      if (sent) {
        deps.log('info', 'pre-traffic hook: already reported, not reporting again', { deploymentId, dropped: status, reason });
        return sent;
      }
      verdict = { status, reason };
      deps.log(status === 'Succeeded' ? 'info' : 'error', `pre-traffic hook: ${status}`, { deploymentId, reason });
      sent = deps.codeDeploy
        .send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId, lifecycleEventHookExecutionId: executionId, status }))
        .then(
          () => true,
          (err: unknown) => {
            deps.log('error', 'pre-traffic hook: CodeDeploy did not take the status', { deploymentId, status, error: errorText(err) });
            return false;
          },
        );
      return sent;
    };

    const deadlineMs = checksDeadlineMs(context.getRemainingTimeInMillis());
    const controller = new AbortController();
    let current: CheckName | 'setup' = 'setup';
    const timer = setTimeout(() => {
      controller.abort();
      void report('Failed', `timed out after ${deadlineMs} ms in check ${current}`);
    }, deadlineMs);

    let smoke: SmokeReport | undefined;
    const run = (async (): Promise<void> => {
      try {
        const cfg = deps.config();
        const username = await smokeUsername(deps.secrets, cfg.secretArn);
        smoke = await runSmokeChecks({
          apiUrl: DIRECT_BASE_URL,
          expectedVersion: cfg.expectedVersion,
          // Latency is the p99 alarm's and the smoke test's business; the first call here is a cold start.
          healthSlaMs: cfg.invokeTimeoutMs,
          timeoutMs: cfg.invokeTimeoutMs,
          fetch: invokeFetch({ lambda: deps.lambda, functionName: cfg.functionName, qualifier: cfg.version }),
          login: () => Promise.resolve(syntheticIdToken(hookClaims(username))),
          only: HOOK_CHECKS,
          signal: controller.signal,
          onCheckStart: (name) => {
            current = name;
          },
        });
        if (smoke.passed) await report('Succeeded');
        else {
          const failure = smoke.failure ?? { name: current, detail: 'failed' };
          await report('Failed', `check ${failure.name} failed: ${failure.detail}`);
        }
      } catch (err) {
        await report('Failed', `the hook could not run (in ${current}): ${errorText(err)}`);
      } finally {
        clearTimeout(timer);
      }
    })();

    // After the deadline, wait for the stopped checks (and their clean-up) only as long as time is left.
    let graceTimer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      controller.signal.addEventListener(
        'abort',
        () => {
          graceTimer = setTimeout(resolve, Math.max(0, context.getRemainingTimeInMillis() - 200));
        },
        { once: true },
      );
    });
    await Promise.race([run, grace]);
    clearTimeout(graceTimer);
    const reported = await (sent ?? Promise.resolve(false));
    const final = verdict ?? { status: 'Failed' as const, reason: 'no verdict' };
    return { ...final, ...(smoke ? { report: smoke } : {}), reported };
  };
}
