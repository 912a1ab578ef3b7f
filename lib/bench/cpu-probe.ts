/**
 * Child process of `npm run bench`: the handler's own CPU per request, with a stub DocumentClient
 * that answers at once (no I/O), so what is left is routing, validation, mapping and logging.
 * Prints one JSON line on stderr (stdout is the log stream). Env: BENCH_ITERATIONS.
 */
import { performance } from 'node:perf_hooks';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createNotesApi } from '../../lambda/notes-api/app';

const item = {
  userId: 'u',
  noteId: '01JBENCH0000000000000000000',
  title: 'bench note',
  content: 'c'.repeat(500),
  tags: ['bench', 'warm'],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  version: 1,
};
const stub = {
  send: async (cmd: object) => {
    const name = cmd.constructor.name;
    if (name === 'GetCommand') return { Item: item };
    if (name === 'UpdateCommand') return { Attributes: item };
    if (name === 'QueryCommand') return { Items: Array(20).fill(item) };
    return {};
  },
} as unknown as DynamoDBDocumentClient;

const api = createNotesApi({ documentClient: stub, tableName: 'notes-bench', version: 'bench', commit: 'bench' });
const body = JSON.stringify({ title: item.title, content: item.content, tags: item.tags });
const ev = (method: string, resource: string, withBody: boolean, query: Record<string, string> | null = null) => ({
  resource,
  path: resource.replace('{id}', item.noteId),
  httpMethod: method,
  headers: { 'content-type': 'application/json' },
  multiValueHeaders: {},
  queryStringParameters: query,
  multiValueQueryStringParameters: query ? { limit: [query.limit] } : null,
  pathParameters: resource.includes('{id}') ? { id: item.noteId } : null,
  stageVariables: null,
  body: withBody ? body : null,
  isBase64Encoded: false,
  requestContext: { authorizer: { claims: { sub: 'u' } }, requestId: 'bench' },
});
const routes: Record<string, ReturnType<typeof ev>> = {
  'GET /notes/{id}': ev('GET', '/notes/{id}', false),
  'POST /notes': ev('POST', '/notes', true),
  'PUT /notes/{id}': ev('PUT', '/notes/{id}', true),
  'GET /notes?limit=20': ev('GET', '/notes', false, { limit: '20' }),
};
const context = { awsRequestId: 'bench', functionName: 'notes-api' };

(async () => {
  const n = Number(process.env.BENCH_ITERATIONS ?? 20000);
  const out: Record<string, number> = {};
  for (const [name, e] of Object.entries(routes)) {
    for (let i = 0; i < 2000; i++) await api(e as never, context as never);
    const t = performance.now();
    for (let i = 0; i < n; i++) await api(e as never, context as never);
    out[name] = ((performance.now() - t) / n) * 1000;
  }
  process.stderr.write(`${JSON.stringify(out)}\n`);
})();
