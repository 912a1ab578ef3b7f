/**
 * Mixed CRUD load with acknowledgement bookkeeping, used by the load test, the crash test (over
 * plain HTTP, see `write-load.ts`) and the benchmark.
 *
 * Each autocannon connection repeats: create a note, read it, update it with If-Match, list,
 * and (every other cycle) delete it. Only answers the client actually received count as
 * acknowledged; a request still in flight when the clock stops may or may not have happened,
 * so it is remembered as "attempted" and the checks allow either outcome for it.
 */
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { api } from './http';

export interface LoadUser {
  token: string;
}

export interface AckedNote {
  noteId: string;
  user: number;
  /** Content of the last acknowledged write (create or update). */
  content: string;
  /** Content of a write sent after that which was never answered (either may be current). */
  pendingContent?: string;
}

export interface LoadLedger {
  created: Map<string, AckedNote>;
  /** Deletes answered 204. */
  deleted: Set<string>;
  /** Deletes sent but not (yet) answered. */
  deleteAttempted: Set<string>;
  unexpected: Map<string, number>;
}

export interface LoadSummary {
  durationSec: number;
  connections: number;
  requests: number;
  throughputRps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  creates: number;
  deletes: number;
}

export interface LoadOptions {
  apiUrl: string;
  users: LoadUser[];
  connections: number;
  durationSec: number;
  /** Bytes of note content per write (default 200). */
  contentBytes?: number;
}

function recordUnexpected(ledger: LoadLedger, what: string, status: number): void {
  const key = `${what} -> ${status}`;
  ledger.unexpected.set(key, (ledger.unexpected.get(key) ?? 0) + 1);
}

export function newLedger(): LoadLedger {
  return { created: new Map(), deleted: new Set(), deleteAttempted: new Set(), unexpected: new Map() };
}

export async function runMixedLoad(opts: LoadOptions, ledger: LoadLedger = newLedger()): Promise<{ ledger: LoadLedger; summary: LoadSummary }> {
  const runId = randomBytes(4).toString('hex');
  const filler = 'x'.repeat(opts.contentBytes ?? 200);
  let seq = 0;
  const headersFor = (user: number, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${opts.users[user].token}`,
    'content-type': 'application/json',
    ...extra,
  });

  type Ctx = { user?: number; noteId?: string; etag?: string; cycle?: number };
  const instance = autocannon({
    url: opts.apiUrl,
    connections: opts.connections,
    duration: opts.durationSec,
    timeout: 20,
    requests: [
      {
        method: 'POST',
        path: '/notes',
        setupRequest: (req, context) => {
          const ctx = context as Ctx;
          const n = ++seq;
          ctx.user = n % opts.users.length;
          ctx.cycle = n;
          const content = `${runId}-${n}-v0 ${filler}`;
          return { ...req, headers: headersFor(ctx.user), body: JSON.stringify({ title: `load ${runId} ${n}`, content, tags: ['load'] }) };
        },
        onResponse: (status, body, context) => {
          const ctx = context as Ctx;
          if (status !== 201) return recordUnexpected(ledger, 'POST /notes', status);
          const note = JSON.parse(body) as { noteId: string; content: string; version: number };
          ctx.noteId = note.noteId;
          ctx.etag = `"${note.version}"`;
          ledger.created.set(note.noteId, { noteId: note.noteId, user: ctx.user ?? 0, content: note.content });
        },
      },
      {
        method: 'GET',
        setupRequest: (req, context) => {
          const ctx = context as Ctx;
          if (!ctx.noteId) return null;
          return { ...req, path: `/notes/${ctx.noteId}`, headers: headersFor(ctx.user ?? 0) };
        },
        onResponse: (status) => {
          if (status !== 200) recordUnexpected(ledger, 'GET /notes/{id}', status);
        },
      },
      {
        method: 'PUT',
        setupRequest: (req, context) => {
          const ctx = context as Ctx;
          if (!ctx.noteId) return null;
          const content = `${runId}-${ctx.cycle}-v1 ${filler}`;
          const acked = ledger.created.get(ctx.noteId);
          if (acked) acked.pendingContent = content;
          return {
            ...req,
            path: `/notes/${ctx.noteId}`,
            headers: headersFor(ctx.user ?? 0, { 'if-match': ctx.etag ?? '*' }),
            body: JSON.stringify({ title: `load ${runId} ${ctx.cycle} updated`, content, tags: ['load', 'updated'] }),
          };
        },
        onResponse: (status, body, context) => {
          const ctx = context as Ctx;
          if (status !== 200) return recordUnexpected(ledger, 'PUT /notes/{id}', status);
          const note = JSON.parse(body) as { noteId: string; content: string; version: number };
          ctx.etag = `"${note.version}"`;
          const acked = ledger.created.get(note.noteId);
          if (acked) {
            acked.content = note.content;
            acked.pendingContent = undefined;
          }
        },
      },
      {
        method: 'GET',
        setupRequest: (req, context) => ({ ...req, path: '/notes?limit=20', headers: headersFor((context as Ctx).user ?? 0) }),
        onResponse: (status) => {
          if (status !== 200) recordUnexpected(ledger, 'GET /notes', status);
        },
      },
      {
        method: 'DELETE',
        setupRequest: (req, context) => {
          const ctx = context as Ctx;
          if (!ctx.noteId || (ctx.cycle ?? 0) % 2 === 0) return null;
          ledger.deleteAttempted.add(ctx.noteId);
          return { ...req, path: `/notes/${ctx.noteId}`, headers: headersFor(ctx.user ?? 0) };
        },
        onResponse: (status, _body, context) => {
          const ctx = context as Ctx;
          if (status !== 204) return recordUnexpected(ledger, 'DELETE /notes/{id}', status);
          if (ctx.noteId) ledger.deleted.add(ctx.noteId);
        },
      },
    ],
  });
  const result = await instance;
  const statusCounts: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCounts[code] = count;
  return {
    ledger,
    summary: {
      durationSec: result.duration,
      connections: opts.connections,
      requests: result.requests.total,
      throughputRps: result.requests.average,
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
      statusCounts,
      errors: result.errors,
      timeouts: result.timeouts,
      creates: ledger.created.size,
      deletes: ledger.deleted.size,
    },
  };
}

export interface LedgerCheck {
  checkedPresent: number;
  checkedGone: number;
  problems: string[];
}

/**
 * Reads back every acknowledged write: acknowledged creates not (possibly) deleted must be there
 * with their last acknowledged (or a pending) content; acknowledged deletes must be gone.
 */
export async function verifyLedger(apiUrl: string, users: LoadUser[], ledger: LoadLedger, parallel = 16): Promise<LedgerCheck> {
  const problems: string[] = [];
  let checkedPresent = 0;
  let checkedGone = 0;
  const tasks: Array<() => Promise<void>> = [];
  for (const note of ledger.created.values()) {
    const token = users[note.user].token;
    if (ledger.deleted.has(note.noteId)) {
      tasks.push(async () => {
        const res = await api(apiUrl, 'GET', `/notes/${note.noteId}`, token);
        checkedGone++;
        if (res.status !== 404) problems.push(`acknowledged delete of ${note.noteId} but GET answers ${res.status}`);
      });
    } else if (!ledger.deleteAttempted.has(note.noteId)) {
      tasks.push(async () => {
        const res = await api(apiUrl, 'GET', `/notes/${note.noteId}`, token);
        checkedPresent++;
        if (res.status !== 200) {
          problems.push(`acknowledged create of ${note.noteId} but GET answers ${res.status}`);
          return;
        }
        const content = (res.json as { content?: string }).content;
        if (content !== note.content && content !== note.pendingContent) {
          problems.push(`note ${note.noteId} holds ${JSON.stringify(content?.slice(0, 40))}, not its last acknowledged content`);
        }
      });
    }
  }
  const worker = async (): Promise<void> => {
    for (let t = tasks.shift(); t; t = tasks.shift()) await t();
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { checkedPresent, checkedGone, problems };
}

export function formatLoadSummary(s: LoadSummary): string {
  const statuses = Object.entries(s.statusCounts).map(([k, v]) => `${k}:${v}`).join(' ');
  return (
    `${s.requests} requests in ${s.durationSec.toFixed(1)} s over ${s.connections} connections: ` +
    `${s.throughputRps.toFixed(0)} req/s, latency p50 ${s.latencyMs.p50} ms, p90 ${s.latencyMs.p90} ms, p99 ${s.latencyMs.p99} ms, max ${s.latencyMs.max} ms; ` +
    `statuses ${statuses}; ${s.errors} errors, ${s.timeouts} timeouts; ${s.creates} acknowledged creates, ${s.deletes} acknowledged deletes`
  );
}
