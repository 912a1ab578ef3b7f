/**
 * fast-check arbitraries for hostile requests against the notes API. Each generated request is
 * a complete HTTP request (method, raw path, headers, body) plus who sent it, so a property can
 * check the response against what that sender may see.
 */
import fc from 'fast-check';
import type { OutgoingHttpHeaders } from 'node:http';
import type { ForgedToken } from './tokens';

export interface VictimNote {
  noteId: string;
  title: string;
  content: string;
  version: number;
}

/** The fixed cast of a fuzz run: a victim whose notes must stay invisible and intact, and an attacker. */
export interface FuzzWorld {
  apiUrl: string;
  maxBodyBytes: number;
  victim: { sub: string; token: string; notes: VictimNote[]; cursor?: string; marker: string };
  /** `noteIds` may be deleted by the fuzzing itself; `editIds` are only ever updated (hostile writes). */
  attacker: { sub: string; token: string; noteIds: string[]; editIds: string[]; cursor?: string };
  forged: ForgedToken[];
}

export type Sender = 'attacker' | 'anonymous' | 'forged' | 'garbage-auth';

export interface HostileRequest {
  sender: Sender;
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body?: string | Buffer;
  /** Short description for failure messages. */
  note: string;
}

const b64url = (s: string): string => Buffer.from(s).toString('base64url');

/** Characters Node's HTTP client accepts in a header value (no controls; Latin-1 allowed). */
const headerSafe = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0xa0, max: 0xff }).map((c) => String.fromCharCode(c)),
  ),
  maxLength: 80,
});

const unicodeString = (maxLength: number) => fc.string({ unit: 'grapheme', maxLength });
const anyUnicode = (maxLength: number) => fc.string({ unit: 'binary', maxLength });

const pathSegmentJunk = fc.oneof(
  fc.constantFrom('..', '.', '%2e%2e', '%2E%2E%2F', '..%2F..%2Fhealth', '%2F', '%00', '%', '%zz', '%C0%AE', '%ff%fe', '~', '*', 'null', 'undefined', '__proto__', 'constructor', '$%7Buser%7D', '%3Cscript%3E'),
  anyUnicode(20).map((s) => encodeURIComponent(s)),
  fc.string({ unit: fc.constantFrom('a', '0', 'Z', '-', '_', '.', '~', '!', '$', '&', "'", '(', ')', '+', ',', ';', '=', ':', '@'), maxLength: 30 }),
  fc.integer({ min: 300, max: 3000 }).map((n) => 'A'.repeat(n)),
);

export function noteIdArb(world: FuzzWorld): fc.Arbitrary<string> {
  const victimIds = world.victim.notes.map((n) => n.noteId);
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...victimIds) },
    { weight: 3, arbitrary: fc.constantFrom(...world.attacker.noteIds) },
    { weight: 1, arbitrary: fc.constantFrom(...victimIds).map((id) => id.toLowerCase()) },
    { weight: 1, arbitrary: fc.constantFrom(...victimIds).map((id) => encodeURIComponent(`${id}\u0000`)) },
    { weight: 1, arbitrary: fc.constantFrom(...victimIds).map((id) => `${id}%20`) },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/) },
    { weight: 4, arbitrary: pathSegmentJunk },
  );
}

const limitValue = fc.oneof(
  fc.constantFrom('0', '-1', '101', '100', '1', '1e2', '1.5', 'abc', '', 'NaN', 'Infinity', '-0', '99999999999999999999', '0x10', '%205', '5%00', '[]', '%7B%7D', '1,2'),
  fc.integer({ min: -1000, max: 1000 }).map(String),
);

function cursorValue(world: FuzzWorld): fc.Arbitrary<string> {
  const victimId = world.victim.notes[0].noteId;
  const keyJson = (userId: string) => JSON.stringify({ userId, noteId: victimId });
  const plausible = [
    b64url(keyJson(world.victim.sub)),
    Buffer.from(keyJson(world.victim.sub)).toString('base64'),
    encodeURIComponent(keyJson(world.victim.sub)),
    b64url(JSON.stringify({ noteId: victimId })),
    b64url(JSON.stringify({ userId: { S: world.victim.sub }, noteId: { S: victimId } })),
    b64url(JSON.stringify({ userId: world.attacker.sub, noteId: victimId })),
    b64url(JSON.stringify({ userId: world.attacker.sub, noteId: { nested: [1, 2] } })),
    b64url('null'),
    b64url('[]'),
    b64url('"x"'),
  ];
  const stolen = world.victim.cursor ? [encodeURIComponent(world.victim.cursor)] : [];
  const own = world.attacker.cursor ? [encodeURIComponent(world.attacker.cursor)] : [];
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...plausible, ...stolen) },
    { weight: 1, arbitrary: own.length ? fc.constantFrom(...own) : fc.constant('') },
    { weight: 1, arbitrary: own.length ? fc.constantFrom(...own).map((c) => c.slice(0, -2)) : fc.constant('%') },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64url')) },
    { weight: 2, arbitrary: anyUnicode(40).map((s) => encodeURIComponent(s)) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%00', '==', 'a'.repeat(5000)) },
  );
}

function queryArb(world: FuzzWorld): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant(''),
    limitValue.map((l) => `?limit=${l}`),
    cursorValue(world).map((c) => `?cursor=${c}`),
    fc.tuple(limitValue, cursorValue(world)).map(([l, c]) => `?limit=${l}&cursor=${c}`),
    fc.tuple(limitValue, limitValue).map(([a, b]) => `?limit=${a}&limit=${b}`),
    fc.constantFrom('?', '?&&', '?limit', '?cursor', '?cursor=&limit=', '?limit[]=1', '?__proto__[x]=1', '?%zz=1'),
  );
}

export function pathArb(world: FuzzWorld): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom('/health', '/health/', '/health?x=1', '/HEALTH', '/health/..') },
    { weight: 4, arbitrary: queryArb(world).map((q) => `/notes${q}`) },
    { weight: 1, arbitrary: fc.constantFrom('/notes/', '//notes', '/notes//', '/Notes', '/notes/../health', '/notes/%2e%2e/health', '/notes/..', '/', '/notes.json', '/notes;x=1') },
    { weight: 6, arbitrary: noteIdArb(world).map((id) => `/notes/${id}`) },
    { weight: 1, arbitrary: fc.tuple(noteIdArb(world), pathSegmentJunk).map(([id, j]) => `/notes/${id}/${j}`) },
    { weight: 1, arbitrary: pathSegmentJunk.map((j) => `/${j}`) },
  );
}

const jsonish = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  unicodeString(30),
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);

function titleArb(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 200 }) },
    { weight: 2, arbitrary: unicodeString(200) },
    { weight: 1, arbitrary: anyUnicode(50) },
    { weight: 1, arbitrary: fc.integer({ min: 201, max: 2000 }).map((n) => 't'.repeat(n)) },
    { weight: 1, arbitrary: fc.integer({ min: 51, max: 120 }).map((n) => '😀'.repeat(n)) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '\u0000', '\ud800', '\u200b', 'a\u0301') },
    { weight: 2, arbitrary: jsonish },
  );
}

function contentArb(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 500 }) },
    { weight: 2, arbitrary: unicodeString(500) },
    { weight: 1, arbitrary: fc.constantFrom(100_000, 100_001, 150_000).map((n) => 'c'.repeat(n)) },
    { weight: 2, arbitrary: jsonish },
  );
}

function tagsArb(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.string({ minLength: 1, maxLength: 50 }), { maxLength: 20 }) },
    { weight: 1, arbitrary: fc.array(fc.string({ minLength: 1, maxLength: 5 }), { minLength: 21, maxLength: 40 }) },
    { weight: 1, arbitrary: fc.array(fc.oneof(fc.constant(''), fc.string({ minLength: 51, maxLength: 80 }), unicodeString(60)), { minLength: 1, maxLength: 5 }) },
    { weight: 2, arbitrary: jsonish },
    { weight: 1, arbitrary: fc.array(jsonish, { maxLength: 5 }) },
  );
}

/** A note-shaped object where any field may be missing, wrong-typed, too long, or smuggled in. */
function noteLikeArb(world: FuzzWorld): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      title: titleArb(),
      content: contentArb(),
      tags: tagsArb(),
      userId: fc.constantFrom(world.victim.sub, world.attacker.sub),
      noteId: fc.constantFrom(...world.victim.notes.map((n) => n.noteId)),
      version: fc.oneof(fc.integer(), fc.constant('1'), fc.constant(null)),
      createdAt: fc.constantFrom('1970-01-01T00:00:00.000Z', 'yesterday', ''),
      extra: jsonish,
    },
    { requiredKeys: [] },
  );
}

export function bodyArb(world: FuzzWorld): fc.Arbitrary<string | Buffer | undefined> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: noteLikeArb(world).map((o) => JSON.stringify(o)) },
    { weight: 3, arbitrary: awkwardNoteArb().map((o) => JSON.stringify(o)) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: noteLikeArb(world).chain((o) => {
      const text = JSON.stringify(o);
      return fc.integer({ min: 0, max: Math.max(0, text.length - 1) }).map((cut) => text.slice(0, cut));
    }) },
    { weight: 1, arbitrary: fc.constantFrom(
      '', '{', '[', 'null', '"str"', '123', 'true', '[]', '{}', '{"title":}', '{"title":"a",}', "{'title':'a'}",
      '{"title":"\\ud800","content":""}', '{"title":"a","content":"\\u0000"}', '{"__proto__":{"admin":true},"title":"p","content":""}',
      '{"constructor":{"prototype":{"x":1}},"title":"c","content":""}', '{"title":"a","title":"b","content":""}',
      '\uFEFF{"title":"bom","content":""}', '{"title":"a","content":"' + 'x'.repeat(1000) + '"',
    ) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.constant(Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0x22, 0x7d])) },
    { weight: 1, arbitrary: fc.constantFrom(1, 2).map((k) => JSON.stringify({ title: 'big', content: 'x'.repeat(world.maxBodyBytes * k) })) },
  );
}

const contentTypeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constantFrom(
    'application/json; charset=utf-8', 'application/JSON', 'text/plain', 'text/html', 'application/xml',
    'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16',
    'application/json-patch+json', 'application/merge-patch+json', 'application/vnd.api+json', '*/*', '', ';', 'application/',
  ) },
  { weight: 1, arbitrary: headerSafe },
);

const ifMatchArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.integer({ min: -2, max: 5 }).map((v) => `"${v}"`) },
  { weight: 2, arbitrary: fc.constantFrom('*', '""', '"', 'W/"1"', '1', '"1", "2"', '"1e0"', '"0x1"', '"99999999999999999999999"', '"NaN"', '" 1"', 'null', '"-0"', '"1.0"') },
  { weight: 1, arbitrary: headerSafe },
);

function authArb(world: FuzzWorld): fc.Arbitrary<{ sender: Sender; authorization?: string }> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant({ sender: 'attacker' as const, authorization: `Bearer ${world.attacker.token}` }) },
    { weight: 1, arbitrary: fc.constant({ sender: 'anonymous' as const }) },
    { weight: 3, arbitrary: fc.constantFrom(...world.forged).chain((f) =>
      fc.constantFrom(`Bearer ${f.token}`, f.token).map((authorization) => ({ sender: 'forged' as const, authorization })),
    ) },
    { weight: 1, arbitrary: fc.oneof(
      fc.constantFrom('Bearer', 'Bearer ', 'bearer', 'Basic dXNlcjpwYXNz', `Bearer ${world.victim.token}x`, `Bearer  ${world.victim.token.slice(1)}`, 'null', 'undefined', `Bearer ${'a'.repeat(9000)}`),
      headerSafe,
    ).map((authorization) => ({ sender: 'garbage-auth' as const, authorization })) },
  );
}

const methodArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE') },
  { weight: 1, arbitrary: fc.constantFrom('PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'get', 'FOO') },
);

/** Any request at all: every route, method, header and body combination above, from anyone but the victim. */
export function hostileRequestArb(world: FuzzWorld): fc.Arbitrary<HostileRequest> {
  return fc
    .record({
      auth: authArb(world),
      method: methodArb,
      path: pathArb(world),
      contentType: contentTypeArb,
      ifMatch: ifMatchArb,
      body: bodyArb(world),
      extra: fc.option(fc.constantFrom<OutgoingHttpHeaders>(
        { origin: 'https://evil.example' },
        { 'x-forwarded-for': '1.2.3.4' },
        { 'x-amzn-requestid': 'forged' },
        { accept: 'text/html' },
        { 'content-encoding': 'gzip' },
      ), { nil: undefined }),
    })
    .map(({ auth, method, path, contentType, ifMatch, body, extra }) => {
      const headers: OutgoingHttpHeaders = { ...extra };
      if (auth.authorization !== undefined) headers.authorization = auth.authorization;
      if (contentType !== undefined) headers['content-type'] = contentType;
      if (ifMatch !== undefined) headers['if-match'] = ifMatch;
      return {
        sender: auth.sender,
        method,
        path,
        headers,
        body: method === 'GET' || method === 'HEAD' || method === 'TRACE' ? undefined : body,
        note: `${auth.sender} ${method} ${path.slice(0, 120)}`,
      };
    });
}

/** Well-authenticated writes with hostile bodies to routes that exist: exercises validation deeply. */
export function hostileWriteArb(world: FuzzWorld): fc.Arbitrary<HostileRequest> {
  return fc
    .record({
      route: fc.oneof(
        fc.constant({ method: 'POST', path: '/notes' }),
        fc.constantFrom(...world.attacker.editIds, ...world.attacker.editIds, ...world.victim.notes.map((n) => n.noteId)).map((id) => ({ method: 'PUT', path: `/notes/${id}` })),
      ),
      contentType: contentTypeArb,
      ifMatch: ifMatchArb,
      body: bodyArb(world),
    })
    .map(({ route, contentType, ifMatch, body }) => {
      const headers: OutgoingHttpHeaders = { authorization: `Bearer ${world.attacker.token}` };
      if (contentType !== undefined) headers['content-type'] = contentType;
      if (ifMatch !== undefined) headers['if-match'] = ifMatch;
      return { sender: 'attacker' as const, ...route, headers, body, note: `attacker ${route.method} ${route.path}` };
    });
}

/** Every route with every kind of broken or forged credential. */
export function forgedAuthArb(world: FuzzWorld): fc.Arbitrary<HostileRequest> {
  const victimIds = world.victim.notes.map((n) => n.noteId);
  return fc
    .record({
      auth: authArb(world).filter((a) => a.sender !== 'attacker'),
      route: fc.oneof(
        fc.constantFrom('GET', 'POST').map((method) => ({ method, path: '/notes' })),
        fc.tuple(fc.constantFrom('GET', 'PUT', 'DELETE'), fc.constantFrom(...victimIds)).map(([method, id]) => ({ method, path: `/notes/${id}` })),
      ),
    })
    .map(({ auth, route }) => ({
      sender: auth.sender,
      ...route,
      headers: {
        ...(auth.authorization !== undefined ? { authorization: auth.authorization } : {}),
        'content-type': 'application/json',
      },
      body: route.method === 'POST' || route.method === 'PUT' ? JSON.stringify({ title: 'pwned', content: 'pwned', userId: world.victim.sub }) : undefined,
      note: `${auth.sender} ${route.method} ${route.path}`,
    }));
}

/** Valid notes whose text is awkward: emoji and combining marks, right-to-left, NUL and control characters. */
export function awkwardNoteArb(): fc.Arbitrary<{ title: string; content: string; tags: string[] }> {
  const awkward = (min: number, max: number) =>
    fc.oneof(
      fc.string({ unit: 'grapheme', minLength: min, maxLength: max }),
      fc.string({ unit: fc.constantFrom('a', ' ', '\u0000', '\u001f', '\u200b', '\u202e', '\u0301', '😀', '👩‍👩‍👧', 'ש', '中', '"', '\\', '<', '\n'), minLength: min, maxLength: max }),
    );
  return fc.record({
    title: awkward(1, 60).filter((t) => t.length >= 1 && t.length <= 200),
    content: awkward(0, 400),
    tags: fc.array(awkward(1, 12).filter((t) => t.length >= 1 && t.length <= 50), { maxLength: 5 }),
  });
}
