/**
 * DynamoDB faults injected at the wire (see lib/reliability/faults.ts) under the real handler
 * (`createNotesApi`, built like the Lambda's: same SDK retry budget) behind the local gateway.
 * A throttled or failing DynamoDB must give 503 + Retry-After (never 500), retries must stop
 * at the SDK budget, and whatever the faults, nothing is half-written: every note that exists is
 * complete and every 201 is readable. FAULT_OPS (default 160) sizes the random-fault run,
 * FAULT_RATE (default 0.3) the share of failed attempts, FAULT_SEED replays one.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createNotesApi } from '../../lambda/notes-api/app';
import { SDK_MAX_ATTEMPTS } from '../../lambda/notes-api/index';
import { LOCAL_CREDENTIALS } from '../../lib/local/dynamo';
import { always, faultyDocumentClient, randomFaults, type FaultyClient } from '../../lib/reliability/faults';
import { recordFigure } from '../../lib/reliability/figures';
import { api, keepAliveAgent } from '../../lib/reliability/http';
import { createNote, envInt, newUser, startTempStack, type TempStack, type TestUser } from '../../lib/reliability/world';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
jest.setTimeout(180_000);

const OPS = envInt('FAULT_OPS', 160);
const RATE = Number(process.env.FAULT_RATE ?? 0.3);
const SEED = envInt('FAULT_SEED', 20261124);

let t: TempStack;
let faulty: FaultyClient;
let user: TestUser;
let inner: ((e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult>) | undefined;

beforeAll(async () => {
  t = await startTempStack('faults', { handler: (e, c) => inner!(e, c) });
  faulty = faultyDocumentClient({
    endpoint: t.stack.dynamoEndpoint,
    region: t.stack.region,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: SDK_MAX_ATTEMPTS,
  });
  inner = createNotesApi({ documentClient: faulty.documentClient, tableName: t.stack.tableName, version: 'faults', commit: 'test' });
  user = await newUser(t.stack, 'faults');
});

afterEach(() => faulty.setPlan(() => undefined));

afterAll(async () => {
  keepAliveAgent.destroy();
  faulty?.destroy();
  await t?.dispose();
});

function routes(noteId: string): Array<{ method: string; path: string; body?: unknown; headers?: Record<string, string> }> {
  return [
    { method: 'POST', path: '/notes', body: { title: 'during a fault', content: 'x' } },
    { method: 'GET', path: '/notes?limit=5' },
    { method: 'GET', path: `/notes/${noteId}` },
    { method: 'PUT', path: `/notes/${noteId}`, body: { title: 'changed', content: 'y' }, headers: { 'if-match': '"1"' } },
    { method: 'DELETE', path: `/notes/${noteId}` },
  ];
}

describe.each([
  ['throttled (ProvisionedThroughputExceededException)', 'throttle'],
  ['throttled (ThrottlingException)', 'throttling'],
  ['failing (InternalServerError)', 'internal'],
] as const)('while DynamoDB is %s', (_label, kind) => {
  test('every route answers 503 with Retry-After after at most the SDK retry budget, and nothing changes', async () => {
    // Arrange
    const note = await createNote(t.baseUrl, user.token, 'before the fault', 'stays');
    faulty.setPlan(always(kind));
    const results: Array<{ route: string; status: number; retryAfter: unknown; code: unknown }> = [];

    // Act (all routes at once: the SDK's back-off between throttled attempts is what takes time)
    const before = faulty.stats.commandAttempts.length;
    for (const r of await Promise.all(
      routes(note.noteId).map(async (r) => {
        const res = await api(t.baseUrl, r.method, r.path, user.token, r.body, r.headers);
        return {
          route: `${r.method} ${r.path.replace(note.noteId, '{id}')}`,
          status: res.status,
          retryAfter: res.headers['retry-after'],
          code: (res.json as { error?: { code?: string } }).error?.code,
        };
      }),
    )) results.push(r);
    const attempts = faulty.stats.commandAttempts.slice(before).map((c) => c.attempts);
    faulty.setPlan(() => undefined);
    recordFigure('faults-always', { kind, statuses: results.map((r) => `${r.route} ${r.status}`), maxAttempts: Math.max(...attempts), commands: attempts.length });

    // Assert
    for (const r of results) {
      expect({ route: r.route, status: r.status, code: r.code, retryAfter: typeof r.retryAfter }).toEqual({
        route: r.route,
        status: 503,
        code: 'SERVICE_UNAVAILABLE',
        retryAfter: 'string',
      });
    }
    // Each route made at least one DynamoDB call, and none was tried more often than the budget.
    expect(attempts.length).toBeGreaterThanOrEqual(results.length);
    expect(Math.max(...attempts)).toBeLessThanOrEqual(SDK_MAX_ATTEMPTS);
    const after = await api(t.baseUrl, 'GET', `/notes/${note.noteId}`, user.token);
    expect(after.json).toMatchObject({ title: 'before the fault', content: 'stays', version: 1 });
  });
});

test(`with ${Math.round(RATE * 100)}% of DynamoDB calls failing at random, no request gets a 500 and nothing is half-written`, async () => {
  // Arrange
  faulty.setPlan(randomFaults(RATE, SEED));
  const statuses = new Map<string, number>();
  const bad: string[] = [];
  const acked = new Map<string, string>();
  const deleteAttempted = new Set<string>();
  const count = (k: string): void => void statuses.set(k, (statuses.get(k) ?? 0) + 1);
  const OK: Record<string, number[]> = { POST: [201, 503], GET: [200, 404, 503], PUT: [200, 404, 412, 503], DELETE: [204, 404, 412, 503] };
  let next = 0;

  // Act: twelve clients share OPS operations: create, read, update with If-Match, list, delete.
  const worker = async (): Promise<void> => {
    while (next < OPS) {
      const n = next++;
      const created = await api(t.baseUrl, 'POST', '/notes', user.token, { title: `fault ${n}`, content: `content ${n}`, tags: ['f'] });
      count(`POST ${created.status}`);
      if (!OK.POST.includes(created.status)) bad.push(`POST -> ${created.status} ${created.body.slice(0, 200)}`);
      if (created.status !== 201) continue;
      const id = (created.json as { noteId: string }).noteId;
      acked.set(id, `content ${n}`);
      const steps = [
        () => api(t.baseUrl, 'GET', `/notes/${id}`, user.token).then((r) => ['GET', r] as const),
        () => api(t.baseUrl, 'PUT', `/notes/${id}`, user.token, { title: `fault ${n}`, content: `content ${n}`, tags: ['f', 'u'] }, { 'if-match': '"1"' }).then((r) => ['PUT', r] as const),
        () => api(t.baseUrl, 'GET', '/notes?limit=10', user.token).then((r) => ['GET', r] as const),
        ...(n % 2 ? [() => (deleteAttempted.add(id), api(t.baseUrl, 'DELETE', `/notes/${id}`, user.token).then((r) => ['DELETE', r] as const))] : []),
      ];
      for (const step of steps) {
        const [method, r] = await step();
        count(`${method} ${r.status}`);
        if (!OK[method].includes(r.status)) bad.push(`${method} -> ${r.status} ${r.body.slice(0, 200)}`);
        if (r.status === 503 && typeof r.headers['retry-after'] !== 'string') bad.push(`${method} 503 without Retry-After`);
      }
    }
  };
  await Promise.all(Array.from({ length: 12 }, worker));
  faulty.setPlan(() => undefined);
  console.log(
    `faults: ${faulty.stats.attempts} DynamoDB attempts, injected ${JSON.stringify(faulty.stats.injected)} ` +
      `(${faulty.stats.injectedAfterApply} after the write was applied); answers ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
  );

  recordFigure('faults-random', {
    ops: OPS, rate: RATE, seed: SEED, attempts: faulty.stats.attempts, injected: faulty.stats.injected, injectedAfterApply: faulty.stats.injectedAfterApply,
    answers: Object.fromEntries([...statuses].sort()), bad: bad.length,
    attemptsHistogram: faulty.stats.commandAttempts.reduce<Record<string, number>>((h, c) => ((h[c.attempts] = (h[c.attempts] ?? 0) + 1), h), {}),
  });

  // Assert: answers
  expect(bad.slice(0, 10)).toEqual([]);
  const maxAttempts = Math.max(...faulty.stats.commandAttempts.map((c) => c.attempts));
  expect(maxAttempts).toBeLessThanOrEqual(SDK_MAX_ATTEMPTS);
  // The SDK did retry (so the faults were survived by retries, not only reported as 503s).
  expect(faulty.stats.commandAttempts.some((c) => c.attempts > 1 && c.ok)).toBe(true);

  // Assert: storage, read raw from DynamoDB (not through the handler)
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await faulty.documentClient.send(
      new QueryCommand({ TableName: t.stack.tableName, KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': user.sub }, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const incomplete = items.filter(
    (i) =>
      typeof i.title !== 'string' || typeof i.content !== 'string' || !Array.isArray(i.tags) || typeof i.createdAt !== 'string' ||
      typeof i.updatedAt !== 'string' || typeof i.version !== 'number' || i.version < 1,
  );
  const stored = new Set(items.map((i) => i.noteId as string));
  const lost = [...acked.keys()].filter((id) => !deleteAttempted.has(id) && !stored.has(id));
  recordFigure('faults-storage', { storedNotes: items.length, incomplete: incomplete.length, acknowledgedCreates: acked.size, lost: lost.length });
  expect(incomplete).toEqual([]);
  expect(lost).toEqual([]);
});
