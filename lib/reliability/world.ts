/**
 * Arranging the reliability tests: a local stack on free ports over a throw-away data directory,
 * real users in its Cognito, and a victim/attacker pair with known notes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../local/stack';
import { createUser, getIdToken } from '../local/users';
import type { FuzzWorld, VictimNote } from './arbitraries';
import { api } from './http';
import { forgedTokens } from './tokens';

export interface TempStack {
  stack: LocalStack;
  /** The API base URL without the trailing slash (`http://127.0.0.1:port`). */
  baseUrl: string;
  /** Stops the stack and removes its data directory. */
  dispose(): Promise<void>;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `notes-${prefix}-`));
}

export async function startTempStack(prefix: string, opts: Partial<LocalStackOptions> = {}): Promise<TempStack> {
  const dataDir = opts.dataDir ?? tempDir(prefix);
  const stack = await startLocalStack({ ...opts, dataDir });
  return {
    stack,
    baseUrl: stack.apiUrl.replace(/\/$/, ''),
    async dispose() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestUser {
  email: string;
  sub: string;
  token: string;
}

/** A fresh confirmed user of the stack's pool, logged in. */
export async function newUser(stack: LocalStack, label: string): Promise<TestUser> {
  const email = `${label}-${randomBytes(4).toString('hex')}@example.com`;
  const password = `Rel-${randomBytes(6).toString('hex')}-Aa1!`;
  const { sub } = await createUser(stack, email, password);
  return { email, sub, token: await getIdToken(stack, email, password) };
}

interface CreatedNote {
  noteId: string;
  title: string;
  content: string;
  version: number;
}

export async function createNote(baseUrl: string, token: string, title: string, content: string, tags: string[] = []): Promise<CreatedNote> {
  const res = await api(baseUrl, 'POST', '/notes', token, { title, content, tags });
  if (res.status !== 201) throw new Error(`arrange: create note answered ${res.status}: ${res.body}`);
  return res.json as CreatedNote;
}

async function firstPageCursor(baseUrl: string, token: string): Promise<string | undefined> {
  const res = await api(baseUrl, 'GET', '/notes?limit=1', token);
  return ((res.json as { nextCursor?: string | null }).nextCursor ?? undefined) || undefined;
}

/** Victim with 5 marked notes, attacker with 3 of their own, and tokens forged from the attacker's. */
export async function createFuzzWorld(t: TempStack, maxBodyBytes = 262_144): Promise<FuzzWorld> {
  const [victim, attacker] = await Promise.all([newUser(t.stack, 'victim'), newUser(t.stack, 'attacker')]);
  const marker = `victim-secret-${randomBytes(6).toString('hex')}`;
  const victimNotes: VictimNote[] = [];
  for (let i = 0; i < 5; i++) {
    const n = await createNote(t.baseUrl, victim.token, `${marker} title ${i}`, `${marker} content ${i} ünïcødé ✓`, [marker.slice(0, 20)]);
    victimNotes.push({ noteId: n.noteId, title: n.title, content: n.content, version: n.version });
  }
  const attackerIds: string[] = [];
  for (let i = 0; i < 3; i++) attackerIds.push((await createNote(t.baseUrl, attacker.token, `attacker note ${i}`, 'mine')).noteId);
  const editIds: string[] = [];
  for (let i = 0; i < 3; i++) editIds.push((await createNote(t.baseUrl, attacker.token, `attacker draft ${i}`, 'edit me')).noteId);
  return {
    apiUrl: t.baseUrl,
    maxBodyBytes,
    victim: { sub: victim.sub, token: victim.token, notes: victimNotes, marker, cursor: await firstPageCursor(t.baseUrl, victim.token) },
    attacker: { sub: attacker.sub, token: attacker.token, noteIds: attackerIds, editIds, cursor: await firstPageCursor(t.baseUrl, attacker.token) },
    forged: forgedTokens(attacker.token, victim.sub),
  };
}

/** Positive integer from the environment, or the default. */
export function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
}
