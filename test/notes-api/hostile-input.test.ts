import fc from 'fast-check';
import { apiEvent, lambdaContext } from './events';
import { ErrorBody, newApi, NoteBody, RunningDynalite, startDynalite, TestApi } from './harness';

let db: RunningDynalite;
let api: TestApi;
const ALICE = 'alice-sub-0001';
const RUNS = { numRuns: 120 };

beforeAll(async () => {
  db = await startDynalite();
  api = await newApi(db, { maxBodyBytes: 4096 });
});
afterAll(async () => {
  await db?.stop();
});

/** A client-caused outcome: success or a 4xx with the JSON error shape. Never 5xx. */
function expectClientOutcome(status: number, json: unknown): void {
  expect(status).toBeLessThan(500);
  if (status >= 400) {
    const error = (json as ErrorBody).error;
    expect(typeof error.code).toBe('string');
    expect(typeof error.message).toBe('string');
  }
}

const anyText = fc.string({ unit: 'binary', maxLength: 60 });

describe('no client input produces a 500', () => {
  it('POST /notes with any JSON value as body answers 201 or 400', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (body) => {
        const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

        expect([201, 400]).toContain(res.status);
        expectClientOutcome(res.status, res.json);
      }),
      RUNS,
    );
  });

  it('POST /notes with any text as body (maybe base64) answers 201, 400 or 413', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, fc.boolean(), async (text, base64) => {
        const res = await api.call({
          method: 'POST',
          path: '/notes',
          user: ALICE,
          body: base64 ? Buffer.from(text).toString('base64') : text,
          isBase64Encoded: base64,
          headers: { 'Content-Type': 'application/json' },
        });

        expect([201, 400, 413]).toContain(res.status);
        expectClientOutcome(res.status, res.json);
      }),
      RUNS,
    );
  });

  it('note-shaped bodies with arbitrary field values never fail on the server side', async () => {
    const field = fc.oneof(anyText, fc.double(), fc.integer(), fc.constant(null), fc.boolean(), fc.array(anyText, { maxLength: 25 }));
    await fc.assert(
      fc.asyncProperty(field, field, fc.option(field, { nil: undefined }), async (title, content, tags) => {
        const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title, content, tags } });

        expectClientOutcome(res.status, res.json);
      }),
      RUNS,
    );
  });

  it('any path, method and headers answer with a client outcome', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PUT', 'DELETE', 'POST', 'PATCH', 'OPTIONS', 'HEAD', 'get', 'FOO'),
        fc.array(anyText, { minLength: 0, maxLength: 4 }),
        fc.boolean(),
        fc.record({ 'Content-Type': anyText, 'If-Match': anyText, Origin: anyText }, { requiredKeys: [] }),
        async (method, segments, encode, headers) => {
          const path = '/' + segments.map((s) => (encode ? encodeURIComponent(s) : s)).join('/');
          const res = await api.call({ method, path, user: ALICE, headers, body: method === 'PUT' ? '{"title":"t","content":""}' : undefined });

          expectClientOutcome(res.status, res.json);
        },
      ),
      RUNS,
    );
  });

  it('any query string on GET /notes answers 200 or 400', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('limit', 'cursor', 'other'), fc.oneof(anyText, fc.array(anyText, { minLength: 1, maxLength: 3 }))),
        async (query) => {
          const res = await api.call({ method: 'GET', path: '/notes', user: ALICE, query });

          expect([200, 400]).toContain(res.status);
          expectClientOutcome(res.status, res.json);
        },
      ),
      RUNS,
    );
  });
});

describe('edge cases handled explicitly', () => {
  it('stores and returns unicode text exactly (emoji, combining marks, RTL, NUL)', async () => {
    const title = 'Ünïcödé 📝 نص \u0000 e\u0301';
    const tags = ['日本語', '🏷️'];

    const created = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title, content: '𝄞'.repeat(100), tags } });
    const read = await api.call({ method: 'GET', path: `/notes/${(created.json as NoteBody).noteId}`, user: ALICE });

    expect(created.status).toBe(201);
    expect(read.json).toMatchObject({ title, content: '𝄞'.repeat(100), tags });
  });

  it('removes duplicate tags, keeping their order', async () => {
    const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title: 't', content: '', tags: ['b', 'a', 'b'] } });

    expect((res.json as NoteBody).tags).toEqual(['b', 'a']);
  });

  it.each([
    ['huge number as title', '{"title": 1e400, "content": ""}'],
    ['big integer as content', '{"title": "t", "content": 123456789012345678901234567890}'],
    ['__proto__ key', '{"title": "t", "content": "", "__proto__": {"admin": true}}'],
    ['constructor key', '{"title": "t", "content": "", "constructor": "x"}'],
    ['deep nesting', `{"title": "t", "content": "", "tags": ${'['.repeat(1500)}${']'.repeat(1500)}}`],
    ['duplicate keys with a bad last value', '{"title": "ok", "content": "", "title": 5}'],
    ['BOM before the JSON', '\ufeff{"title": "t", "content": ""}'],
  ])('answers 400 for %s', async (_name, body) => {
    const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body, headers: { 'Content-Type': 'application/json' } });

    expect(res.status).toBe(400);
  });

  it('reports at most 20 issues and shortens long unknown field names', async () => {
    const body: Record<string, string> = { title: 't', content: '' };
    for (let i = 0; i < 25; i++) body[`${'k'.repeat(120)}${i}`] = 'x';

    const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body });

    const issues = (res.json as ErrorBody).error.details?.issues ?? [];
    expect(res.status).toBe(400);
    expect(issues).toHaveLength(20);
    expect(Math.max(...issues.map((i) => i.field.length))).toBeLessThanOrEqual(103);
  });

  it('accepts a base64-encoded JSON body', async () => {
    const body = Buffer.from(JSON.stringify({ title: 'from base64', content: '' })).toString('base64');

    const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body, isBase64Encoded: true, headers: { 'Content-Type': 'application/json' } });

    expect(res.status).toBe(201);
    expect((res.json as NoteBody).title).toBe('from base64');
  });

  it('copes with an event with no headers, no query maps and a null body', async () => {
    const event = apiEvent({ method: 'POST', path: '/notes', user: ALICE });
    const bare = { ...event, headers: null, multiValueHeaders: null, body: null } as unknown as typeof event;

    const res = await api.handler(bare, lambdaContext());

    expect(res.statusCode).toBe(415);
  });

  it('routes a {proxy+} integration by its proxy path', async () => {
    const res = await api.call({ method: 'GET', path: '/health', resource: '/{proxy+}' });

    expect(res.status).toBe(200);
  });

  it('routes by the matched resource even when the path carries a custom-domain base path', async () => {
    const event = apiEvent({ method: 'GET', path: '/health' });
    const res = await api.handler({ ...event, path: '/v1/health' }, lambdaContext());

    expect(res.statusCode).toBe(200);
  });
});
