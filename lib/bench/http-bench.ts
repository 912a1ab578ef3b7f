/**
 * Throughput and latency of the local API against dynalite alone, each server in its own process
 * and autocannon in this one, so the load generator does not share an event loop with either.
 */
import autocannon from 'autocannon';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { performance } from 'node:perf_hooks';
import { summarize } from './stats';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { notesTableCreateInput } from '../notes-table-schema';
import { createTableAndWait } from '../local/tables';
import { LOCAL_CREDENTIALS } from '../local/dynamo';
import { createUser, getIdToken } from '../local/users';
import { cognitoTargetOf, freePorts, spawnLocalStack } from '../reliability/child-stack';
import { api } from '../reliability/http';
import { tempDir } from '../reliability/world';

export interface HttpFigures {
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  requests: number;
  non2xx: number;
  errors: number;
}

async function cannon(opts: autocannon.Options): Promise<HttpFigures> {
  const r = await autocannon(opts);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, mean: r.latency.mean, requests: r.requests.total, non2xx: r.non2xx, errors: r.errors };
}

/** GET /notes/{id} through the local API (gateway + authorizer + handler + dynalite on LevelDB). */
export async function localApiGet(seconds: number, connections: number): Promise<HttpFigures> {
  const dataDir = tempDir('bench-api');
  const [apiPort, dynamo, cognito] = await freePorts(3);
  const ports = { api: apiPort, dynamo, cognito };
  const child = await spawnLocalStack(dataDir, ports);
  try {
    const target = cognitoTargetOf(dataDir, ports);
    await createUser(target, 'bench@example.com', 'Bench-Passw0rd!');
    const token = await getIdToken(target, 'bench@example.com', 'Bench-Passw0rd!');
    const created = await api(child.baseUrl, 'POST', '/notes', token, { title: 'bench note', content: 'c'.repeat(500), tags: ['bench'] });
    const noteId = (created.json as { noteId: string }).noteId;
    return await cannon({
      url: `${child.baseUrl}/notes/${noteId}`,
      connections,
      duration: seconds,
      headers: { authorization: `Bearer ${token}` },
    });
  } finally {
    child.proc.kill('SIGTERM');
    await child.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `connections` loops of DocumentClient GetCommand for `seconds`: the floor with the SDK's own cost. */
async function sdkLoop(endpoint: string, seconds: number, connections: number): Promise<HttpFigures> {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 3 }));
  const latencies: number[] = [];
  const until = Date.now() + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (Date.now() < until) {
      const t = performance.now();
      await doc.send(new GetCommand({ TableName: 'notes-bench', Key: { userId: 'bench-user', noteId: BENCH_NOTE_ID }, ConsistentRead: true }));
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  doc.destroy();
  const s = summarize(latencies);
  return { rps: latencies.length / seconds, p50: s.p50, p99: s.p99, mean: s.mean, requests: latencies.length, non2xx: 0, errors: 0 };
}

const BENCH_NOTE_ID = '01JBENCH0000000000000000000';

/** The SDK floor in the local stack's shape: dynalite and the GetCommand loops in one process. */
export async function sdkOneProcess(seconds: number, connections: number): Promise<HttpFigures> {
  const dataDir = tempDir('bench-one-process');
  try {
    const out = await new Promise<string>((res, rej) => {
      const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, 'sdk-one-process.ts')], {
        cwd: resolve(__dirname, '..', '..'),
        env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', BENCH_DIR: dataDir, BENCH_SECONDS: String(seconds), BENCH_CONNECTIONS: String(connections) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', rej);
      child.once('exit', (code) => (code === 0 ? res(stdout) : rej(new Error(`one-process SDK floor failed (${code}): ${stderr.slice(-500)}`))));
    });
    return JSON.parse(out.trim().split('\n').pop() ?? '') as HttpFigures;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * GetItem of the same kind of item straight against dynalite (LevelDB), the floor under the API:
 * raw HTTP from autocannon, and the SDK's GetCommand in a tight loop (what the handler pays).
 */
export async function dynaliteGet(seconds: number, connections: number): Promise<{ raw: HttpFigures; sdk: HttpFigures }> {
  const dataDir = tempDir('bench-dynalite');
  const [port] = await freePorts(1);
  const cli = resolve(__dirname, '..', '..', 'node_modules', 'dynalite', 'cli.js');
  const proc = spawn(process.execPath, [cli, '--port', String(port), '--host', '127.0.0.1', '--path', join(dataDir, 'db'), '--createTableMs', '0'], { stdio: 'ignore' });
  const exited = new Promise((r) => proc.once('exit', r));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  try {
    for (let i = 0; ; i++) {
      try {
        await createTableAndWait(client, notesTableCreateInput('notes-bench'));
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const noteId = BENCH_NOTE_ID;
    const now = new Date().toISOString();
    await client.send(new PutItemCommand({
      TableName: 'notes-bench',
      Item: {
        userId: { S: 'bench-user' }, noteId: { S: noteId }, title: { S: 'bench note' }, content: { S: 'c'.repeat(500) },
        tags: { L: [{ S: 'bench' }] }, createdAt: { S: now }, updatedAt: { S: now }, version: { N: '1' },
      },
    }));
    const raw = await cannon({
      url: endpoint,
      connections,
      duration: seconds,
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.GetItem',
        'x-amz-date': '20260101T000000Z',
        // dynalite checks the header's form, not the signature.
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0',
      },
      body: JSON.stringify({ TableName: 'notes-bench', Key: { userId: { S: 'bench-user' }, noteId: { S: noteId } }, ConsistentRead: true }),
    });
    const sdk = await sdkLoop(endpoint, seconds, connections);
    return { raw, sdk };
  } finally {
    client.destroy();
    proc.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}
