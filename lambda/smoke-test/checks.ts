/**
 * The must-pass smoke test of a deployed (or local) notes API, as a plain module: the pipeline's
 * smoke-test Lambda (`index.ts`), the command line (`bin/smoke.ts`) and the tests all run this.
 *
 * Checks, in order (a check whose prerequisite failed is reported as skipped, never as passed):
 *   health            GET /health -> 200 within the SLA, status "ok", the expected version
 *   auth-no-token     GET /notes without a token -> 401
 *   auth-forged-token GET /notes with a well-formed JWT signed by a key of our own -> 401
 *   auth-login        the smoke user logs in, and GET /notes with its id token -> 200
 *   crud-create       POST /notes -> 201 with Location and ETag
 *   crud-list         GET /notes lists the new note
 *   crud-get          GET /notes/{id} -> 200, the note as created
 *   crud-update       PUT /notes/{id} with If-Match -> 200, the new content
 *   crud-get-updated  GET /notes/{id} shows the update
 *   crud-delete       DELETE /notes/{id} with If-Match -> 204
 *   crud-get-deleted  GET /notes/{id} -> 404
 *
 * Every HTTP call has its own timeout (AbortController). Notes the run created are deleted in a
 * final clean-up whatever happened before. Dependencies: Node's global fetch and node:crypto.
 */
import { generateKeyPair, randomUUID, sign as signData, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export const CHECK_NAMES = [
  'health',
  'auth-no-token',
  'auth-forged-token',
  'auth-login',
  'crud-create',
  'crud-list',
  'crud-get',
  'crud-update',
  'crud-get-updated',
  'crud-delete',
  'crud-get-deleted',
] as const;

export type CheckName = (typeof CHECK_NAMES)[number];

export const DEFAULT_HEALTH_SLA_MS = 1000;
export const DEFAULT_TIMEOUT_MS = 5000;
/** Longest response body quoted in a failure message. */
export const MAX_QUOTED_BODY = 300;

/** What a forged token claims to be; the closer to a real token, the sharper the check. */
export interface ForgedTokenHints {
  /** `iss` of the pool's real tokens (e.g. `https://cognito-idp.<region>.amazonaws.com/<poolId>`). */
  issuer?: string;
  /** `aud`: an app client id of the pool. */
  audience?: string;
  /** `kid` in the header (e.g. one of the pool's real key ids). */
  kid?: string;
}

export interface SmokeTarget {
  /** Base URL of the API (the stack's ApiUrl output); a trailing `/` is added when missing. */
  apiUrl: string;
  /** When given, /health must report exactly this version. */
  expectedVersion?: string;
  /** /health must answer within this many milliseconds (default 1000). */
  healthSlaMs?: number;
  /** Logs the smoke user in and returns its id token. */
  login: () => Promise<string>;
  /** Timeout of each HTTP call in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Replaces the global fetch (only where the global one cannot be used). */
  fetch?: typeof fetch;
  forgery?: ForgedTokenHints;
  /** Stops the run: the check in progress fails, later checks are skipped, the clean-up still runs. */
  signal?: AbortSignal;
  /** Called as each check starts (the Lambda uses it to say where a timeout struck). */
  onCheckStart?: (name: CheckName) => void;
  /** Runs these checks only (in the usual order); the others are left out of the report. Default: all. */
  only?: readonly CheckName[];
}

export interface CheckResult {
  name: CheckName;
  passed: boolean;
  /** True when the check did not run because a check it needs failed (or the run was stopped). */
  skipped?: boolean;
  ms: number;
  /** What was seen; for a failure, the request and the response it got. */
  detail?: string;
}

export interface CleanupResult {
  /** Ids of the notes this run created. */
  created: string[];
  /** Ids still there after the clean-up (a broken DELETE, or the API unreachable). */
  leftBehind: string[];
  detail?: string;
}

export interface SmokeReport {
  passed: boolean;
  checks: CheckResult[];
  /** One line per check with its time; a failure names the check and the response it got. */
  summary: string;
  /** The first check that failed (not skipped), with what it saw. */
  failure?: { name: CheckName; detail: string };
  cleanup: CleanupResult;
  apiUrl: string;
  totalMs: number;
}

/** A check saw something other than what a healthy service answers. */
class CheckFailed extends Error {}

interface HttpReply {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
  ms: number;
}

interface RequestOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Whether the run's stop signal aborts this call (not for the clean-up). */
  stoppable?: boolean;
}

function normalizeApiUrl(apiUrl: string): string {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new Error(`apiUrl is not a URL: "${apiUrl}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`apiUrl must be http(s): "${apiUrl}"`);
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.toString();
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** A response body for a message: whitespace collapsed, at most MAX_QUOTED_BODY characters. */
export function trimBody(text: string, max = MAX_QUOTED_BODY): string {
  const t = oneLine(text);
  if (t.length === 0) return '(empty body)';
  return t.length > max ? `${t.slice(0, max)}...` : t;
}

function describe(reply: HttpReply): string {
  return `${reply.method} /${reply.path} -> ${reply.status} ${trimBody(reply.text)}`;
}

/** `Name: message (cause)` of an error; duck-typed, since errors from fetch may come from another realm. */
export function errorText(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const e = err as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown };
  const name = typeof e.name === 'string' && e.name !== 'Error' ? `${e.name}: ` : '';
  const message = typeof e.message === 'string' && e.message.length > 0 ? e.message : typeof e.code === 'string' ? e.code : String(err);
  let cause = '';
  if (typeof e.cause === 'object' && e.cause !== null) {
    const c = e.cause as { code?: unknown; message?: unknown };
    const text = typeof c.code === 'string' ? c.code : typeof c.message === 'string' ? c.message : '';
    if (text) cause = ` (${text})`;
  }
  return `${name}${message}${cause}`;
}

function jsonField(json: unknown, field: string): unknown {
  return typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[field] : undefined;
}

let forgeryKey: Promise<KeyObject> | undefined;

/** A fresh RSA key of our own, made once per process: nobody trusts it. */
function ownKey(): Promise<KeyObject> {
  forgeryKey ??= new Promise((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, _publicKey, privateKey) => (err ? reject(err) : resolve(privateKey))),
  );
  return forgeryKey;
}

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/**
 * A syntactically valid Cognito-style id token (RS256, the claims a real one carries, not expired)
 * signed with our own key. An API that accepts it does not verify signatures.
 */
export async function forgeIdToken(hints: ForgedTokenHints = {}, nowMs = Date.now()): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid: hints.kid ?? b64url(randomUUID()) };
  const sub = randomUUID();
  const payload = {
    sub,
    aud: hints.audience ?? 'smoke-forged-client',
    iss: hints.issuer ?? 'https://cognito-idp.invalid/smoke-forged',
    token_use: 'id',
    'cognito:username': sub,
    email: 'forged-smoke@example.invalid',
    email_verified: true,
    auth_time: now,
    iat: now,
    exp: now + 600,
    jti: randomUUID(),
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = signData('RSA-SHA256', Buffer.from(input), await ownKey());
  return `${input}.${b64url(signature)}`;
}

interface NoteSeen {
  noteId: string;
  etag?: string;
}

/** Runs the smoke checks against `target`; never throws for a check's sake, only for a bad target. */
export async function runSmokeChecks(target: SmokeTarget): Promise<SmokeReport> {
  const apiUrl = normalizeApiUrl(target.apiUrl);
  const slaMs = target.healthSlaMs ?? DEFAULT_HEALTH_SLA_MS;
  const timeoutMs = target.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = target.fetch ?? fetch;
  const runId = `${new Date().toISOString()} ${randomUUID().slice(0, 8)}`;
  const started = performance.now();
  // Make the forging key while the first checks run, so its cost is not counted as the API's time.
  ownKey().catch(() => undefined);

  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<HttpReply> => {
    const controller = new AbortController();
    const stopSignal = opts.stoppable === false ? undefined : target.signal;
    const onStop = (): void => controller.abort();
    if (stopSignal?.aborted) throw new CheckFailed(`${method} /${path}: not sent, the smoke test was stopped`);
    stopSignal?.addEventListener('abort', onStop, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
    // API Gateway's Cognito authorizer takes the raw id token as the Authorization header.
    if (opts.token !== undefined) headers.Authorization = opts.token;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['Content-Type'] = 'application/json';
    }
    const t0 = performance.now();
    try {
      const res = await doFetch(new URL(path, apiUrl), { method, headers, body, signal: controller.signal, redirect: 'manual' });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { method, path, status: res.status, headers: res.headers, text, json, ms: Math.round(performance.now() - t0) };
    } catch (err) {
      if (timedOut) throw new CheckFailed(`${method} /${path}: no response within ${timeoutMs} ms`);
      if (stopSignal?.aborted) throw new CheckFailed(`${method} /${path}: stopped before the response came (the smoke test was stopped)`);
      throw new CheckFailed(`${method} /${path}: request failed (${errorText(err)})`);
    } finally {
      clearTimeout(timer);
      stopSignal?.removeEventListener('abort', onStop);
    }
  };

  /** Waits for a call we cannot abort (the login) no longer than one HTTP timeout, or until stopped. */
  const bounded = <T>(work: Promise<T>, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const onStop = (): void => finish(() => reject(new CheckFailed(`${what}: stopped before it finished (the smoke test was stopped)`)));
      const timer = setTimeout(() => finish(() => reject(new CheckFailed(`${what}: no answer within ${timeoutMs} ms`))), timeoutMs);
      let done = false;
      function finish(settle: () => void): void {
        if (done) return;
        done = true;
        clearTimeout(timer);
        target.signal?.removeEventListener('abort', onStop);
        settle();
      }
      if (target.signal?.aborted) onStop();
      else target.signal?.addEventListener('abort', onStop, { once: true });
      work.then(
        (value) => finish(() => resolve(value)),
        (err: unknown) => finish(() => reject(err)),
      );
    });

  const expectStatus = (reply: HttpReply, status: number, what?: string): void => {
    if (reply.status !== status) throw new CheckFailed(`${what ? `${what}: ` : ''}expected ${status}, got ${describe(reply)}`);
  };

  // State shared by the checks.
  let token: string | undefined;
  let note: NoteSeen | undefined;
  const created = new Set<string>();
  const gone = new Set<string>();
  const title1 = `smoke ${runId}`;
  const content1 = `Created by the smoke test at ${runId}; deleted by the same run.`;
  const title2 = `${title1} (updated)`;
  const content2 = `${content1} Updated.`;
  let updated = false;
  let deleted = false;

  const noteOf = (reply: HttpReply): { noteId?: unknown; title?: unknown; content?: unknown } =>
    typeof reply.json === 'object' && reply.json !== null ? (reply.json as Record<string, unknown>) : {};

  const expectNoteContent = (reply: HttpReply, title: string, content: string, state: string): void => {
    const body = noteOf(reply);
    if (body.noteId !== note?.noteId) throw new CheckFailed(`${describe(reply)}: noteId is not ${note?.noteId}`);
    if (body.title !== title || body.content !== content) {
      throw new CheckFailed(
        `${reply.method} /${reply.path} -> ${reply.status} but the note is not ${state}: ` +
          `title ${JSON.stringify(body.title)}, expected ${JSON.stringify(title)}; body ${trimBody(reply.text)}`,
      );
    }
  };

  type Check = { name: CheckName; needs: () => string | undefined; run: () => Promise<string | undefined> };
  const requireToken = (): string | undefined => (token ? undefined : 'auth-login');
  const requireNote = (): string | undefined => requireToken() ?? (note ? undefined : 'crud-create');

  const checks: Check[] = [
    {
      name: 'health',
      needs: () => undefined,
      run: async () => {
        const reply = await request('GET', 'health');
        expectStatus(reply, 200);
        const status = jsonField(reply.json, 'status');
        const version = jsonField(reply.json, 'version');
        if (status !== 'ok') throw new CheckFailed(`${describe(reply)}: status is ${JSON.stringify(status)}, expected "ok"`);
        if (target.expectedVersion !== undefined && version !== target.expectedVersion) {
          throw new CheckFailed(`${describe(reply)}: version is ${JSON.stringify(version)}, expected "${target.expectedVersion}"`);
        }
        if (reply.ms > slaMs) throw new CheckFailed(`GET /health -> 200 in ${reply.ms} ms, over the ${slaMs} ms SLA`);
        return `200 in ${reply.ms} ms (SLA ${slaMs} ms), version ${String(version)}`;
      },
    },
    {
      name: 'auth-no-token',
      needs: () => undefined,
      run: async () => {
        const reply = await request('GET', 'notes');
        expectStatus(reply, 401, 'without a token');
        return '401 without a token';
      },
    },
    {
      name: 'auth-forged-token',
      needs: () => undefined,
      run: async () => {
        const forged = await forgeIdToken(target.forgery);
        const reply = await request('GET', 'notes', { token: forged });
        expectStatus(reply, 401, 'with a token signed by a key of our own');
        return '401 for a token signed by a key of our own';
      },
    },
    {
      name: 'auth-login',
      needs: () => undefined,
      run: async () => {
        let idToken: string;
        try {
          idToken = await bounded(target.login(), 'login');
        } catch (err) {
          if (err instanceof CheckFailed) throw err;
          throw new CheckFailed(`login failed: ${errorText(err)}`);
        }
        if (typeof idToken !== 'string' || idToken.split('.').length !== 3) throw new CheckFailed('login returned no JWT');
        const reply = await request('GET', 'notes?limit=1', { token: idToken });
        expectStatus(reply, 200, "with the smoke user's token");
        if (!Array.isArray(jsonField(reply.json, 'items'))) throw new CheckFailed(`${describe(reply)}: no items array`);
        token = idToken;
        return "logged in; 200 with the smoke user's token";
      },
    },
    {
      name: 'crud-create',
      needs: requireToken,
      run: async () => {
        const reply = await request('POST', 'notes', { token, body: { title: title1, content: content1, tags: ['smoke'] } });
        const noteId = noteOf(reply).noteId;
        // Remembered before anything else is judged, so that the clean-up removes it whatever follows.
        if (typeof noteId === 'string' && reply.status >= 200 && reply.status < 300) created.add(noteId);
        expectStatus(reply, 201);
        if (typeof noteId !== 'string' || noteId.length === 0) throw new CheckFailed(`${describe(reply)}: no noteId`);
        const location = reply.headers.get('location');
        const etag = reply.headers.get('etag');
        if (!location || !location.endsWith(`/notes/${noteId}`)) {
          throw new CheckFailed(`${describe(reply)}: Location header is ${JSON.stringify(location)}, expected .../notes/${noteId}`);
        }
        if (!etag) throw new CheckFailed(`${describe(reply)}: no ETag header`);
        note = { noteId, etag };
        if (noteOf(reply).title !== title1) throw new CheckFailed(`${describe(reply)}: the answer does not show the title sent`);
        return `201 ${noteId}, ETag ${etag}`;
      },
    },
    {
      name: 'crud-list',
      needs: requireNote,
      run: async () => {
        let cursor: string | undefined;
        let last: HttpReply | undefined;
        for (let page = 1; page <= 5; page++) {
          const query = `notes?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          last = await request('GET', query, { token });
          expectStatus(last, 200);
          const items = jsonField(last.json, 'items');
          if (!Array.isArray(items)) throw new CheckFailed(`${describe(last)}: no items array`);
          if (items.some((i) => jsonField(i, 'noteId') === note?.noteId)) return `listed on page ${page}`;
          const next = jsonField(last.json, 'nextCursor');
          if (typeof next !== 'string' || next.length === 0) break;
          cursor = next;
        }
        throw new CheckFailed(`${last ? describe(last) : 'GET /notes'}: the list does not contain ${note?.noteId}`);
      },
    },
    {
      name: 'crud-get',
      needs: requireNote,
      run: async () => {
        const reply = await request('GET', `notes/${note?.noteId}`, { token });
        expectStatus(reply, 200);
        expectNoteContent(reply, title1, content1, 'as created');
        const etag = reply.headers.get('etag');
        if (!etag) throw new CheckFailed(`${describe(reply)}: no ETag header`);
        if (note) note.etag = etag;
        return `200, ETag ${etag}`;
      },
    },
    {
      name: 'crud-update',
      needs: requireNote,
      run: async () => {
        const before = note?.etag;
        const reply = await request('PUT', `notes/${note?.noteId}`, {
          token,
          body: { title: title2, content: content2, tags: ['smoke', 'updated'] },
          headers: before ? { 'If-Match': before } : {},
        });
        expectStatus(reply, 200, `with If-Match ${before ?? '(none)'}`);
        expectNoteContent(reply, title2, content2, 'updated in the answer');
        const etag = reply.headers.get('etag');
        if (!etag) throw new CheckFailed(`${describe(reply)}: no ETag header`);
        if (etag === before) throw new CheckFailed(`${describe(reply)}: ETag ${etag} did not change`);
        updated = true;
        return `200, ETag ${before} -> ${etag}`;
      },
    },
    {
      name: 'crud-get-updated',
      needs: () => requireNote() ?? (updated ? undefined : 'crud-update'),
      run: async () => {
        const reply = await request('GET', `notes/${note?.noteId}`, { token });
        expectStatus(reply, 200);
        // The ETag the service holds now: the delete sends it even when this check fails.
        const etag = reply.headers.get('etag');
        if (note && etag) note.etag = etag;
        expectNoteContent(reply, title2, content2, 'updated');
        return `200, shows the update, ETag ${etag}`;
      },
    },
    {
      name: 'crud-delete',
      needs: requireNote,
      run: async () => {
        const etag = note?.etag;
        const reply = await request('DELETE', `notes/${note?.noteId}`, { token, headers: etag ? { 'If-Match': etag } : {} });
        expectStatus(reply, 204, `with If-Match ${etag ?? '(none)'}`);
        deleted = true;
        return '204';
      },
    },
    {
      name: 'crud-get-deleted',
      needs: () => requireNote() ?? (deleted ? undefined : 'crud-delete'),
      run: async () => {
        const reply = await request('GET', `notes/${note?.noteId}`, { token });
        expectStatus(reply, 404, 'after DELETE');
        if (note) gone.add(note.noteId);
        return '404 after delete';
      },
    },
  ];

  const results: CheckResult[] = [];
  let cleanup: CleanupResult;
  const selected = target.only ? checks.filter((c) => target.only?.includes(c.name)) : checks;
  try {
    for (const check of selected) {
      if (target.signal?.aborted) {
        results.push({ name: check.name, passed: false, skipped: true, ms: 0, detail: 'skipped: the smoke test was stopped' });
        continue;
      }
      const missing = check.needs();
      if (missing) {
        results.push({ name: check.name, passed: false, skipped: true, ms: 0, detail: `skipped: needs ${missing}, which did not pass` });
        continue;
      }
      target.onCheckStart?.(check.name);
      const t0 = performance.now();
      try {
        const detail = await check.run();
        results.push({ name: check.name, passed: true, ms: Math.round(performance.now() - t0), detail });
      } catch (err) {
        const detail = err instanceof CheckFailed ? err.message : `unexpected error: ${errorText(err)}`;
        results.push({ name: check.name, passed: false, ms: Math.round(performance.now() - t0), detail });
      }
    }
  } finally {
    // Clean-up: whatever happened above, delete what this run created and did not see gone.
    cleanup = await removeNotes([...created].filter((id) => !gone.has(id)));
  }

  async function removeNotes(ids: string[]): Promise<CleanupResult> {
    const leftBehind: string[] = [];
    const problems: string[] = [];
    for (const id of ids) {
      try {
        const del = await request('DELETE', `notes/${id}`, { token, stoppable: false });
        if (del.status !== 204 && del.status !== 404) {
          leftBehind.push(id);
          problems.push(describe(del));
          continue;
        }
        const check = await request('GET', `notes/${id}`, { token, stoppable: false });
        if (check.status !== 404) {
          leftBehind.push(id);
          problems.push(`still there after DELETE: ${describe(check)}`);
        }
      } catch (err) {
        leftBehind.push(id);
        problems.push(err instanceof Error ? err.message : String(err));
      }
    }
    return {
      created: [...created],
      leftBehind,
      ...(problems.length > 0 ? { detail: problems.join('; ') } : {}),
    };
  }

  const totalMs = Math.round(performance.now() - started);
  const passed = results.every((r) => r.passed);
  const failed = results.find((r) => !r.passed && !r.skipped);
  const report: SmokeReport = {
    passed,
    checks: results,
    summary: '',
    ...(failed ? { failure: { name: failed.name, detail: failed.detail ?? 'failed' } } : {}),
    cleanup,
    apiUrl,
    totalMs,
  };
  report.summary = formatSummary(report);
  return report;
}

/** The human summary: a verdict line, then one line per check with its time, then the clean-up. */
export function formatSummary(report: Omit<SmokeReport, 'summary'>): string {
  const passedCount = report.checks.filter((c) => c.passed).length;
  const head = report.passed
    ? `Smoke test passed: ${passedCount}/${report.checks.length} checks against ${report.apiUrl} in ${report.totalMs} ms`
    : report.failure
      ? `Smoke test FAILED at ${report.failure.name}: ${report.failure.detail}`
      : `Smoke test FAILED: ${report.checks.find((c) => !c.passed)?.detail ?? 'no check passed'}`;
  const lines = report.checks.map((c) => {
    const verdict = c.passed ? 'PASS' : c.skipped ? 'SKIP' : 'FAIL';
    const time = c.skipped ? '' : ` ${c.ms} ms`;
    return `${verdict} ${c.name}${time}${c.detail ? ` - ${c.detail}` : ''}`;
  });
  const { created, leftBehind, detail } = report.cleanup;
  const cleanupLine =
    created.length === 0
      ? 'Clean-up: no notes to remove'
      : leftBehind.length === 0
        ? `Clean-up: ${created.length} note(s) created, none left behind`
        : `Clean-up: ${leftBehind.length} of ${created.length} note(s) LEFT BEHIND (${leftBehind.join(', ')}): ${detail ?? ''}`;
  return [head, ...lines, cleanupLine].join('\n');
}
