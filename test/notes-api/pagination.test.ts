import { ListBody, newApi, NoteBody, RunningDynalite, startDynalite, TestApi } from './harness';

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

async function createNotes(count: number, user = ALICE): Promise<NoteBody[]> {
  const created: NoteBody[] = [];
  for (let i = 0; i < count; i++) {
    const res = await api.call({ method: 'POST', path: '/notes', user, body: { title: `note ${i}`, content: `content ${i}` } });
    expect(res.status).toBe(201);
    created.push(res.json as NoteBody);
  }
  return created;
}

async function listPage(query: Record<string, string>, user = ALICE): Promise<ListBody> {
  const res = await api.call({ method: 'GET', path: '/notes', user, query });
  expect(res.status).toBe(200);
  return res.json as ListBody;
}

describe('GET /notes pagination', () => {
  it('walks 25 notes in pages of 10, 10 and 5, newest first, with no duplicates and no gaps', async () => {
    const created = await createNotes(25);
    const newestFirst = created.map((n) => n.noteId).reverse();

    const first = await listPage({ limit: '10' });
    const second = await listPage({ limit: '10', cursor: first.nextCursor ?? '' });
    const third = await listPage({ limit: '10', cursor: second.nextCursor ?? '' });

    expect([first.items.length, second.items.length, third.items.length]).toEqual([10, 10, 5]);
    expect(first.nextCursor).toEqual(expect.any(String));
    expect(second.nextCursor).toEqual(expect.any(String));
    expect(third.nextCursor).toBeNull();
    const seen = [...first.items, ...second.items, ...third.items].map((n) => n.noteId);
    expect(seen).toEqual(newestFirst);
    expect(new Set(seen).size).toBe(25);
  });

  it('ends with a null cursor when the last page is exactly full (no empty extra page)', async () => {
    await createNotes(20);

    const first = await listPage({ limit: '10' });
    const second = await listPage({ limit: '10', cursor: first.nextCursor ?? '' });

    expect(second.items).toHaveLength(10);
    expect(second.nextCursor).toBeNull();
  });

  it('returns 20 notes per page when no limit is given', async () => {
    await createNotes(21);

    const page = await listPage({});

    expect(page.items).toHaveLength(20);
    expect(page.nextCursor).not.toBeNull();
  });

  it('returns full notes in the list, as GET /notes/{id} does', async () => {
    const [note] = await createNotes(1);

    const page = await listPage({});

    expect(page.items).toEqual([note]);
  });

  it('returns an empty page for a user with no notes', async () => {
    const page = await listPage({}, 'nobody-sub');

    expect(page).toEqual({ items: [], nextCursor: null });
  });

  it('continues correctly after the note the cursor points at was deleted', async () => {
    const created = await createNotes(6);
    const first = await listPage({ limit: '3' });
    const lastOnFirstPage = first.items[2].noteId;
    await api.call({ method: 'DELETE', path: `/notes/${lastOnFirstPage}`, user: ALICE });

    const second = await listPage({ limit: '3', cursor: first.nextCursor ?? '' });

    expect(second.items.map((n) => n.noteId)).toEqual(created.slice(0, 3).map((n) => n.noteId).reverse());
  });

  it('issues opaque base64url cursors', async () => {
    await createNotes(3);

    const page = await listPage({ limit: '1' });

    expect(page.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});
