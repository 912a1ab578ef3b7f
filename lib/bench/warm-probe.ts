/**
 * Child process of `npm run bench`: loads the notes-api bundle (what ships) and measures each
 * warm handler call next to the bare DynamoDB call it makes on the same dynalite and the same
 * item, interleaved so that noise hits both alike. Run with `node --import tsx`; its stdout is the
 * Lambda's log stream (drained by the parent); results go to the file named by BENCH_OUT.
 *
 * Env: BENCH_BUNDLE (notes-api bundle), BENCH_OUT, BENCH_ITERATIONS, TABLE_NAME, DYNAMODB_ENDPOINT.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body?: string }>;

const iterations = Number(process.env.BENCH_ITERATIONS ?? 400);
const tableName = process.env.TABLE_NAME ?? 'notes-bench';
const userId = 'bench-user-0000-0000-000000000000';

function event(method: string, resource: string, path: string, body?: unknown, pathParameters: Record<string, string> | null = null, query: Record<string, string> | null = null) {
  return {
    resource,
    path,
    httpMethod: method,
    headers: { 'content-type': 'application/json', ...(method === 'PUT' ? { 'if-match': '*' } : {}) },
    multiValueHeaders: {},
    queryStringParameters: query,
    multiValueQueryStringParameters: query ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) : null,
    pathParameters,
    stageVariables: null,
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      authorizer: { claims: { sub: userId } },
      httpMethod: method,
      path,
      requestId: 'bench',
      resourcePath: resource,
      stage: 'bench',
      identity: { sourceIp: '127.0.0.1' },
    },
  };
}

let n = 0;
const context = () => ({ awsRequestId: `bench-${++n}`, functionName: 'notes-api', getRemainingTimeInMillis: () => 29_000 });

async function main(): Promise<void> {
  // Loaded with require(), exactly as the Lambda runtime loads a CommonJS handler module.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(process.env.BENCH_BUNDLE as string) as { handler: Handler };
  const handler = mod.handler;
  const bare = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: process.env.DYNAMODB_ENDPOINT, region: process.env.AWS_REGION ?? 'us-east-1', maxAttempts: 3 }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const note = { title: 'bench note', content: 'c'.repeat(500), tags: ['bench', 'warm'] };

  // Warm both paths (first calls open connections, JIT, ...).
  const seeded = await handler(event('POST', '/notes', '/notes', note), context());
  if (seeded.statusCode !== 201) throw new Error(`seed POST answered ${seeded.statusCode}: ${seeded.body}`);
  const noteId = (JSON.parse(seeded.body ?? '{}') as { noteId: string }).noteId;
  for (let i = 0; i < 30; i++) await bare.send(new GetCommand({ TableName: tableName, Key: { userId, noteId }, ConsistentRead: true }));

  const pairs: Record<string, { handler: () => Promise<unknown>; bare: () => Promise<unknown> }> = {
    'GET /notes/{id} vs GetItem': {
      handler: () => handler(event('GET', '/notes/{id}', `/notes/${noteId}`, undefined, { id: noteId }), context()),
      bare: () => bare.send(new GetCommand({ TableName: tableName, Key: { userId, noteId }, ConsistentRead: true })),
    },
    'POST /notes vs PutItem': {
      handler: () => handler(event('POST', '/notes', '/notes', note), context()),
      bare: () => {
        const now = new Date().toISOString();
        const id = `01BENCH${String(++n).padStart(19, '0')}`;
        return bare.send(new PutCommand({
          TableName: tableName,
          Item: { userId, noteId: id, ...note, createdAt: now, updatedAt: now, version: 1 },
          ConditionExpression: 'attribute_not_exists(#sk)',
          ExpressionAttributeNames: { '#sk': 'noteId' },
        }));
      },
    },
    'PUT /notes/{id} vs UpdateItem': {
      handler: () => handler(event('PUT', '/notes/{id}', `/notes/${noteId}`, note, { id: noteId }), context()),
      bare: () => bare.send(new UpdateCommand({
        TableName: tableName,
        Key: { userId, noteId },
        UpdateExpression: 'SET #t = :t, #c = :c, #g = :g, #u = :u, #v = #v + :one',
        ConditionExpression: 'attribute_exists(#sk)',
        ExpressionAttributeNames: { '#t': 'title', '#c': 'content', '#g': 'tags', '#u': 'updatedAt', '#v': 'version', '#sk': 'noteId' },
        ExpressionAttributeValues: { ':t': note.title, ':c': note.content, ':g': note.tags, ':u': new Date().toISOString(), ':one': 1 },
        ReturnValues: 'ALL_NEW',
      })),
    },
    'GET /notes?limit=20 vs Query': {
      handler: () => handler(event('GET', '/notes', '/notes', undefined, null, { limit: '20' }), context()),
      bare: () => bare.send(new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'userId' },
        ExpressionAttributeValues: { ':pk': userId },
        ScanIndexForward: false,
        Limit: 21,
      })),
    },
  };

  const results: Record<string, { handler: number[]; bare: number[] }> = {};
  for (const [name, pair] of Object.entries(pairs)) {
    const h: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 20; i++) {
      await pair.handler();
      await pair.bare();
    }
    for (let i = 0; i < iterations; i++) {
      let t = performance.now();
      await pair.handler();
      h.push(performance.now() - t);
      t = performance.now();
      await pair.bare();
      b.push(performance.now() - t);
    }
    results[name] = { handler: h, bare: b };
  }
  writeFileSync(process.env.BENCH_OUT as string, JSON.stringify(results));
  bare.destroy();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
