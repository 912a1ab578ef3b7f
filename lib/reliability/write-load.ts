/**
 * A write load that runs until it is told to stop or the server disappears: each worker
 * creates, updates and deletes notes one request at a time and books every answer it gets in a
 * `LoadLedger`. Used by the crash test, where the server is killed mid-load and autocannon's
 * fixed duration does not fit.
 */
import { randomBytes } from 'node:crypto';
import { api } from './http';
import type { AckedNote, LoadLedger, LoadUser } from './load';

export interface WriteLoad {
  stop(): void;
  /** Resolves when every worker has stopped (asked to, or because the server went away). */
  done: Promise<{ requests: number; transportErrors: number }>;
}

export function startWriteLoad(apiUrl: string, users: LoadUser[], workers: number, ledger: LoadLedger): WriteLoad {
  let stopped = false;
  let requests = 0;
  let transportErrors = 0;
  const runId = randomBytes(3).toString('hex');
  let seq = 0;

  const worker = async (w: number): Promise<void> => {
    const user = w % users.length;
    const token = users[user].token;
    while (!stopped) {
      const n = ++seq;
      try {
        const content = `${runId}-${n}-v0`;
        requests++;
        const created = await api(apiUrl, 'POST', '/notes', token, { title: `crash ${n}`, content });
        if (created.status !== 201) {
          ledger.unexpected.set(`POST -> ${created.status}`, (ledger.unexpected.get(`POST -> ${created.status}`) ?? 0) + 1);
          continue;
        }
        const note = created.json as { noteId: string; version: number };
        const entry: AckedNote = { noteId: note.noteId, user, content };
        ledger.created.set(note.noteId, entry);
        if (stopped) break;

        const updated = `${runId}-${n}-v1`;
        entry.pendingContent = updated;
        requests++;
        const put = await api(apiUrl, 'PUT', `/notes/${note.noteId}`, token, { title: `crash ${n}`, content: updated }, { 'if-match': `"${note.version}"` });
        if (put.status === 200) {
          entry.content = updated;
          entry.pendingContent = undefined;
        }
        if (stopped || n % 3 !== 0) continue;

        ledger.deleteAttempted.add(note.noteId);
        requests++;
        const del = await api(apiUrl, 'DELETE', `/notes/${note.noteId}`, token);
        if (del.status === 204) ledger.deleted.add(note.noteId);
      } catch {
        // The server is gone (killed): whatever was in flight is unacknowledged.
        transportErrors++;
        return;
      }
    }
  };

  const done = Promise.all(Array.from({ length: workers }, (_, w) => worker(w))).then(() => ({ requests, transportErrors }));
  return { stop: () => (stopped = true), done };
}
