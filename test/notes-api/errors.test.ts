import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { apiEvent, lambdaContext } from './events';
import { ErrorBody, newApi, NoteBody, RunningDynalite, startDynalite, TestApi } from './harness';

let db: RunningDynalite;
let api: TestApi;
const ALICE = 'alice-sub-0001';
const VALID = { title: 'Title', content: 'Body', tags: ['a'] };

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db?.stop();
});
beforeEach(async () => {
  api = await newApi(db);
});

function errorOf(json: unknown): ErrorBody['error'] {
  return (json as ErrorBody).error;
}

function fieldsOf(json: unknown): string[] {
  return (errorOf(json).details?.issues ?? []).map((i) => i.field);
}

async function createNote(): Promise<NoteBody> {
  const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: VALID });
  expect(res.status).toBe(201);
  return res.json as NoteBody;
}

describe('400: invalid note bodies name the field and the reason', () => {
  const cases: [string, string, RegExp, unknown][] = [
    ['title missing', 'title', /title is required/, { content: 'x' }],
    ['title empty', 'title', /must not be empty/, { title: '', content: 'x' }],
    ['title blank', 'title', /must not be blank/, { title: '   ', content: 'x' }],
    ['title too long', 'title', /at most 200/, { title: 't'.repeat(201), content: 'x' }],
    ['title not a string', 'title', /must be a string/, { title: 42, content: 'x' }],
    ['content missing', 'content', /content is required/, { title: 't' }],
    ['content too long', 'content', /at most 100000/, { title: 't', content: 'c'.repeat(100_001) }],
    ['tags not an array', 'tags', /array of strings/, { title: 't', content: '', tags: 'a,b' }],
    ['too many tags', 'tags', /at most 20/, { title: 't', content: '', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }],
    ['tag too long', 'tags.1', /at most 50/, { title: 't', content: '', tags: ['ok', 'x'.repeat(51)] }],
    ['empty tag', 'tags.0', /must not be empty/, { title: 't', content: '', tags: [''] }],
    ['tag not a string', 'tags.0', /must be a string/, { title: 't', content: '', tags: [7] }],
    ['unknown field', 'userId', /not an accepted field/, { title: 't', content: '', userId: 'someone-else' }],
    ['client-chosen version', 'version', /not an accepted field/, { title: 't', content: '', version: 99 }],
    ['array instead of object', '(body)', /JSON object/, [VALID]],
    ['JSON null', '(body)', /JSON object/, null],
    ['JSON string', '(body)', /JSON object/, 'a note'],
    ['unpaired surrogate in title', 'title', /surrogate/, { title: 'bad \ud800 text', content: '' }],
  ];

  it.each(cases)('%s -> 400 on %s', async (_name, field, reason, body) => {
    const res = await api.call({
      method: 'POST',
      path: '/notes',
      user: ALICE,
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    });

    expect(res.status).toBe(400);
    const error = errorOf(res.json);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(fieldsOf(res.json)).toContain(field);
    expect(error.details?.issues?.find((i) => i.field === field)?.message).toMatch(reason);
  });

  it('accepts every field at its documented maximum: title 200, content 100 000, 20 tags of 50 characters', async () => {
    const body = {
      title: 't'.repeat(200),
      content: 'c'.repeat(100_000),
      tags: Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(48)}`),
    };

    const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body });

    expect(res.status).toBe(201);
    const read = await api.call({ method: 'GET', path: `/notes/${(res.json as NoteBody).noteId}`, user: ALICE });
    expect(read.json).toMatchObject(body);
  });

  it('reports every invalid field at once', async () => {
    const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title: '', content: 5, tags: [1] } });

    expect(res.status).toBe(400);
    expect(fieldsOf(res.json)).toEqual(expect.arrayContaining(['title', 'content', 'tags.0']));
  });

  it('validates PUT bodies the same way and leaves the note unchanged', async () => {
    const note = await createNote();

    const res = await api.call({ method: 'PUT', path: `/notes/${note.noteId}`, user: ALICE, body: { title: 'x'.repeat(201), content: '' } });

    expect(res.status).toBe(400);
    expect(fieldsOf(res.json)).toEqual(['title']);
    const read = await api.call({ method: 'GET', path: `/notes/${note.noteId}`, user: ALICE });
    expect(read.json).toEqual(note);
  });
});

describe('400: malformed requests', () => {
  it('rejects a body that is not valid JSON', async () => {
    const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: '{"title": "x",', headers: { 'Content-Type': 'application/json' } });

    expect(res.status).toBe(400);
    expect(errorOf(res.json).code).toBe('MALFORMED_JSON');
  });

  it('rejects a missing body', async () => {
    const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, headers: { 'Content-Type': 'application/json' } });

    expect(res.status).toBe(400);
    expect(errorOf(res.json).code).toBe('BODY_REQUIRED');
  });

  it('rejects a base64 body that is not UTF-8', async () => {
    const res = await api.call({
      method: 'POST',
      path: '/notes',
      user: ALICE,
      body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64'),
      isBase64Encoded: true,
      headers: { 'Content-Type': 'application/json' },
    });

    expect(res.status).toBe(400);
    expect(errorOf(res.json).code).toBe('INVALID_ENCODING');
  });

  it.each([
    ['zero', '0'],
    ['over 100', '101'],
    ['not a number', 'ten'],
    ['negative', '-5'],
    ['fraction', '2.5'],
    ['empty', ''],
    ['huge', '99999999999999999999999'],
  ])('rejects limit %s with 400 on limit', async (_name, limit) => {
    const res = await api.call({ method: 'GET', path: '/notes', user: ALICE, query: { limit } });

    expect(res.status).toBe(400);
    expect(errorOf(res.json).code).toBe('VALIDATION_FAILED');
    expect(fieldsOf(res.json)).toEqual(['limit']);
  });

  it('rejects a repeated limit parameter instead of guessing which one was meant', async () => {
    const res = await api.call({ method: 'GET', path: '/notes', user: ALICE, query: { limit: ['5', '10'] } });

    expect(res.status).toBe(400);
    expect(fieldsOf(res.json)).toEqual(['limit']);
  });

  it.each([
    ['not base64url', '!!!'],
    ['base64 of garbage', Buffer.from('not json').toString('base64url')],
    ['JSON of the wrong shape', Buffer.from(JSON.stringify({ userId: ALICE })).toString('base64url')],
    ['a bad note id', Buffer.from(JSON.stringify({ userId: ALICE, noteId: '../../etc' })).toString('base64url')],
    ['far too long', 'A'.repeat(5000)],
  ])('rejects a cursor that is %s with 400 INVALID_CURSOR', async (_name, cursor) => {
    const res = await api.call({ method: 'GET', path: '/notes', user: ALICE, query: { cursor } });

    expect(res.status).toBe(400);
    expect(errorOf(res.json).code).toBe('INVALID_CURSOR');
    expect(fieldsOf(res.json)).toEqual(['cursor']);
  });
});

describe('401: no authenticated user', () => {
  it.each([
    ['POST', '/notes'],
    ['GET', '/notes'],
    ['GET', '/notes/01ARZ3NDEKTSV4RRFFQ69G5FAV'],
    ['PUT', '/notes/01ARZ3NDEKTSV4RRFFQ69G5FAV'],
    ['DELETE', '/notes/01ARZ3NDEKTSV4RRFFQ69G5FAV'],
  ])('%s %s without authorizer claims -> 401 JSON error', async (method, path) => {
    const res = await api.call({ method, path, body: method === 'POST' || method === 'PUT' ? VALID : undefined });

    expect(res.status).toBe(401);
    expect(errorOf(res.json).code).toBe('UNAUTHORIZED');
  });

  it('identifies the caller only by the sub claim: claims without sub are unauthenticated', async () => {
    const event = apiEvent({ method: 'GET', path: '/notes' });
    event.requestContext.authorizer = { claims: { 'cognito:username': ALICE, email: 'alice@example.com', token_use: 'id' } };

    const res = await api.handler(event, lambdaContext());

    expect(res.statusCode).toBe(401);
    expect((JSON.parse(res.body) as ErrorBody).error.code).toBe('UNAUTHORIZED');
  });

  it('treats an empty sub claim as unauthenticated', async () => {
    const res = await api.call({ method: 'GET', path: '/notes', user: '' });

    expect(res.status).toBe(401);
  });
});

describe('404: missing notes and unknown paths', () => {
  it('returns 404 for a well-formed id that does not exist, on GET, PUT and DELETE', async () => {
    const id = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

    const get = await api.call({ method: 'GET', path: `/notes/${id}`, user: ALICE });
    const put = await api.call({ method: 'PUT', path: `/notes/${id}`, user: ALICE, body: VALID });
    const del = await api.call({ method: 'DELETE', path: `/notes/${id}`, user: ALICE });

    expect([get.status, put.status, del.status]).toEqual([404, 404, 404]);
    expect(errorOf(put.json)).toEqual({ code: 'NOT_FOUND', message: 'Note not found' });
  });

  it('PUT does not create a note that does not exist', async () => {
    const id = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

    await api.call({ method: 'PUT', path: `/notes/${id}`, user: ALICE, body: VALID });

    const list = await api.call({ method: 'GET', path: '/notes', user: ALICE });
    expect((list.json as { items: unknown[] }).items).toEqual([]);
  });

  it.each([
    ['lower-case ULID', '01arz3ndektsv4rrffq69g5fav'],
    ['too short', '01ARZ3'],
    ['unicode', 'nöte-✓'],
    ['traversal', '..%2F..%2Fetc%2Fpasswd'],
    ['encoded slash', 'a%2Fb'],
    ['broken percent-encoding', '%E0%A4%A'],
  ])('returns 404 for a malformed note id (%s)', async (_name, id) => {
    const res = await api.call({ method: 'GET', path: `/notes/${id}`, user: ALICE });

    expect(res.status).toBe(404);
    expect(errorOf(res.json).code).toBe('NOT_FOUND');
  });

  it.each(['/nope', '/notes/a/b', '/notes/01ARZ3NDEKTSV4RRFFQ69G5FAV/../../health'])('returns 404 for unknown path %s', async (path) => {
    const res = await api.call({ method: 'GET', path, user: ALICE });

    expect(res.status).toBe(404);
    expect(errorOf(res.json).code).toBe('NOT_FOUND');
  });
});

describe('405: known path, wrong method', () => {
  it.each([
    ['DELETE', '/notes', 'POST, GET'],
    ['PATCH', '/notes/01ARZ3NDEKTSV4RRFFQ69G5FAV', 'GET, PUT, DELETE'],
    ['POST', '/health', 'GET'],
  ])('%s %s -> 405 with Allow: %s', async (method, path, allow) => {
    const res = await api.call({ method, path, user: ALICE });

    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(errorOf(res.json).code).toBe('METHOD_NOT_ALLOWED');
  });
});

describe('413: body too large', () => {
  beforeEach(async () => {
    api = await newApi(db, { maxBodyBytes: 1024 });
  });

  it('rejects a body over MAX_BODY_BYTES before parsing it', async () => {
    const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title: 't', content: 'x'.repeat(2000) } });

    expect(res.status).toBe(413);
    expect(errorOf(res.json)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { maxBytes: 1024 } });
  });

  it('accepts a body of exactly MAX_BODY_BYTES and refuses one byte more', async () => {
    const bodyOfSize = (bytes: number): string => {
      const empty = JSON.stringify({ title: 't', content: '' });
      return JSON.stringify({ title: 't', content: 'x'.repeat(bytes - Buffer.byteLength(empty)) });
    };
    const headers = { 'Content-Type': 'application/json' };

    const atLimit = await api.call({ method: 'POST', path: '/notes', user: ALICE, headers, body: bodyOfSize(1024) });
    const overLimit = await api.call({ method: 'POST', path: '/notes', user: ALICE, headers, body: bodyOfSize(1025) });

    expect(atLimit.status).toBe(201);
    expect(overLimit.status).toBe(413);
  });

  it('counts bytes, not characters (multi-byte UTF-8)', async () => {
    // 400 three-byte characters: 400 chars but 1200 bytes > 1024.
    const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title: 't', content: '€'.repeat(400) } });

    expect(res.status).toBe(413);
  });

  it('measures a base64 body after decoding', async () => {
    const json = JSON.stringify({ title: 't', content: 'x'.repeat(700) }); // ~730 bytes, ~975 base64 chars
    const res = await api.call({
      method: 'POST',
      path: '/notes',
      user: ALICE,
      body: Buffer.from(json).toString('base64'),
      isBase64Encoded: true,
      headers: { 'Content-Type': 'application/json' },
    });

    expect(res.status).toBe(201);
  });
});

describe('415: not JSON', () => {
  it.each([
    ['no Content-Type', {}],
    ['text/plain', { 'Content-Type': 'text/plain' }],
    ['form data', { 'Content-Type': 'application/x-www-form-urlencoded' }],
    ['a non-UTF-8 charset', { 'Content-Type': 'application/json; charset=iso-8859-1' }],
  ])('rejects %s with 415', async (_name, headers) => {
    const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: JSON.stringify(VALID), headers });

    expect(res.status).toBe(415);
    expect(errorOf(res.json).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it.each(['application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"', 'application/json; charset=utf8'])(
    'accepts Content-Type %s',
    async (contentType) => {
      const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: JSON.stringify(VALID), headers: { 'content-type': contentType } });

      expect(res.status).toBe(201);
    },
  );
});

describe('503 and 500: failures that are not the client\'s fault', () => {
  function failingClient(error: Error): DynamoDBDocumentClient {
    const client = DynamoDBDocumentClient.from(db.client);
    jest.spyOn(client, 'send').mockImplementation(() => Promise.reject(error));
    return client;
  }

  it('answers a DynamoDB throttle with 503 and Retry-After', async () => {
    const throttled = await newApi(db, {
      documentClient: failingClient(new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} })),
    });

    const res = await throttled.call({ method: 'GET', path: '/notes', user: ALICE });

    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(errorOf(res.json).code).toBe('SERVICE_UNAVAILABLE');
  });

  it.each(['ThrottlingException', 'RequestLimitExceeded', 'InternalServerError', 'ServiceUnavailable'])(
    'answers %s with 503',
    async (name) => {
      const error = Object.assign(new Error('busy'), { name });
      const throttled = await newApi(db, { documentClient: failingClient(error) });

      const res = await throttled.call({ method: 'POST', path: '/notes', user: ALICE, body: VALID });

      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
    },
  );

  it('answers an unexpected failure with a generic 500 that carries the request id and hides the cause', async () => {
    const broken = await newApi(db, { documentClient: failingClient(new Error('socket hang up at 10.0.0.7 secret-detail')) });

    const res = await broken.call({ method: 'GET', path: '/notes', user: ALICE });

    expect(res.status).toBe(500);
    const error = errorOf(res.json);
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(error.details?.requestId).toBe(res.requestId);
    expect(error.message).toContain(res.requestId);
    expect(res.raw.body).not.toContain('secret-detail');
    expect(res.headers['x-request-id']).toBe(res.requestId);
  });
});
