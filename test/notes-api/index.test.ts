import type { APIGatewayProxyResult } from 'aws-lambda';
import type { NotesHandler } from '../../lambda/notes-api/app';
import { apiEvent, lambdaContext, RequestSpec } from './events';
import { RunningDynalite, startDynalite } from './harness';

let db: RunningDynalite;
let tableName: string;
const savedEnv = { ...process.env };
const ALICE = 'alice-sub-0001';

beforeAll(async () => {
  db = await startDynalite();
  tableName = await db.createNotesTable();
});
afterAll(async () => {
  await db?.stop();
});
afterEach(() => {
  process.env = { ...savedEnv };
});

/** Imports a fresh copy of the Lambda entry point, as a cold start with this environment would. */
async function coldStart(env: Record<string, string | undefined>): Promise<NotesHandler> {
  process.env = { ...savedEnv, POWERTOOLS_LOG_LEVEL: 'SILENT', ...env };
  let handler: NotesHandler | undefined;
  await jest.isolateModulesAsync(async () => {
    handler = (await import('../../lambda/notes-api/index')).handler;
  });
  if (!handler) throw new Error('handler not loaded');
  return handler;
}

function call(handler: NotesHandler, spec: RequestSpec): Promise<APIGatewayProxyResult> {
  return handler(apiEvent(spec), lambdaContext());
}

describe('Lambda entry point (index.ts)', () => {
  it('serves the API from its environment: table, endpoint, version and commit', async () => {
    const handler = await coldStart({ TABLE_NAME: tableName, DYNAMODB_ENDPOINT: db.endpoint, RELEASE_VERSION: '2.0.1', COMMIT_SHA: 'deadbeef' });

    const health = await call(handler, { method: 'GET', path: '/health' });
    const created = await call(handler, { method: 'POST', path: '/notes', user: ALICE, body: { title: 'from env', content: '' } });
    const list = await call(handler, { method: 'GET', path: '/notes', user: ALICE });

    expect(JSON.parse(health.body)).toEqual({ status: 'ok', version: '2.0.1', commit: 'deadbeef' });
    expect(created.statusCode).toBe(201);
    expect(JSON.parse(list.body).items.map((n: { title: string }) => n.title)).toContain('from env');
  });

  it('applies MAX_BODY_BYTES from the environment', async () => {
    const handler = await coldStart({ TABLE_NAME: tableName, DYNAMODB_ENDPOINT: db.endpoint, MAX_BODY_BYTES: '64' });

    const res = await call(handler, { method: 'POST', path: '/notes', user: ALICE, body: { title: 't', content: 'x'.repeat(100) } });

    expect(res.statusCode).toBe(413);
  });

  it('adds Access-Control-Allow-Origin only for origins listed in CORS_ALLOW_ORIGINS', async () => {
    const handler = await coldStart({
      TABLE_NAME: tableName,
      DYNAMODB_ENDPOINT: db.endpoint,
      CORS_ALLOW_ORIGINS: 'https://notes.example.com, http://localhost:5173',
    });

    const allowed = await call(handler, { method: 'GET', path: '/health', headers: { origin: 'http://localhost:5173' } });
    const other = await call(handler, { method: 'GET', path: '/health', headers: { Origin: 'https://evil.example' } });

    expect(allowed.headers?.['Access-Control-Allow-Origin']).toBe('http://localhost:5173');
    expect(allowed.headers?.Vary).toBe('Origin');
    expect(other.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
  });

  it('sends no CORS headers when no origins are configured', async () => {
    const handler = await coldStart({ TABLE_NAME: tableName, DYNAMODB_ENDPOINT: db.endpoint, CORS_ALLOW_ORIGINS: undefined });

    const res = await call(handler, { method: 'GET', path: '/health', headers: { Origin: 'https://notes.example.com' } });

    expect(res.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
  });

  it('imports without TABLE_NAME and answers a JSON 500 with the request id instead of crashing', async () => {
    const handler = await coldStart({ TABLE_NAME: undefined });

    const res = await handler(apiEvent({ method: 'GET', path: '/health' }), lambdaContext('req-misconfigured'));

    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({
      error: { code: 'INTERNAL_ERROR', message: expect.stringContaining('req-misconfigured'), details: { requestId: 'req-misconfigured' } },
    });
  });

  it('builds itself on the first call when the environment is completed after import (local mode)', async () => {
    const handler = await coldStart({ TABLE_NAME: undefined });
    process.env.TABLE_NAME = tableName;
    process.env.DYNAMODB_ENDPOINT = db.endpoint;

    const res = await call(handler, { method: 'GET', path: '/notes', user: ALICE });

    expect(res.statusCode).toBe(200);
  });
});

describe('configFromEnv', () => {
  it('falls back to defaults for optional settings and ignores a bad MAX_BODY_BYTES', async () => {
    const { configFromEnv } = await import('../../lambda/notes-api/index');

    const config = configFromEnv({ TABLE_NAME: 'notes', MAX_BODY_BYTES: 'lots' });

    expect(config).toEqual({
      tableName: 'notes',
      version: 'unknown',
      commit: 'unknown',
      maxBodyBytes: 262144,
      corsAllowOrigins: [],
      region: 'us-east-1',
      endpoint: undefined,
    });
  });
});
