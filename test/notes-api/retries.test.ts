import { DeleteCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ErrorBody, ListBody, newApi, NoteBody, RunningDynalite, startDynalite, TestApi } from './harness';

/**
 * The SDK retries a request whose response was lost even when the first attempt was applied.
 * For conditional writes the retry then fails its own condition. These tests replay every
 * Put/Update/Delete twice (first result dropped, as a lost response would be; the second attempt's
 * error carries `$metadata.attempts: 2` as the SDK's retry middleware records it) and check that
 * the client still gets the right answer.
 */
let db: RunningDynalite;
let api: TestApi;
const ALICE = 'alice-sub-0001';

function replayingClient(): DynamoDBDocumentClient {
  const client = DynamoDBDocumentClient.from(db.client);
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
  jest.spyOn(client, 'send').mockImplementation((async (command: unknown) => {
    if (command instanceof PutCommand || command instanceof UpdateCommand || command instanceof DeleteCommand) {
      await send(command); // applied, but its response is "lost" (an error here is the real answer)
      try {
        return await send(command);
      } catch (err) {
        (err as { $metadata: { attempts?: number } }).$metadata.attempts = 2;
        throw err;
      }
    }
    return send(command);
  }) as never);
  return client;
}

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db?.stop();
});
beforeEach(async () => {
  api = await newApi(db, { documentClient: replayingClient() });
});

describe('writes retried by the SDK after a lost response', () => {
  it('a retried create answers 201 with the one note it stored', async () => {
    const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title: 'once', content: '' } });

    expect(res.status).toBe(201);
    const list = (await api.call({ method: 'GET', path: '/notes', user: ALICE })).json as ListBody;
    expect(list.items).toEqual([res.json]);
  });

  it('a retried conditional update answers 200 for its own write, not 412', async () => {
    const created = (await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title: 'v1', content: '' } })).json as NoteBody;

    const res = await api.call({
      method: 'PUT',
      path: `/notes/${created.noteId}`,
      user: ALICE,
      body: { title: 'v2', content: 'new' },
      headers: { 'Content-Type': 'application/json', 'If-Match': '"1"' },
    });

    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ title: 'v2', content: 'new', version: 2 });
  });

  it('a genuinely stale conditional update still answers 412', async () => {
    const created = (await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title: 'v1', content: '' } })).json as NoteBody;
    await api.call({ method: 'PUT', path: `/notes/${created.noteId}`, user: ALICE, body: { title: 'other writer', content: '' } });

    const res = await api.call({
      method: 'PUT',
      path: `/notes/${created.noteId}`,
      user: ALICE,
      body: { title: 'late', content: '' },
      headers: { 'Content-Type': 'application/json', 'If-Match': '"1"' },
    });

    expect(res.status).toBe(412);
    expect((res.json as ErrorBody).error.code).toBe('PRECONDITION_FAILED');
  });

  it('a retried delete answers 204 for its own delete, not 404, and the note is gone', async () => {
    const created = (await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title: 'bye', content: '' } })).json as NoteBody;

    const res = await api.call({ method: 'DELETE', path: `/notes/${created.noteId}`, user: ALICE });

    expect(res.status).toBe(204);
    expect((await api.call({ method: 'GET', path: `/notes/${created.noteId}`, user: ALICE })).status).toBe(404);
  });

  it('deleting a note that does not exist still answers 404', async () => {
    const res = await api.call({ method: 'DELETE', path: '/notes/01JBMISSINGNOTE00000000000', user: ALICE });

    expect(res.status).toBe(404);
    expect((res.json as ErrorBody).error.code).toBe('NOT_FOUND');
  });
});
