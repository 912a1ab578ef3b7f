/**
 * `npm run smoke`: the same checks from the command line, against the local mode over HTTP.
 * Exit status 0 when all pass, 1 when a check fails (with the summary), 2 on a usage error.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { SMOKE_USAGE, smokeMain } from '../../bin/smoke';
import { createUser, getIdToken } from '../../lib/local/users';
import type { SmokeReport } from '../../lambda/smoke-test/checks';
import { RELEASE_VERSION, startSmokeService, type SmokeService } from './harness';

let service: SmokeService;
let token: string;

beforeAll(async () => {
  service = await startSmokeService('cli');
  token = await service.login();
});

afterAll(async () => {
  await service?.stop();
});

afterEach(async () => {
  await service.purgeSmokeUserNotes(token);
});

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await smokeMain(args, env, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('--help prints the usage and exits 0', async () => {
  const result = await run(['--help']);

  expect(result.code).toBe(0);
  expect(result.out).toBe(SMOKE_USAGE);
  expect(result.out).toContain('--api-url URL');
});

test.each([
  [[], '--api-url is required'],
  [['--api-url', 'not a url', '--token', 'a.b.c'], '--api-url is not a URL: "not a url".'],
  [['--api-url', 'http://127.0.0.1:1/'], 'A login is required: --token TOKEN, or --username U --password P --client-id ID'],
  [['--api-url', 'http://127.0.0.1:1/', '--token', 'abc'], '--token is not a JWT'],
  [['--api-url', 'http://127.0.0.1:1/', '--username', 'u', '--password', 'p'], '--username needs --client-id'],
  [['--api-url', 'http://127.0.0.1:1/', '--username', 'u', '--client-id', 'c', '--region', 'eu-west-1'], '--username needs --password (or env SMOKE_PASSWORD)'],
  [['--api-url', 'http://127.0.0.1:1/', '--username', 'u', '--password', 'p', '--client-id', 'c'], '--username needs --cognito-endpoint or --region'],
  [['--api-url', 'http://127.0.0.1:1/', '--sla-ms', 'fast', '--token', 'a.b.c'], '--sla-ms must be a positive whole number of milliseconds (got "fast").'],
  [['--api-url', 'http://127.0.0.1:1/', '--frobnicate'], "Unknown option '--frobnicate'"],
])('usage error %j exits 2 and says what is wrong', async (args, message) => {
  const result = await run(args);

  expect(result.code).toBe(2);
  expect(result.err).toContain(message);
  expect(result.err).toContain('npm run smoke -- --help');
  expect(result.out).toBe('');
});

test('with a token: all checks pass, the summary is printed, exit 0', async () => {
  const result = await run(['--api-url', service.stack.apiUrl, '--expected-version', RELEASE_VERSION, '--token', token]);

  expect(result.code).toBe(0);
  expect(result.out).toMatch(/^Smoke test passed: 11\/11 checks/);
  expect(result.out).toMatch(/^PASS auth-forged-token \d+ ms/m);
});

test('with username and password on the public client (InitiateAuth) against the local Cognito: exit 0', async () => {
  const { email, password } = service.smokeUser;

  const result = await run(
    ['--api-url', service.stack.apiUrl, '--username', email, '--client-id', service.stack.clientId, '--cognito-endpoint', service.stack.cognitoEndpoint],
    { SMOKE_PASSWORD: password },
  );

  expect(result.code).toBe(0);
  expect(result.out).toMatch(/^PASS auth-login \d+ ms/m);
});

test('with --local and the admin flow on the smoke client, as the pipeline logs in: exit 0', async () => {
  const { email, password } = service.smokeUser;

  const result = await run(['--local', '--data-dir', service.stack.dataDir, '--username', email, '--password', password]);

  expect(result.code).toBe(0);
  expect(result.out).toContain(`against ${service.stack.apiUrl}`);
});

test('the --local example in --help works as written, after the local:user line it shows before it', async () => {
  // Arrange: the two example lines, split as the shell would (single quotes only).
  const words = (line: string): string[] => [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
  const lines = SMOKE_USAGE.split('\n').map((l) => l.trim());
  const create = words(lines.find((l) => l.startsWith('npm run local:user -- create')) ?? '');
  const smoke = words(lines.find((l) => l.startsWith('npm run smoke -- --local')) ?? '');
  const [email, password] = create.slice(5);
  await createUser(service.stack, email, password);

  // Act: the example's arguments (after `npm run smoke --`), on this test's data directory.
  const result = await run([...smoke.slice(4), '--data-dir', service.stack.dataDir]);

  // Assert
  expect(smoke.slice(4)).toEqual(['--local', '--username', email, '--password', password]);
  expect(result.code).toBe(0);
  await service.purgeSmokeUserNotes(await getIdToken(service.stack, email, password));
});

test('a failing check: exit 1 and the summary names the check and the response', async () => {
  const result = await run(['--api-url', service.stack.apiUrl, '--expected-version', '9.9.9', '--token', token]);

  expect(result.code).toBe(1);
  expect(result.out.split('\n')[0]).toBe(
    `Smoke test FAILED at health: GET /health -> 200 {"status":"ok","version":"${RELEASE_VERSION}","commit":"abc1234"}: version is "${RELEASE_VERSION}", expected "9.9.9"`,
  );
});

test('a wrong password: exit 1, failing auth-login with Cognito\'s answer', async () => {
  const result = await run([
    '--local', '--data-dir', service.stack.dataDir, '--username', service.smokeUser.email, '--password', 'Not-The-Password-1!',
  ]);

  expect(result.code).toBe(1);
  expect(result.out).toMatch(/^Smoke test FAILED at auth-login: login failed: NotAuthorizedException/);
});

test('--json prints the whole report', async () => {
  const result = await run(['--api-url', service.stack.apiUrl, '--token', token, '--json']);

  const report = JSON.parse(result.out) as SmokeReport;
  expect(result.code).toBe(0);
  expect(report.passed).toBe(true);
  expect(report.checks).toHaveLength(11);
});

test('as a process (npm run smoke runs tsx bin/smoke.ts): the exit status is the verdict', async () => {
  const root = resolve(__dirname, '../..');
  const runCli = (args: string[]): Promise<{ code: number; stdout: string }> =>
    new Promise((done) => {
      execFile(resolve(root, 'node_modules/.bin/tsx'), ['bin/smoke.ts', ...args], { cwd: root }, (error, stdout) =>
        done({ code: error ? Number(error.code) : 0, stdout }),
      );
    });

  const passed = await runCli(['--api-url', service.stack.apiUrl, '--token', token]);
  const failed = await runCli(['--api-url', service.stack.apiUrl, '--token', token, '--expected-version', '0.0.0']);

  expect(passed.code).toBe(0);
  expect(passed.stdout).toMatch(/^Smoke test passed/);
  expect(failed.code).toBe(1);
  expect(failed.stdout).toMatch(/^Smoke test FAILED at health/);
});
