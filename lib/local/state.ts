/**
 * `<dataDir>/local-stack.json`: the ids the local stack created on first start (reused on every
 * later start) and, while it runs, its endpoints and process id, so `npm run local:user` and
 * other tools find the running stack without anyone typing ids.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const STATE_FILE = 'local-stack.json';

export interface LocalStackState {
  region: string;
  tableName: string;
  userPoolId?: string;
  clientId?: string;
  smokeClientId?: string;
  /** Present while a stack runs on this data directory. */
  running?: {
    pid: number;
    apiUrl: string;
    cognitoEndpoint: string;
    dynamoEndpoint: string;
    startedAt: string;
  };
}

export function statePath(dataDir: string): string {
  return join(dataDir, STATE_FILE);
}

export function readState(dataDir: string): LocalStackState | undefined {
  let text: string;
  try {
    text = readFileSync(statePath(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as LocalStackState;
  } catch {
    return undefined;
  }
}

export function writeState(dataDir: string, state: LocalStackState): void {
  const path = statePath(dataDir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, path);
}

/** Whether a process with this id exists (signal 0 checks without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}
