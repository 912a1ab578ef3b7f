import { ErrorBody, newApi, NoteBody, RunningDynalite, startDynalite, TestApi } from './harness';

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

async function createNote(): Promise<NoteBody> {
  const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title: 'v1', content: 'first' } });
  return res.json as NoteBody;
}

function put(noteId: string, title: string, ifMatch?: string) {
  return api.call({
    method: 'PUT',
    path: `/notes/${noteId}`,
    user: ALICE,
    body: { title, content: `by ${title}` },
    headers: ifMatch === undefined ? { 'Content-Type': 'application/json' } : { 'Content-Type': 'application/json', 'If-Match': ifMatch },
  });
}

async function read(noteId: string): Promise<NoteBody> {
  return (await api.call({ method: 'GET', path: `/notes/${noteId}`, user: ALICE })).json as NoteBody;
}

describe('PUT with If-Match', () => {
  it('updates when If-Match names the current version', async () => {
    const note = await createNote();

    const res = await put(note.noteId, 'v2', '"1"');

    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"2"');
  });

  it('refuses a stale version with 412, reports the current ETag and changes nothing', async () => {
    const note = await createNote();
    await put(note.noteId, 'v2', '"1"');

    const res = await put(note.noteId, 'stale', '"1"');

    expect(res.status).toBe(412);
    expect((res.json as ErrorBody).error.code).toBe('PRECONDITION_FAILED');
    expect(res.headers.etag).toBe('"2"');
    expect(await read(note.noteId)).toMatchObject({ title: 'v2', version: 2 });
  });

  it('lets exactly one of two writers holding the same version win; the loser gets 412 and the winner\'s text stays', async () => {
    const note = await createNote();

    const [a, b] = await Promise.all([put(note.noteId, 'writer A', '"1"'), put(note.noteId, 'writer B', '"1"')]);

    expect([a.status, b.status].sort()).toEqual([200, 412]);
    const winner = a.status === 200 ? 'writer A' : 'writer B';
    expect(await read(note.noteId)).toMatchObject({ title: winner, content: `by ${winner}`, version: 2 });
  });

  it('does not lose updates among many concurrent conditional writers', async () => {
    const note = await createNote();

    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => put(note.noteId, `w${i}`, '"1"')));

    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 412)).toHaveLength(7);
    expect((await read(note.noteId)).version).toBe(2);
  });

  it('accepts a list of tags when one of them matches', async () => {
    const note = await createNote();

    const res = await put(note.noteId, 'v2', '"7", "1"');

    expect(res.status).toBe(200);
  });

  it.each([['weak tag', 'W/"1"'], ['well-formed tag we never issue', '"abc"']])('treats a %s as not matching (412)', async (_name, ifMatch) => {
    const note = await createNote();

    const res = await put(note.noteId, 'v2', ifMatch);

    expect(res.status).toBe(412);
    expect((await read(note.noteId)).version).toBe(1);
  });

  it('treats If-Match: * as unconditional', async () => {
    const note = await createNote();
    await put(note.noteId, 'v2');

    const res = await put(note.noteId, 'v3', '*');

    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"3"');
  });

  it('updates unconditionally without If-Match, still bumping the version', async () => {
    const note = await createNote();

    const first = await put(note.noteId, 'v2');
    const second = await put(note.noteId, 'v3');

    expect([first.status, second.status]).toEqual([200, 200]);
    expect((second.json as NoteBody).version).toBe(3);
  });

  it('answers 404, not 412, when the note is missing, whatever If-Match says', async () => {
    const id = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

    const stale = await put(id, 'x', '"1"');
    const any = await put(id, 'x', '*');

    expect([stale.status, any.status]).toEqual([404, 404]);
  });

  it('accepts an If-Match listing 10 entity tags, the most allowed', async () => {
    const note = await createNote();

    const res = await put(note.noteId, 'v2', Array.from({ length: 10 }, (_, i) => `"${10 - i}"`).join(', '));

    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"2"');
  });

  it('rejects an If-Match with too many tags (400)', async () => {
    const note = await createNote();

    const res = await put(note.noteId, 'v2', Array.from({ length: 11 }, (_, i) => `"${i + 1}"`).join(', '));

    expect(res.status).toBe(400);
    expect((res.json as ErrorBody).error.code).toBe('INVALID_HEADER');
  });
});

describe('a malformed If-Match', () => {
  it.each(['1', 'banana', '"1', '"1" "2"', '"1", banana', 'w/"1"'])(
    'If-Match: %s is a 400 naming the header and the expected form, and changes nothing',
    async (ifMatch) => {
      const note = await createNote();

      const res = await put(note.noteId, 'v2', ifMatch);

      expect(res.status).toBe(400);
      expect((res.json as ErrorBody).error).toMatchObject({
        code: 'INVALID_HEADER',
        details: { issues: [{ field: 'If-Match' }] },
      });
      expect((res.json as ErrorBody).error.message).toContain('If-Match must be an entity tag in double quotes');
      expect((res.json as ErrorBody).error.message).toContain('If-Match: "3"');
      expect(await read(note.noteId)).toMatchObject({ title: 'v1', version: 1 });
    },
  );

  it('is a 400 on DELETE too, and the note stays', async () => {
    const note = await createNote();

    const res = await api.call({ method: 'DELETE', path: `/notes/${note.noteId}`, user: ALICE, headers: { 'If-Match': '1' } });

    expect(res.status).toBe(400);
    expect((await read(note.noteId)).version).toBe(1);
  });

  it('a weak tag W/"1" is well-formed but never matches (strong comparison, RFC 9110): 412 with the current ETag', async () => {
    const note = await createNote();

    const res = await put(note.noteId, 'v2', 'W/"1"');

    expect(res.status).toBe(412);
    expect(res.headers.etag).toBe('"1"');
    expect(await read(note.noteId)).toMatchObject({ title: 'v1', version: 1 });
  });

  it('an entity tag may hold a comma: "a,b", "1" matches version 1', async () => {
    const note = await createNote();

    const res = await put(note.noteId, 'v2', '"a,b", "1"');

    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"2"');
  });
});

describe('DELETE with If-Match', () => {
  it('refuses to delete a note changed since it was read (412) and keeps it', async () => {
    const note = await createNote();
    await put(note.noteId, 'v2');

    const res = await api.call({ method: 'DELETE', path: `/notes/${note.noteId}`, user: ALICE, headers: { 'If-Match': '"1"' } });

    expect(res.status).toBe(412);
    expect((await read(note.noteId)).version).toBe(2);
  });

  it('deletes when If-Match matches', async () => {
    const note = await createNote();

    const res = await api.call({ method: 'DELETE', path: `/notes/${note.noteId}`, user: ALICE, headers: { 'If-Match': '"1"' } });

    expect(res.status).toBe(204);
  });
});
