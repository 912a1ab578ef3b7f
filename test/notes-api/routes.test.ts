import { newApi, NoteBody, ListBody, RunningDynalite, startDynalite, TestApi, ErrorBody } from './harness';

let db: RunningDynalite;
let api: TestApi;
const ALICE = 'alice-sub-0001';

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db?.stop();
});
beforeEach(async () => {
  api = await newApi(db);
});

async function createNote(user = ALICE, body: object = { title: 'Groceries', content: 'milk, eggs', tags: ['home'] }): Promise<NoteBody> {
  const res = await api.call({ method: 'POST', path: '/notes', user, body });
  expect(res.status).toBe(201);
  return res.json as NoteBody;
}

describe('GET /health', () => {
  it('answers ok with the release version and commit, without authentication', async () => {
    const res = await api.call({ method: 'GET', path: '/health' });

    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok', version: '1.2.3', commit: 'abc1234' });
  });
});

describe('POST /notes', () => {
  it('creates a note and returns 201 with Location, ETag and the note at version 1', async () => {
    const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title: 'Groceries', content: 'milk', tags: ['home', 'todo'] } });

    const note = res.json as NoteBody;
    expect(res.status).toBe(201);
    expect(note).toEqual({
      noteId: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      title: 'Groceries',
      content: 'milk',
      tags: ['home', 'todo'],
      createdAt: expect.any(String),
      updatedAt: note.createdAt,
      version: 1,
    });
    expect(res.headers.location).toBe(`/notes/${note.noteId}`);
    expect(res.headers.etag).toBe('"1"');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('stores tags as an empty list when none are given', async () => {
    const note = await createNote(ALICE, { title: 'No tags', content: '' });

    expect(note.tags).toEqual([]);
    expect(note.content).toBe('');
  });
});

describe('GET /notes/{id}', () => {
  it('returns the note with its ETag', async () => {
    const created = await createNote();

    const res = await api.call({ method: 'GET', path: `/notes/${created.noteId}`, user: ALICE });

    expect(res.status).toBe(200);
    expect(res.json).toEqual(created);
    expect(res.headers.etag).toBe('"1"');
  });

  it('tells browsers and proxies not to cache the note (personal data that changes)', async () => {
    const created = await createNote();

    const res = await api.call({ method: 'GET', path: `/notes/${created.noteId}`, user: ALICE });

    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('PUT /notes/{id}', () => {
  it('replaces title, content and tags and bumps the version', async () => {
    const created = await createNote();

    const res = await api.call({
      method: 'PUT',
      path: `/notes/${created.noteId}`,
      user: ALICE,
      body: { title: 'Shopping', content: 'bread', tags: [] },
    });

    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ noteId: created.noteId, title: 'Shopping', content: 'bread', tags: [], version: 2, createdAt: created.createdAt });
    expect(res.headers.etag).toBe('"2"');
    const read = await api.call({ method: 'GET', path: `/notes/${created.noteId}`, user: ALICE });
    expect((read.json as NoteBody).title).toBe('Shopping');
  });
});

describe('PUT /notes/{id} timestamps', () => {
  it('sets updatedAt to the time of the PUT and keeps createdAt from the POST', async () => {
    let clock = Date.parse('2026-01-02T03:04:05.000Z');
    const clocked = await newApi(db, { now: () => clock });
    const created = (await clocked.call({ method: 'POST', path: '/notes', user: ALICE, body: { title: 'a', content: '' } })).json as NoteBody;
    clock = Date.parse('2026-02-03T04:05:06.000Z');

    const res = await clocked.call({ method: 'PUT', path: `/notes/${created.noteId}`, user: ALICE, body: { title: 'b', content: '' } });

    expect(created).toMatchObject({ createdAt: '2026-01-02T03:04:05.000Z', updatedAt: '2026-01-02T03:04:05.000Z' });
    expect(res.json).toMatchObject({ createdAt: '2026-01-02T03:04:05.000Z', updatedAt: '2026-02-03T04:05:06.000Z' });
    const read = await clocked.call({ method: 'GET', path: `/notes/${created.noteId}`, user: ALICE });
    expect(read.json).toMatchObject({ updatedAt: '2026-02-03T04:05:06.000Z' });
  });
});

describe('DELETE /notes/{id}', () => {
  it('deletes the note: 204, then the note is gone', async () => {
    const created = await createNote();

    const res = await api.call({ method: 'DELETE', path: `/notes/${created.noteId}`, user: ALICE });

    expect(res.status).toBe(204);
    expect(res.raw.body).toBe('');
    const read = await api.call({ method: 'GET', path: `/notes/${created.noteId}`, user: ALICE });
    expect(read.status).toBe(404);
    expect((read.json as ErrorBody).error.code).toBe('NOT_FOUND');
  });
});

describe('GET /notes', () => {
  it('lists the caller\'s notes newest first with a null cursor at the end', async () => {
    const first = await createNote(ALICE, { title: 'first', content: '' });
    const second = await createNote(ALICE, { title: 'second', content: '' });

    const res = await api.call({ method: 'GET', path: '/notes', user: ALICE });

    expect(res.status).toBe(200);
    const body = res.json as ListBody;
    expect(body.items.map((n) => n.noteId)).toEqual([second.noteId, first.noteId]);
    expect(body.nextCursor).toBeNull();
  });
});

describe('CORS on the handler\'s answers', () => {
  const APP = 'https://notes.example.com';

  it('lets a listed origin read the answer and the ETag, Location, Retry-After and X-Request-Id headers', async () => {
    const cors = await newApi(db, { corsAllowOrigins: [APP] });

    const res = await cors.call({ method: 'POST', path: '/notes', user: ALICE, headers: { Origin: APP }, body: { title: 't', content: '' } });

    expect(res.status).toBe(201);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    const exposed = (res.headers['access-control-expose-headers'] ?? '').split(',').map((h) => h.trim().toLowerCase());
    expect(exposed).toEqual(expect.arrayContaining(['etag', 'location', 'retry-after', 'x-request-id']));
  });

  it('with * configured, answers any origin with Access-Control-Allow-Origin: *', async () => {
    const cors = await newApi(db, { corsAllowOrigins: ['*'] });

    const res = await cors.call({ method: 'GET', path: '/health', headers: { Origin: 'https://anywhere.example' } });

    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('gives an origin that is not listed no Access-Control-Allow-Origin', async () => {
    const cors = await newApi(db, { corsAllowOrigins: [APP] });

    const res = await cors.call({ method: 'GET', path: '/health', headers: { Origin: 'https://evil.example' } });

    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-expose-headers']).toBeUndefined();
  });
});
