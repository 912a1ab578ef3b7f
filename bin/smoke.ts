/**
 * `npm run smoke`: the pipeline's must-pass smoke checks, from the command line, against the local
 * mode or a deployed environment. See docs/smoke-test.md; flags: `npm run smoke -- --help`.
 *
 * Exit status: 0 all checks passed, 1 a check failed (the summary says which), 2 usage error.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AdminInitiateAuthCommand, CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DEFAULT_HEALTH_SLA_MS, DEFAULT_TIMEOUT_MS, runSmokeChecks, type ForgedTokenHints, type SmokeReport } from '../lambda/smoke-test/checks';
import { processAlive, readState, statePath } from '../lib/local/state';

export const SMOKE_USAGE = `Usage: npm run smoke -- --api-url URL [options] (--token TOKEN | --username U --password P ...)

Runs the must-pass smoke checks (health, auth, notes CRUD) against a notes API and prints a
summary naming each check and its time. Exit status: 0 passed, 1 a check failed, 2 usage error.

Target:
  --api-url URL            base URL of the API (the stack's ApiUrl output, or the local API)
  --local                  take the API URL, Cognito endpoint and client ids from the running local
                           stack (npm start); with --data-dir DIR when not .notes-local
  --expected-version X     /health must report this version (default: any)
  --sla-ms N               /health must answer within N ms (default ${DEFAULT_HEALTH_SLA_MS})
  --timeout-ms N           timeout of each HTTP call (default ${DEFAULT_TIMEOUT_MS})

Login (one of):
  --token TOKEN            an id token of a user of the pool (or env SMOKE_TOKEN)
  --username U --password P --client-id ID
                           log in through Cognito (password also from env SMOKE_PASSWORD):
                           with --user-pool-id, AdminInitiateAuth ADMIN_USER_PASSWORD_AUTH (the smoke
                           client; needs AWS credentials allowed to call it), otherwise InitiateAuth
                           USER_PASSWORD_AUTH
  --cognito-endpoint URL   Cognito endpoint (local mode); otherwise the regional one of --region
  --region R               AWS region of the pool (default: from --user-pool-id)
  --user-pool-id ID        the pool (for the admin flow and a sharper forged-token check)

Output:
  --json                   print the report as JSON instead of the summary
  --help                   this text

Examples:
  # against the local stack (npm start in another terminal), with a user created there first:
  npm run local:user -- create smoke@example.com 'Local-Pass-123!'
  npm run smoke -- --local --username smoke@example.com --password 'Local-Pass-123!'
  npm run smoke -- --api-url https://abc.execute-api.eu-west-1.amazonaws.com/v1/ \\
    --expected-version 1.2.3 --token "$(cat token.txt)"
`;

export class UsageError extends Error {}

export interface SmokeCliSettings {
  help: boolean;
  json: boolean;
  apiUrl: string;
  expectedVersion?: string;
  slaMs: number;
  timeoutMs: number;
  login:
    | { kind: 'token'; token: string }
    | { kind: 'password'; username: string; password: string; clientId: string; endpoint?: string; region: string; userPoolId?: string };
  forgery: ForgedTokenHints;
}

function positive(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number of milliseconds (got "${value}").`);
  return n;
}

function decodeJwtPart(token: string, index: number): Record<string, unknown> | undefined {
  try {
    const part = JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8')) as unknown;
    return typeof part === 'object' && part !== null ? (part as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** What the running local stack (npm start) tells us: endpoints and ids. */
function localDefaults(dataDir: string): { apiUrl: string; cognitoEndpoint: string; region: string; userPoolId?: string; clientId?: string; smokeClientId?: string } {
  const state = readState(dataDir);
  if (!state?.running || !processAlive(state.running.pid)) {
    throw new UsageError(
      `--local: no local stack is running on ${dataDir} (${statePath(dataDir)} names none). Start it with \`npm start\`, or pass --api-url.`,
    );
  }
  return {
    apiUrl: state.running.apiUrl,
    cognitoEndpoint: state.running.cognitoEndpoint,
    region: state.region,
    userPoolId: state.userPoolId,
    clientId: state.clientId,
    smokeClientId: state.smokeClientId,
  };
}

export function parseSmokeArgs(argv: string[], env: NodeJS.ProcessEnv): SmokeCliSettings {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'api-url': { type: 'string' },
        local: { type: 'boolean' },
        'data-dir': { type: 'string' },
        'expected-version': { type: 'string' },
        'sla-ms': { type: 'string' },
        'timeout-ms': { type: 'string' },
        token: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        'client-id': { type: 'string' },
        'cognito-endpoint': { type: 'string' },
        region: { type: 'string' },
        'user-pool-id': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = (name: string): string | undefined => str(values[name]);
  const base = { help: values.help === true, json: values.json === true };
  if (base.help) return { ...base, apiUrl: '', slaMs: 0, timeoutMs: 0, login: { kind: 'token', token: '' }, forgery: {} };

  const local = values.local === true ? localDefaults(resolve(v('data-dir') ?? env.NOTES_LOCAL_DATA_DIR ?? '.notes-local')) : undefined;
  const apiUrl = v('api-url') ?? local?.apiUrl;
  if (!apiUrl) throw new UsageError('--api-url is required (or --local for the running local stack).');
  try {
    new URL(apiUrl);
  } catch {
    throw new UsageError(`--api-url is not a URL: "${apiUrl}".`);
  }

  const slaMs = positive(v('sla-ms'), '--sla-ms', DEFAULT_HEALTH_SLA_MS);
  const timeoutMs = positive(v('timeout-ms'), '--timeout-ms', DEFAULT_TIMEOUT_MS);

  const token = v('token') ?? str(env.SMOKE_TOKEN);
  const username = v('username');
  const password = v('password') ?? str(env.SMOKE_PASSWORD);
  let login: SmokeCliSettings['login'];
  let forgery: ForgedTokenHints = {};
  if (token && username) throw new UsageError('Give either --token or --username/--password, not both.');
  if (token) {
    login = { kind: 'token', token };
    // The forged token copies the real one's issuer, audience and key id: only the signature differs.
    const header = decodeJwtPart(token, 0);
    const payload = decodeJwtPart(token, 1);
    if (!header || !payload) throw new UsageError('--token is not a JWT (three base64url parts).');
    forgery = { issuer: str(payload.iss), audience: str(payload.aud), kid: str(header.kid) };
  } else if (username) {
    if (!password) throw new UsageError('--username needs --password (or env SMOKE_PASSWORD).');
    const userPoolId = v('user-pool-id') ?? local?.userPoolId;
    // With --local: the admin flow on the smoke client, as the pipeline's Lambda logs in.
    const clientId = v('client-id') ?? local?.smokeClientId;
    if (!clientId) throw new UsageError('--username needs --client-id (the app client to log in with).');
    const endpoint = v('cognito-endpoint') ?? local?.cognitoEndpoint;
    const region = v('region') ?? local?.region ?? /^([a-z]{2}(?:-[a-z]+)+-\d+)_/.exec(userPoolId ?? '')?.[1];
    if (!endpoint && !region) throw new UsageError('--username needs --cognito-endpoint or --region (or --user-pool-id, whose prefix is the region).');
    login = { kind: 'password', username, password, clientId, endpoint, region: region ?? 'us-east-1', userPoolId };
    const issuer = userPoolId
      ? endpoint
        ? `${endpoint.replace(/\/$/, '')}/${userPoolId}`
        : `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`
      : undefined;
    forgery = { issuer, audience: clientId };
  } else {
    throw new UsageError('A login is required: --token TOKEN, or --username U --password P --client-id ID (see --help).');
  }

  return {
    ...base,
    apiUrl,
    expectedVersion: v('expected-version'),
    slaMs,
    timeoutMs,
    login,
    forgery,
  };
}

const LOOPBACK_URL = /^https?:\/\/(127(\.\d{1,3}){3}|\[::1\]|localhost)(:\d+)?(\/|$)/;

/** Returns the login function the checks call. */
export function loginFor(settings: SmokeCliSettings, env: NodeJS.ProcessEnv): () => Promise<string> {
  const login = settings.login;
  if (login.kind === 'token') return async () => login.token;
  return async () => {
    const local = login.endpoint !== undefined && LOOPBACK_URL.test(login.endpoint);
    const client = new CognitoIdentityProviderClient({
      region: login.region,
      maxAttempts: 2,
      ...(login.endpoint ? { endpoint: login.endpoint } : {}),
      // cognito-local accepts any credentials: placeholders (not secrets) when none are configured.
      ...(local && !env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    });
    try {
      const auth = { USERNAME: login.username, PASSWORD: login.password };
      const out = login.userPoolId
        ? await client.send(
            new AdminInitiateAuthCommand({ UserPoolId: login.userPoolId, ClientId: login.clientId, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', AuthParameters: auth }),
          )
        : await client.send(new InitiateAuthCommand({ ClientId: login.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: auth }));
      const token = out.AuthenticationResult?.IdToken;
      if (!token) throw new Error(`Cognito returned no id token (challenge: ${out.ChallengeName ?? 'none'})`);
      return token;
    } finally {
      client.destroy();
    }
  };
}

export interface SmokeCliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Runs the CLI; returns the exit status. */
export async function smokeMain(argv: string[], env: NodeJS.ProcessEnv, io: SmokeCliIo): Promise<number> {
  let settings: SmokeCliSettings;
  try {
    settings = parseSmokeArgs(argv, env);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\nRun \`npm run smoke -- --help\` for the options.\n`);
      return 2;
    }
    throw err;
  }
  if (settings.help) {
    io.out(SMOKE_USAGE);
    return 0;
  }
  const report: SmokeReport = await runSmokeChecks({
    apiUrl: settings.apiUrl,
    expectedVersion: settings.expectedVersion,
    healthSlaMs: settings.slaMs,
    timeoutMs: settings.timeoutMs,
    login: loginFor(settings, env),
    forgery: settings.forgery,
  });
  io.out(settings.json ? `${JSON.stringify(report, null, 2)}\n` : `${report.summary}\n`);
  return report.passed ? 0 : 1;
}

if (require.main === module) {
  // The AWS SDK's Node-version notice is noise in front of the summary (the Lambda runs Node 22).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  smokeMain(process.argv.slice(2), process.env, { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`smoke: could not run: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
