/**
 * Child process of `npm run bench`: dynalite (on LevelDB, as in the local stack) and `connections`
 * loops of DocumentClient `GetCommand` against it, in this one process. The local stack runs its
 * DynamoDB and its SDK client on one event loop, so this is the least a request of the local API
 * can cost in that shape: the SDK floor without the second process. Prints its figures as JSON.
 *
 * Env: BENCH_DIR (data directory), BENCH_SECONDS, BENCH_CONNECTIONS.
 */
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { notesTableCreateInput } from '../notes-table-schema';
import { LOCAL_CREDENTIALS } from '../local/dynamo';
import { summarize } from './stats';

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
  const server = dynalite({ path: join(process.env.BENCH_DIR ?? '.', 'db'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 2 });
  const doc = DynamoDBDocumentClient.from(client);
  await client.send(new CreateTableCommand(notesTableCreateInput('notes-bench')));
  const now = new Date().toISOString();
  const noteId = '01JBENCH0000000000000000000';
  await client.send(new PutItemCommand({
    TableName: 'notes-bench',
    Item: {
      userId: { S: 'bench-user' }, noteId: { S: noteId }, title: { S: 'bench note' }, content: { S: 'c'.repeat(500) },
      tags: { L: [{ S: 'bench' }] }, createdAt: { S: now }, updatedAt: { S: now }, version: { N: '1' },
    },
  }));
  const latencies: number[] = [];
  const until = Date.now() + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (Date.now() < until) {
      const t = performance.now();
      await doc.send(new GetCommand({ TableName: 'notes-bench', Key: { userId: 'bench-user', noteId }, ConsistentRead: true }));
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  doc.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  const s = summarize(latencies);
  process.stdout.write(`${JSON.stringify({ rps: latencies.length / seconds, p50: s.p50, p99: s.p99, mean: s.mean, requests: latencies.length, non2xx: 0, errors: 0 })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
