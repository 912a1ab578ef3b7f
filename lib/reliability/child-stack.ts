/**
 * The local stack as a separate process (`bin/local.ts`, exactly what `npm start` runs), so a
 * test can SIGKILL it like a power cut would and start it again on the same data directory.
 * Runs under `node --import tsx` (not the `tsx` CLI, which would put a supervisor process in
 * between and leave the real server running when only the supervisor is killed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { readState } from '../local/state';
import type { LocalCognitoTarget } from '../local/users';
import { send } from './http';

const REPO_ROOT = resolve(__dirname, '..', '..');

export interface Ports {
  api: number;
  dynamo: number;
  cognito: number;
}

/** Ports that are free right now (bound to 0 together, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<import('node:net').Server>((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen(0, '127.0.0.1', () => res(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((res) => s.close(() => res()))));
  return ports;
}

export interface ChildStack {
  proc: ChildProcess;
  baseUrl: string;
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function spawnLocalStack(dataDir: string, ports: Ports, timeoutMs = 90_000): Promise<ChildStack> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'bin', 'local.ts'), '--data-dir', dataDir, '--port', String(ports.api), '--dynamo-port', String(ports.dynamo), '--cognito-port', String(ports.cognito)],
    { cwd: REPO_ROOT, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  proc.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.once('exit', (code, signal) => res({ code, signal })));
  const baseUrl = `http://127.0.0.1:${ports.api}`;

  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void exited.then(() => (dead = true));
  for (;;) {
    if (dead) throw new Error(`local stack exited before it was ready:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`local stack not ready after ${timeoutMs} ms:\n${out}`);
    }
    try {
      const res = await send(baseUrl, { method: 'GET', path: '/health' }, 2000);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, baseUrl, output: () => out, exited };
}

/** What `createUser`/`getIdToken` need, read from the stack's state file. */
export function cognitoTargetOf(dataDir: string, ports: Ports): LocalCognitoTarget {
  const state = readState(dataDir);
  if (!state?.userPoolId || !state.clientId || !state.smokeClientId) throw new Error(`no pool ids in ${dataDir}`);
  return {
    cognitoEndpoint: `http://127.0.0.1:${ports.cognito}`,
    region: state.region,
    userPoolId: state.userPoolId,
    clientId: state.clientId,
    smokeClientId: state.smokeClientId,
  };
}
