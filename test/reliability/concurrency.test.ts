/**
 * Optimistic concurrency over real HTTP: many clients update (or delete) the same note with the
 * same If-Match at the same moment. Exactly one wins; the others are told 412 (or 404 once it is
 * deleted); the stored note is the winner's. CONCURRENT_WRITERS (default 20) and
 * CONCURRENT_ROUNDS (default 5) size it.
 */
import { api, keepAliveAgent } from '../../lib/reliability/http';
import { recordFigure } from '../../lib/reliability/figures';
import { createNote, envInt, newUser, startTempStack, type TempStack, type TestUser } from '../../lib/reliability/world';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
jest.setTimeout(120_000);

const WRITERS = envInt('CONCURRENT_WRITERS', 20);
const ROUNDS = envInt('CONCURRENT_ROUNDS', 5);

let t: TempStack;
let user: TestUser;

beforeAll(async () => {
  t = await startTempStack('concurrency');
  user = await newUser(t.stack, 'racer');
});

afterAll(async () => {
  keepAliveAgent.destroy();
  await t?.dispose();
});

test(`of ${WRITERS} simultaneous updates with the same If-Match exactly one wins and the note holds the winner's content`, async () => {
  // Arrange
  const note = await createNote(t.baseUrl, user.token, 'contended', 'original');
  let version = note.version;

  for (let round = 1; round <= ROUNDS; round++) {
    // Act
    const results = await Promise.all(
      Array.from({ length: WRITERS }, (_, w) =>
        api(t.baseUrl, 'PUT', `/notes/${note.noteId}`, user.token, { title: `round ${round}`, content: `writer ${w} round ${round}`, tags: [`w${w}`] }, { 'if-match': `"${version}"` }),
      ),
    );

    // Assert
    const winners = results.flatMap((r, w) => (r.status === 200 ? [w] : []));
    const statuses = results.map((r) => r.status).sort();
    expect({ round, winners: winners.length, others: statuses.filter((s) => s !== 200) }).toEqual({
      round,
      winners: 1,
      others: Array(WRITERS - 1).fill(412),
    });
    const stored = await api(t.baseUrl, 'GET', `/notes/${note.noteId}`, user.token);
    const winner = winners[0];
    expect(stored.json).toMatchObject({ content: `writer ${winner} round ${round}`, tags: [`w${winner}`], version: version + 1 });
    expect(stored.headers.etag).toBe(`"${version + 1}"`);
    // Every loser was told which version is current.
    for (const r of results.filter((x) => x.status === 412)) expect(r.headers.etag).toBe(`"${version + 1}"`);
    recordFigure('concurrency', { kind: 'update', round, writers: WRITERS, winners: winners.length, statuses });
    version += 1;
  }
});

test(`of ${WRITERS} simultaneous deletes with the same If-Match exactly one succeeds and the note is gone`, async () => {
  // Arrange
  const note = await createNote(t.baseUrl, user.token, 'doomed', 'bye');

  // Act
  const results = await Promise.all(
    Array.from({ length: WRITERS }, () => api(t.baseUrl, 'DELETE', `/notes/${note.noteId}`, user.token, undefined, { 'if-match': `"${note.version}"` })),
  );

  // Assert
  const statuses = results.map((r) => r.status);
  recordFigure('concurrency', { kind: 'delete', writers: WRITERS, statuses: statuses.sort() });
  expect(statuses.filter((s) => s === 204)).toHaveLength(1);
  expect(statuses.filter((s) => s !== 204 && s !== 404)).toEqual([]);
  expect((await api(t.baseUrl, 'GET', `/notes/${note.noteId}`, user.token)).status).toBe(404);
});
