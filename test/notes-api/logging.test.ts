import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { newApi, NoteBody, RunningDynalite, startDynalite } from './harness';

let db: RunningDynalite;
let lines: string[];
let restore: () => void;
const ALICE = 'alice-sub-0001';
const SECRET_TITLE = 'TITLE-must-not-be-logged';
const SECRET_CONTENT = 'CONTENT-must-not-be-logged';
const TOKEN = 'Bearer eyJ-token-must-not-be-logged';

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db?.stop();
});
beforeEach(() => {
  lines = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  const errSpy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  restore = () => {
    spy.mockRestore();
    errSpy.mockRestore();
  };
});
afterEach(() => restore());

function records(): Record<string, unknown>[] {
  return lines
    .join('')
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const infoLogger = () => new Logger({ serviceName: 'notes-api', logLevel: 'INFO' });

describe('structured request logs', () => {
  it('writes one JSON line per request with request id, method, route, status and latency', async () => {
    const api = await newApi(db, { logger: infoLogger() });

    const res = await api.call({ method: 'POST', path: '/notes', user: ALICE, body: { title: 't', content: 'c' } });

    const requestLogs = records().filter((r) => r.message === 'request');
    expect(requestLogs).toHaveLength(1);
    expect(requestLogs[0]).toMatchObject({
      level: 'INFO',
      service: 'notes-api',
      requestId: res.requestId,
      function_request_id: res.requestId,
      method: 'POST',
      route: '/notes',
      status: 201,
      latencyMs: expect.any(Number),
    });
  });

  it('logs the error code of a client error', async () => {
    const api = await newApi(db, { logger: infoLogger() });

    await api.call({ method: 'GET', path: '/notes', user: ALICE, query: { limit: '0' } });

    expect(records().find((r) => r.message === 'request')).toMatchObject({ status: 400, errorCode: 'VALIDATION_FAILED' });
  });

  it('never logs note titles, content, tags, tokens or the cursor', async () => {
    const api = await newApi(db, { logger: infoLogger() });
    const headers = { 'Content-Type': 'application/json', Authorization: TOKEN };
    const body = JSON.stringify({ title: SECRET_TITLE, content: SECRET_CONTENT, tags: ['TAG-secret'] });

    const created = await api.call({ method: 'POST', path: '/notes', user: ALICE, headers, body });
    const id = (created.json as NoteBody).noteId;
    await api.call({ method: 'PUT', path: `/notes/${id}`, user: ALICE, headers, body });
    await api.call({ method: 'PUT', path: `/notes/${id}`, user: ALICE, headers, body: `{"title": "${SECRET_TITLE}", bad json` });
    await api.call({ method: 'GET', path: '/notes', user: ALICE, headers, query: { cursor: 'CURSOR-secret' } });

    const all = lines.join('');
    expect(records().length).toBeGreaterThanOrEqual(4);
    for (const secret of [SECRET_TITLE, SECRET_CONTENT, 'TAG-secret', 'eyJ-token', 'CURSOR-secret']) {
      expect(all).not.toContain(secret);
    }
  });

  it('logs an unexpected failure at error level with the cause, which the response does not reveal', async () => {
    const client = DynamoDBDocumentClient.from(db.client);
    jest.spyOn(client, 'send').mockImplementation(() => Promise.reject(new Error('disk on fire')));
    const api = await newApi(db, { logger: infoLogger(), documentClient: client });

    const res = await api.call({ method: 'GET', path: '/notes', user: ALICE });

    const failure = records().find((r) => r.message === 'request failed');
    expect(failure).toMatchObject({ level: 'ERROR', requestId: res.requestId, errorCode: 'INTERNAL_ERROR', error: { name: 'Error', message: 'disk on fire' } });
    expect(res.raw.body).not.toContain('disk on fire');
  });
});
