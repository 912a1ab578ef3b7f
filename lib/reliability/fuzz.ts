/**
 * The hostile-input properties, shared by the jest suite (a few thousand runs) and `npm run fuzz`
 * (as many as asked). Every request goes over real HTTP to the local mode.
 */
import fc from 'fast-check';
import { awkwardNoteArb, hostileRequestArb, hostileWriteArb, forgedAuthArb, type FuzzWorld, type HostileRequest } from './arbitraries';
import { api, send, tryJson, type RawResponse } from './http';

/**
 * Statuses the gateway layer (API Gateway, played by the local server) answers itself, with its
 * own `{ "message": "..." }` body instead of the handler's `{ "error": { code, message } }`.
 */
export const GATEWAY_ERROR_STATUSES = new Set([401, 403]);

const KNOWN_METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE']);

function isHandlerError(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const e = (v as { error?: unknown }).error;
  if (typeof e !== 'object' || e === null) return false;
  const { code, message } = e as { code?: unknown; message?: unknown };
  return typeof code === 'string' && code.length > 0 && typeof message === 'string' && message.length > 0;
}

function isGatewayError(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string';
}

function requestText(req: HostileRequest): string {
  const body = req.body === undefined ? '' : Buffer.isBuffer(req.body) ? req.body.toString('latin1') : req.body;
  let decodedPath = req.path;
  try {
    decodedPath = decodeURIComponent(req.path);
  } catch {
    // keep the raw path
  }
  return `${req.path} ${decodedPath} ${body} ${JSON.stringify(req.headers)}`.toLowerCase();
}

/** Everything that is wrong with `res` as an answer to `req` (empty = fine). */
export function violations(world: FuzzWorld, req: HostileRequest, res: RawResponse): string[] {
  const out: string[] = [];
  const method = req.method.toUpperCase();
  if (res.status >= 500) out.push(`server error ${res.status}: ${res.body.slice(0, 300)}`);
  if (res.status < 100) out.push(`no valid status (${res.status})`);

  const json = tryJson(res.body);
  // Node's HTTP parser refuses methods it does not know (`FOO`, lower-case `get`) before the
  // gateway's listener runs; the gateway's clientError answer is a 400 in its own `{message}` shape
  // (API Gateway's edge likewise refuses such requests itself).
  const parserRejected = !KNOWN_METHODS.has(req.method) && res.status === 400;
  if (method !== 'HEAD' && res.status >= 400) {
    if (json === undefined) out.push(`error body is not JSON: ${JSON.stringify(res.body.slice(0, 200))}`);
    else if (GATEWAY_ERROR_STATUSES.has(res.status) || parserRejected) {
      if (!isGatewayError(json) && !isHandlerError(json)) out.push(`${res.status} without a message: ${res.body.slice(0, 200)}`);
    } else if (!isHandlerError(json)) out.push(`${res.status} not in the {error:{code,message}} shape: ${res.body.slice(0, 200)}`);
  }
  if (method !== 'HEAD' && res.status >= 200 && res.status < 300 && res.body.length > 0 && json === undefined) {
    out.push(`${res.status} body is not JSON: ${res.body.slice(0, 200)}`);
  }

  let normalizedPath = req.path;
  try {
    normalizedPath = new URL(req.path, 'http://x').pathname;
  } catch {
    // unparsable: not /health
  }
  const isHealth = /^\/+health\/*$/.test(normalizedPath);
  if (req.sender !== 'attacker' && method !== 'OPTIONS' && !isHealth && res.status >= 200 && res.status < 300) {
    out.push(`${req.sender} request was served (${res.status})`);
  }

  // Isolation: nothing of the victim's may come back, except what the request itself carried.
  const asked = requestText(req);
  const seen = `${res.body} ${JSON.stringify(res.headers)}`.toLowerCase();
  const secrets = [world.victim.marker, ...world.victim.notes.map((n) => n.noteId)].filter(
    (s) => !asked.includes(s.toLowerCase()),
  );
  for (const s of secrets) if (seen.includes(s.toLowerCase())) out.push(`response leaks the victim's ${s}`);
  if (res.status >= 200 && res.status < 300 && json && typeof json === 'object') {
    const text = JSON.stringify(json);
    if (text.includes(world.victim.marker)) out.push("response contains the victim's note");
  }
  return out;
}

export interface FuzzStats {
  runs: number;
  byStatus: Map<number, number>;
  lastResponse?: RawResponse;
  failures: Array<{ request: HostileRequest; problems: string[]; status?: number }>;
}

export function newStats(): FuzzStats {
  return { runs: 0, byStatus: new Map(), failures: [] };
}

async function probe(world: FuzzWorld, req: HostileRequest, stats: FuzzStats): Promise<boolean> {
  stats.runs++;
  let res: RawResponse;
  try {
    res = await send(world.apiUrl, req);
  } catch (err) {
    stats.failures.push({ request: req, problems: [`transport error: ${(err as Error).message}`] });
    return false;
  }
  stats.lastResponse = res;
  stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
  const problems = violations(world, req, res);
  if (problems.length) stats.failures.push({ request: req, problems, status: res.status });
  return problems.length === 0;
}

export type PropertyName = 'any-request' | 'hostile-writes' | 'forged-credentials' | 'unicode-round-trip';

/** A valid note with awkward text (emoji, combining marks, RTL, NUL, long) is stored and read back unchanged. */
async function roundTrip(world: FuzzWorld, note: { title: string; content: string; tags: string[] }, stats: FuzzStats): Promise<boolean> {
  const req: HostileRequest = {
    sender: 'attacker',
    method: 'POST',
    path: '/notes',
    headers: { authorization: `Bearer ${world.attacker.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(note),
    note: 'attacker round trip',
  };
  if (!(await probe(world, req, stats))) return false;
  const last = stats.lastResponse;
  if (!last || last.status !== 201) return true; // a 400 for an over-long string is a fine answer
  const created = tryJson(last.body) as { noteId: string };
  const got = await api(world.apiUrl, 'GET', `/notes/${created.noteId}`, world.attacker.token);
  const back = got.json as { title?: string; content?: string; tags?: string[] };
  // The API keeps the first of duplicate tags (docs/notes-api.md), so that is what must come back.
  const expectedTags = [...new Set(note.tags)];
  const same = got.status === 200 && back.title === note.title && back.content === note.content && JSON.stringify(back.tags) === JSON.stringify(expectedTags);
  if (!same) stats.failures.push({ request: req, problems: [`read back differs: ${got.body.slice(0, 200)}`], status: got.status });
  await api(world.apiUrl, 'DELETE', `/notes/${created.noteId}`, world.attacker.token);
  return same;
}

export function properties(world: FuzzWorld, stats: FuzzStats): Record<PropertyName, fc.IAsyncPropertyWithHooks<[unknown]>> {
  const prop = (arb: fc.Arbitrary<HostileRequest>) => fc.asyncProperty(arb, (req) => probe(world, req, stats)) as fc.IAsyncPropertyWithHooks<[unknown]>;
  return {
    'any-request': prop(hostileRequestArb(world)),
    'hostile-writes': prop(hostileWriteArb(world)),
    'forged-credentials': prop(forgedAuthArb(world)),
    'unicode-round-trip': fc.asyncProperty(awkwardNoteArb(), (note) => roundTrip(world, note, stats)) as fc.IAsyncPropertyWithHooks<[unknown]>,
  };
}

/** How a total number of runs is split over the properties. */
export const RUN_SHARE: Record<PropertyName, number> = {
  'any-request': 0.45,
  'hostile-writes': 0.3,
  'forged-credentials': 0.15,
  'unicode-round-trip': 0.1,
};

/** Reads all of the victim's notes back and compares them with what was created (empty = intact). */
export async function victimDamage(world: FuzzWorld): Promise<string[]> {
  const problems: string[] = [];
  const seen = new Map<string, { title: string; content: string; version: number }>();
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const res = await api(world.apiUrl, 'GET', `/notes?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, world.victim.token);
    if (res.status !== 200) return [`victim cannot list notes: ${res.status} ${res.body.slice(0, 200)}`];
    const { items, nextCursor } = res.json as { items: Array<{ noteId: string; title: string; content: string; version: number }>; nextCursor?: string | null };
    for (const n of items) seen.set(n.noteId, n);
    cursor = nextCursor ?? undefined;
    if (!cursor) break;
  }
  for (const n of world.victim.notes) {
    const got = seen.get(n.noteId);
    if (!got) problems.push(`victim note ${n.noteId} is gone`);
    else if (got.title !== n.title || got.content !== n.content || got.version !== n.version) {
      problems.push(`victim note ${n.noteId} was changed (version ${n.version} -> ${got.version})`);
    }
  }
  for (const id of seen.keys()) {
    if (!world.victim.notes.some((n) => n.noteId === id)) problems.push(`a note ${id} appeared in the victim's account`);
  }
  return problems;
}

export function formatStats(name: string, stats: FuzzStats): string {
  const statuses = [...stats.byStatus.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}:${n}`).join(' ');
  return `${name}: ${stats.runs} requests, ${stats.failures.length} bad answers; statuses ${statuses}`;
}

export function describeFailure(f: FuzzStats['failures'][number]): string {
  const body = f.request.body === undefined ? '' : Buffer.isBuffer(f.request.body) ? `<${f.request.body.length} bytes>` : f.request.body.slice(0, 200);
  return `${f.request.method} ${f.request.path.slice(0, 200)} headers=${JSON.stringify(f.request.headers).slice(0, 300)} body=${JSON.stringify(body)}\n    -> ${f.problems.join('; ')}`;
}
