/**
 * The smoke checks proven both ways against the local mode over real HTTP: every check passes on
 * a healthy service, and each check fails, naming itself and the response it got, on a service
 * broken in that one way. Notes the run created are gone afterwards even when a check failed.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CHECK_NAMES, runSmokeChecks, type CheckName, type SmokeReport, type SmokeTarget } from '../../lambda/smoke-test/checks';
import { RELEASE_VERSION, SLOW_HEALTH_MS, startSmokeService, type GatewayFault, type HandlerFault, type SmokeService } from './harness';

let service: SmokeService;

beforeAll(async () => {
  service = await startSmokeService('checks');
});

afterAll(async () => {
  await service?.stop();
});

afterEach(async () => {
  service.releaseHanging();
  // Some faults leave a note behind (a DELETE that does not delete): every test starts clean.
  await service.purgeSmokeUserNotes();
});

/** A generous SLA, so that only the fault under test can fail a check on a busy machine. */
const RELAXED_SLA_MS = 10_000;

function target(overrides: Partial<SmokeTarget> = {}): SmokeTarget {
  return {
    apiUrl: service.stack.apiUrl,
    expectedVersion: RELEASE_VERSION,
    healthSlaMs: RELAXED_SLA_MS,
    login: () => service.login(),
    timeoutMs: 5000,
    // The forged token claims the local pool's issuer and smoke client: only the signature is wrong.
    forgery: { issuer: service.stack.issuer, audience: service.stack.smokeClientId },
    ...overrides,
  };
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function result(report: SmokeReport, name: CheckName): { passed: boolean; skipped?: boolean; detail?: string } {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no result for ${name}`);
  return found;
}

/** Every check before `name` passed, `name` failed (not skipped), and the summary leads with it. */
function expectFirstFailure(report: SmokeReport, name: CheckName): void {
  expect(report.passed).toBe(false);
  expect(report.failure?.name).toBe(name);
  const index = CHECK_NAMES.indexOf(name);
  for (const earlier of CHECK_NAMES.slice(0, index)) expect(result(report, earlier)).toMatchObject({ passed: true });
  expect(result(report, name)).toMatchObject({ passed: false });
  expect(result(report, name).skipped).toBeUndefined();
  expect(report.summary.split('\n')[0]).toContain(`FAILED at ${name}`);
  expect(report.summary).toMatch(new RegExp(`^FAIL ${name} \\d+ ms - `, 'm'));
}

describe('on a healthy service', () => {
  test('all checks pass, in order, and the summary names each check with its time', async () => {
    const report = await runSmokeChecks(target());

    expect(report.passed).toBe(true);
    expect(report.failure).toBeUndefined();
    expect(report.checks.map((c) => c.name)).toEqual([...CHECK_NAMES]);
    expect(report.checks.every((c) => c.passed && !c.skipped)).toBe(true);
    expect(report.summary.split('\n')[0]).toMatch(/^Smoke test passed: 11\/11 checks against http:\/\/127\.0\.0\.1:\d+\/ in \d+ ms$/);
    for (const name of CHECK_NAMES) expect(report.summary).toMatch(new RegExp(`^PASS ${name} \\d+ ms`, 'm'));
  });

  test('leaves no note behind', async () => {
    const report = await runSmokeChecks(target());

    expect(report.passed).toBe(true);
    expect(report.cleanup.created).toHaveLength(1);
    expect(report.cleanup.leftBehind).toEqual([]);
    expect(await service.smokeUserNotes()).toEqual([]);
  });

  test('passes without an expected version (any version is accepted)', async () => {
    const report = await runSmokeChecks(target({ expectedVersion: undefined }));

    expect(report.passed).toBe(true);
    expect(result(report, 'health').detail).toContain(`version ${RELEASE_VERSION}`);
  });

  test('accepts an API URL without the trailing slash', async () => {
    const report = await runSmokeChecks(target({ apiUrl: service.stack.apiUrl.replace(/\/$/, '') }));

    expect(report.passed).toBe(true);
  });
});

describe('each check fails, naming itself, on a service broken in that one way', () => {
  test('health: /health reports another version than the one released', async () => {
    service.fault = 'wrong-version';

    const report = await runSmokeChecks(target());

    expectFirstFailure(report, 'health');
    expect(report.failure?.detail).toContain('version is "1.2.2", expected "1.2.3"');
    expect(report.failure?.detail).toContain('GET /health -> 200');
  });

  test('health: /health answers slower than the SLA', async () => {
    service.fault = 'slow-health';

    const report = await runSmokeChecks(target({ healthSlaMs: SLOW_HEALTH_MS / 2 }));

    expectFirstFailure(report, 'health');
    expect(report.failure?.detail).toMatch(new RegExp(`GET /health -> 200 in \\d+ ms, over the ${SLOW_HEALTH_MS / 2} ms SLA`));
  });

  test('health: /health does not answer within the per-call timeout', async () => {
    service.fault = 'hanging-health';

    const report = await runSmokeChecks(target({ timeoutMs: 300 }));

    expectFirstFailure(report, 'health');
    expect(report.failure?.detail).toBe('GET /health: no response within 300 ms');
  });

  test('health: nothing listens at the API URL', async () => {
    const port = await closedPort();

    const report = await runSmokeChecks(target({ apiUrl: `http://127.0.0.1:${port}/` }));

    expect(report.failure?.name).toBe('health');
    expect(report.failure?.detail).toMatch(/^GET \/health: request failed \(TypeError: fetch failed \(ECONNREFUSED\)\)$/);
  });

  const gatewayCases: Array<[CheckName, GatewayFault, string]> = [
    ['auth-no-token', 'open-endpoint', 'without a token: expected 401, got GET /notes -> 200'],
    ['auth-forged-token', 'no-signature-check', 'with a token signed by a key of our own: expected 401, got GET /notes -> 200'],
    ['auth-login', 'rejects-every-token', 'with the smoke user\'s token: expected 200, got GET /notes?limit=1 -> 401 {"message":"Unauthorized"}'],
  ];
  test.each(gatewayCases)('%s: the gateway is broken (%s)', async (name, fault, detail) => {
    const apiUrl = await service.brokenGatewayUrl(fault);

    const report = await runSmokeChecks(target({ apiUrl }));

    expectFirstFailure(report, name);
    expect(report.failure?.detail).toContain(detail);
  });

  test('auth-login: the smoke user cannot log in; every CRUD check is skipped, not passed', async () => {
    const report = await runSmokeChecks(target({ login: () => Promise.reject(Object.assign(new Error('Incorrect username or password.'), { name: 'NotAuthorizedException' })) }));

    expectFirstFailure(report, 'auth-login');
    expect(report.failure?.detail).toBe('login failed: NotAuthorizedException: Incorrect username or password.');
    for (const name of CHECK_NAMES.filter((n) => n.startsWith('crud-'))) {
      expect(result(report, name)).toEqual({ name, passed: false, skipped: true, ms: 0, detail: 'skipped: needs auth-login, which did not pass' });
      expect(report.summary).toContain(`SKIP ${name} - skipped: needs auth-login`);
    }
  });

  test('auth-login: Cognito refuses the password (real cognito-local)', async () => {
    const { getSmokeIdToken } = await import('../../lib/local/users');
    const login = (): Promise<string> => getSmokeIdToken(service.stack, service.smokeUser.email, 'Wrong-Password-9!');

    const report = await runSmokeChecks(target({ login }));

    expectFirstFailure(report, 'auth-login');
    expect(report.failure?.detail).toMatch(/^login failed: NotAuthorizedException/);
  });

  test('auth-login: a login that never answers fails within the per-call timeout', async () => {
    // The same timeout bounds the earlier checks' calls: generous, so only the login can hit it.
    const report = await runSmokeChecks(target({ login: () => new Promise<string>(() => undefined), timeoutMs: 1500 }));

    expectFirstFailure(report, 'auth-login');
    expect(report.failure?.detail).toBe('login: no answer within 1500 ms');
  });

  const handlerCases: Array<[CheckName, HandlerFault, RegExp]> = [
    ['crud-create', 'create-fails', /^expected 201, got POST \/notes -> 500 \{"error":\{"code":"INTERNAL_ERROR"/],
    ['crud-list', 'list-missing-note', /^GET \/notes\?limit=100 -> 200 \{"items":\[\],"nextCursor":null\}: the list does not contain [0-9A-Z]{26}$/],
    ['crud-get', 'get-wrong-content', /^GET \/notes\/[0-9A-Z]{26} -> 200 but the note is not as created: title "someone else"/],
    ['crud-update', 'update-fails', /^with If-Match "1": expected 200, got PUT \/notes\/[0-9A-Z]{26} -> 500/],
    ['crud-get-updated', 'update-not-persisted', /^GET \/notes\/[0-9A-Z]{26} -> 200 but the note is not updated: title "smoke .*", expected "smoke .* \(updated\)"/],
    ['crud-delete', 'conditional-delete-broken', /^with If-Match "2": expected 204, got DELETE \/notes\/[0-9A-Z]{26} -> 412/],
    ['crud-get-deleted', 'delete-not-persisted', /^after DELETE: expected 404, got GET \/notes\/[0-9A-Z]{26} -> 200/],
  ];
  test.each(handlerCases)('%s: the handler is broken (%s)', async (name, fault, detail) => {
    service.fault = fault;

    const report = await runSmokeChecks(target());

    expectFirstFailure(report, name);
    expect(report.failure?.detail).toMatch(detail);
  });

  test('crud-create failing skips every later CRUD check', async () => {
    service.fault = 'create-fails';

    const report = await runSmokeChecks(target());

    const later = CHECK_NAMES.slice(CHECK_NAMES.indexOf('crud-create') + 1);
    expect(later.map((n) => result(report, n).skipped)).toEqual(later.map(() => true));
    expect(later.every((n) => !result(report, n).passed)).toBe(true);
  });
});

describe('clean-up', () => {
  test.each<HandlerFault>(['list-missing-note', 'get-wrong-content', 'update-fails', 'update-not-persisted', 'conditional-delete-broken'])(
    'after %s fails a check, the smoke user has no notes left',
    async (fault) => {
      service.fault = fault;

      const report = await runSmokeChecks(target());
      service.fault = 'none';

      expect(report.passed).toBe(false);
      expect(report.cleanup.created).toHaveLength(1);
      expect(report.cleanup.leftBehind).toEqual([]);
      expect(await service.smokeUserNotes()).toEqual([]);
    },
  );

  test('a DELETE that does not delete is reported as a note left behind, with the response', async () => {
    service.fault = 'delete-not-persisted';

    const report = await runSmokeChecks(target());
    service.fault = 'none';

    expect(report.cleanup.leftBehind).toEqual(report.cleanup.created);
    expect(report.summary).toMatch(/Clean-up: 1 of 1 note\(s\) LEFT BEHIND \([0-9A-Z]{26}\): still there after DELETE: GET \/notes\/[0-9A-Z]{26} -> 200/);
    expect((await service.smokeUserNotes()).map((n) => n.noteId)).toEqual(report.cleanup.created);
  });

  test('a run stopped during a check fails that check, skips the rest, and still removes its note', async () => {
    const controller = new AbortController();
    const onCheckStart = (name: CheckName): void => {
      if (name === 'crud-update') controller.abort();
    };

    const report = await runSmokeChecks(target({ signal: controller.signal, onCheckStart }));

    expect(report.failure).toEqual({ name: 'crud-update', detail: expect.stringContaining('the smoke test was stopped') });
    for (const name of ['crud-get-updated', 'crud-delete', 'crud-get-deleted'] as const) {
      expect(result(report, name)).toMatchObject({ passed: false, skipped: true, detail: 'skipped: the smoke test was stopped' });
    }
    expect(report.cleanup.leftBehind).toEqual([]);
    expect(await service.smokeUserNotes()).toEqual([]);
  });
});
