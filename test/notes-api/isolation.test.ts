import { ErrorBody, ListBody, newApi, NoteBody, RunningDynalite, startDynalite, TestApi } from './harness';

let db: RunningDynalite;
let api: TestApi;
const ALICE = 'alice-sub-0001';
const BOB = 'bob-sub-0002';
let alicesNote: NoteBody;

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db?.stop();
});
beforeEach(async () => {
  api = await newApi(db);
  const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title: 'Alice private', content: 'diary', tags: ['me'] } });
  alicesNote = res.json as NoteBody;
});

async function aliceStillHasHerNote(): Promise<void> {
  const res = await api.call({ method: 'GET', path: `/notes/${alicesNote.noteId}`, user: ALICE });
  expect(res.status).toBe(200);
  expect(res.json).toEqual(alicesNote);
}

describe('cross-user isolation', () => {
  it('returns 404 to another user reading the note', async () => {
    const res = await api.call({ method: 'GET', path: `/notes/${alicesNote.noteId}`, user: BOB });

    expect(res.status).toBe(404);
    expect((res.json as ErrorBody).error).toEqual({ code: 'NOT_FOUND', message: 'Note not found' });
  });

  it('returns 404 to another user replacing the note, and the note is unchanged', async () => {
    const res = await api.call({ method: 'PUT', path: `/notes/${alicesNote.noteId}`, user: BOB, body: { title: 'hacked', content: '' } });

    expect(res.status).toBe(404);
    await aliceStillHasHerNote();
  });

  it('returns 404 to another user replacing the note even with the right If-Match', async () => {
    const res = await api.call({
      method: 'PUT',
      path: `/notes/${alicesNote.noteId}`,
      user: BOB,
      body: { title: 'hacked', content: '' },
      headers: { 'Content-Type': 'application/json', 'If-Match': '"1"' },
    });

    expect(res.status).toBe(404);
    await aliceStillHasHerNote();
  });

  it('returns 404 to another user deleting the note, and the note survives', async () => {
    const res = await api.call({ method: 'DELETE', path: `/notes/${alicesNote.noteId}`, user: BOB });

    expect(res.status).toBe(404);
    await aliceStillHasHerNote();
  });

  it('lists only the caller\'s own notes', async () => {
    const bobs = await api.call({ method: 'POST', path: '/notes', user: BOB, body: { title: 'Bob', content: '' } });

    const bobList = (await api.call({ method: 'GET', path: '/notes', user: BOB })).json as ListBody;
    const aliceList = (await api.call({ method: 'GET', path: '/notes', user: ALICE })).json as ListBody;

    expect(bobList.items.map((n) => n.noteId)).toEqual([(bobs.json as NoteBody).noteId]);
    expect(aliceList.items.map((n) => n.noteId)).toEqual([alicesNote.noteId]);
  });

  it('rejects one user\'s cursor when another user presents it (400)', async () => {
    await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title: 'second', content: '' } });
    const alicePage = (await api.call({ method: 'GET', path: '/notes', user: ALICE, query: { limit: '1' } })).json as ListBody;
    expect(alicePage.nextCursor).not.toBeNull();

    const res = await api.call({ method: 'GET', path: '/notes', user: BOB, query: { cursor: alicePage.nextCursor ?? '' } });

    expect(res.status).toBe(400);
    expect((res.json as ErrorBody).error.code).toBe('INVALID_CURSOR');
  });

  it('rejects a user id in the body (400) and never writes into that user\'s notes', async () => {
    const res = await api.call({ method: 'POST', path: '/notes', user: BOB, body: { title: 't', content: '', userId: ALICE } });

    expect(res.status).toBe(400);
    const aliceList = (await api.call({ method: 'GET', path: '/notes', user: ALICE })).json as ListBody;
    expect(aliceList.items).toHaveLength(1);
  });
});
