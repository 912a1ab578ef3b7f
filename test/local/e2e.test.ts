/**
 * End to end through the local mode: a real local stack on free loopback ports (dynalite,
 * cognito-local, the local API Gateway, the real notes handler), users signed up through the AWS
 * SDK Cognito client, every route exercised over HTTP.
 */
import { CognitoIdentityProviderClient, InitiateAuthCommand, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { createSmokeUser, createUser, getIdToken, getSmokeIdToken, localCognitoClient } from '../../lib/local/users';
import { call, cognitoLocalKey, decodePayload, foreignKey, PASSWORD, signJwt, tempDataDir, uniqueEmail } from './support';

interface Note {
  noteId: string;
  title: string;
  content: string;
  tags: string[];
  version: number;
}
interface Page {
  items: Note[];
  nextCursor: string | null;
}

const ORIGIN = 'http://localhost:5173';
const MAX_BODY = 4096;

let stack: LocalStack;
let data: ReturnType<typeof tempDataDir>;
let alice: { email: string; sub: string; token: string };
let bob: { email: string; sub: string; token: string };

async function signUp(label: string): Promise<{ email: string; sub: string; token: string }> {
  const email = uniqueEmail(label);
  const { sub } = await createUser(stack, email, PASSWORD);
  return { email, sub, token: await getIdToken(stack, email, PASSWORD) };
}

async function createNote(token: string, title: string): Promise<Note> {
  const res = await call(stack.apiUrl, 'POST', '/notes', { token, body: { title, content: `content of ${title}`, tags: ['t'] } });
  if (res.status !== 201) throw new Error(`arrange: POST /notes answered ${res.status} ${res.text}`);
  return res.json as Note;
}

beforeAll(async () => {
  data = tempDataDir('e2e');
  stack = await startLocalStack({
    dataDir: data.dir,
    apiPort: 0,
    dynamoPort: 0,
    cognitoPort: 0,
    version: '9.8.7',
    commit: 'abc1234',
    maxBodyBytes: MAX_BODY,
    corsAllowOrigins: [ORIGIN],
  });
  [alice, bob] = await Promise.all([signUp('alice'), signUp('bob')]);
});

afterAll(async () => {
  await stack?.stop();
  data?.remove();
});

describe('open routes', () => {
  test('GET /health answers without a token with the version and commit', async () => {
    const res = await call(stack.apiUrl, 'GET', '/health');

    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok', version: '9.8.7', commit: 'abc1234' });
  });
});

describe('notes CRUD over HTTP', () => {
  test('POST /notes creates a note with Location and ETag, and GET returns it', async () => {
    const created = await call(stack.apiUrl, 'POST', '/notes', {
      token: alice.token,
      body: { title: 'Groceries', content: 'milk, ünïcødé ✓', tags: ['home'] },
    });

    expect(created.status).toBe(201);
    const note = created.json as Note;
    expect(note).toMatchObject({ title: 'Groceries', content: 'milk, ünïcødé ✓', tags: ['home'], version: 1 });
    expect(created.headers.get('location')).toBe(`/notes/${note.noteId}`);
    expect(created.headers.get('etag')).toBe('"1"');

    const read = await call(stack.apiUrl, 'GET', `/notes/${note.noteId}`, { token: alice.token });
    expect(read.status).toBe(200);
    expect(read.json).toEqual(note);
  });

  test('PUT with the current If-Match replaces the note; a stale If-Match gets 412 and changes nothing', async () => {
    const note = await createNote(alice.token, 'draft');

    const updated = await call(stack.apiUrl, 'PUT', `/notes/${note.noteId}`, {
      token: alice.token,
      headers: { 'If-Match': '"1"' },
      body: { title: 'final', content: 'done', tags: [] },
    });
    const stale = await call(stack.apiUrl, 'PUT', `/notes/${note.noteId}`, {
      token: alice.token,
      headers: { 'If-Match': '"1"' },
      body: { title: 'lost update', content: 'x', tags: [] },
    });
    const read = await call(stack.apiUrl, 'GET', `/notes/${note.noteId}`, { token: alice.token });

    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ title: 'final', version: 2 });
    expect(updated.headers.get('etag')).toBe('"2"');
    expect(stale.status).toBe(412);
    expect((stale.json as { error: { code: string } }).error.code).toBe('PRECONDITION_FAILED');
    expect(read.json).toMatchObject({ title: 'final', version: 2 });
  });

  test('DELETE removes the note: 204, then 404 on read', async () => {
    const note = await createNote(alice.token, 'to delete');

    const deleted = await call(stack.apiUrl, 'DELETE', `/notes/${note.noteId}`, { token: alice.token });
    const read = await call(stack.apiUrl, 'GET', `/notes/${note.noteId}`, { token: alice.token });

    expect(deleted.status).toBe(204);
    expect(read.status).toBe(404);
  });

  test('GET /notes pages through all notes newest first with the cursor', async () => {
    const carol = await signUp('carol');
    const titles = ['n1', 'n2', 'n3', 'n4', 'n5'];
    for (const t of titles) await createNote(carol.token, t);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const res = await call(stack.apiUrl, 'GET', `/notes${query}`, { token: carol.token });
      expect(res.status).toBe(200);
      const page = res.json as Page;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((n) => n.title));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);

    expect(seen).toEqual([...titles].reverse());
    expect(pages).toBe(3);
  });

  test('a wrong method on a known resource reaches the handler and gets 405', async () => {
    const res = await call(stack.apiUrl, 'PATCH', '/notes', { token: alice.token, body: {} });

    expect(res.status).toBe(405);
  });
});

describe('isolation between users', () => {
  test("another user's note is 404 on read, update and delete, and absent from their list", async () => {
    const note = await createNote(alice.token, 'private');

    const read = await call(stack.apiUrl, 'GET', `/notes/${note.noteId}`, { token: bob.token });
    const put = await call(stack.apiUrl, 'PUT', `/notes/${note.noteId}`, {
      token: bob.token,
      body: { title: 'mine now', content: '', tags: [] },
    });
    const del = await call(stack.apiUrl, 'DELETE', `/notes/${note.noteId}`, { token: bob.token });
    const list = await call(stack.apiUrl, 'GET', '/notes?limit=100', { token: bob.token });
    const stillThere = await call(stack.apiUrl, 'GET', `/notes/${note.noteId}`, { token: alice.token });

    expect([read.status, put.status, del.status]).toEqual([404, 404, 404]);
    expect((list.json as Page).items.map((n) => n.noteId)).not.toContain(note.noteId);
    expect(stillThere.json).toMatchObject({ title: 'private', version: 1 });
  });
});

describe('the authorizer', () => {
  const unauthorized = { message: 'Unauthorized' };

  test('a request without a token gets 401 Unauthorized from the gateway', async () => {
    const res = await call(stack.apiUrl, 'GET', '/notes');

    expect(res.status).toBe(401);
    expect(res.json).toEqual(unauthorized);
  });

  test('a malformed token gets 401', async () => {
    const res = await call(stack.apiUrl, 'GET', '/notes', { token: 'not-a-jwt' });

    expect(res.status).toBe(401);
    expect(res.json).toEqual(unauthorized);
  });

  test("a token whose payload was changed to another user's sub gets 401", async () => {
    const [h, , s] = alice.token.split('.');
    const payload = Buffer.from(JSON.stringify({ ...decodePayload(alice.token), sub: bob.sub })).toString('base64url');

    const res = await call(stack.apiUrl, 'GET', '/notes', { token: `${h}.${payload}.${s}` });

    expect(res.status).toBe(401);
  });

  test('a token signed by a foreign RSA key (same kid, issuer and audience) gets 401', async () => {
    const claims = { ...decodePayload(alice.token), sub: bob.sub };

    const res = await call(stack.apiUrl, 'POST', '/notes', {
      token: signJwt(foreignKey(), { kid: 'CognitoLocal' }, claims),
      body: { title: 'forged', content: '' },
    });

    expect(res.status).toBe(401);
    expect(res.json).toEqual(unauthorized);
  });

  test('an expired token, otherwise valid and signed by the issuer, gets 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { ...decodePayload(alice.token), iat: now - 7200, auth_time: now - 7200, exp: now - 3600 };

    const res = await call(stack.apiUrl, 'GET', '/notes', { token: signJwt(cognitoLocalKey(), { kid: 'CognitoLocal' }, claims) });

    expect(res.status).toBe(401);
  });

  test('an access token is refused: the API takes id tokens', async () => {
    const client = localCognitoClient(stack);
    const out = await client.send(
      new InitiateAuthCommand({
        ClientId: stack.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: alice.email, PASSWORD },
      }),
    );
    client.destroy();

    const res = await call(stack.apiUrl, 'GET', '/notes', { token: out.AuthenticationResult?.AccessToken });

    expect(res.status).toBe(401);
  });

  test.each([
    ['another app client as audience', { aud: 'some-other-app-client' }],
    ['another user pool as issuer', { iss: 'http://127.0.0.1:1/local_OtherPool' }],
    ['token_use access', { token_use: 'access' }],
  ])('a token signed by the issuer\'s key but with %s gets 401', async (_name, change) => {
    const claims = decodePayload(alice.token);
    const resigned = signJwt(cognitoLocalKey(), { kid: 'CognitoLocal' }, claims);

    const control = await call(stack.apiUrl, 'GET', '/notes', { token: resigned });
    const res = await call(stack.apiUrl, 'GET', '/notes', { token: signJwt(cognitoLocalKey(), { kid: 'CognitoLocal' }, { ...claims, ...change }) });

    expect(control.status).toBe(200);
    expect(res.status).toBe(401);
    expect(res.json).toEqual(unauthorized);
  });

  test('the raw token without "Bearer " is accepted, as API Gateway does', async () => {
    const res = await call(stack.apiUrl, 'GET', '/notes', { headers: { Authorization: alice.token } });

    expect(res.status).toBe(200);
  });

  test('a token from the smoke client (AdminInitiateAuth) is accepted', async () => {
    const email = uniqueEmail('smoke');
    await createSmokeUser(stack, email, PASSWORD);

    const token = await getSmokeIdToken(stack, email, PASSWORD);
    const res = await call(stack.apiUrl, 'GET', '/notes', { token });

    expect(res.status).toBe(200);
  });
});

describe('local Cognito behaves like the deployed pool', () => {
  test('the smoke client refuses USER_PASSWORD_AUTH (only admin auth is enabled on it)', async () => {
    const client = localCognitoClient(stack);

    const attempt = client.send(
      new InitiateAuthCommand({
        ClientId: stack.smokeClientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: alice.email, PASSWORD },
      }),
    );

    await expect(attempt).rejects.toMatchObject({ name: 'InvalidParameterException' });
    client.destroy();
  });

  test('a password that breaks the pool policy is refused at sign-up', async () => {
    const client: CognitoIdentityProviderClient = localCognitoClient(stack);

    const attempt = client.send(new SignUpCommand({ ClientId: stack.clientId, Username: uniqueEmail('weak'), Password: 'password' }));

    await expect(attempt).rejects.toMatchObject({ name: 'InvalidPasswordException' });
    client.destroy();
  });

  test('a wrong password is NotAuthorizedException', async () => {
    await expect(getIdToken(stack, alice.email, 'Wrong-Password-9')).rejects.toMatchObject({ name: 'NotAuthorizedException' });
  });
});

describe('gateway limits and CORS', () => {
  test('a body over the limit gets 413 in the API error shape', async () => {
    const res = await call(stack.apiUrl, 'POST', '/notes', {
      token: alice.token,
      body: { title: 'big', content: 'x'.repeat(MAX_BODY) },
    });

    expect(res.status).toBe(413);
    expect((res.json as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  test('a body of exactly the limit passes the gateway; one byte more gets 413, with CORS headers for an allowed origin', async () => {
    const bodyOfSize = (bytes: number): string => {
      const empty = JSON.stringify({ title: 'edge', content: '' });
      return JSON.stringify({ title: 'edge', content: 'x'.repeat(bytes - Buffer.byteLength(empty)) });
    };

    const atLimit = await call(stack.apiUrl, 'POST', '/notes', { token: alice.token, body: bodyOfSize(MAX_BODY) });
    const overLimit = await call(stack.apiUrl, 'POST', '/notes', {
      token: alice.token,
      headers: { Origin: ORIGIN },
      body: bodyOfSize(MAX_BODY + 1),
    });

    expect(atLimit.status).toBe(201);
    expect(overLimit.status).toBe(413);
    expect(overLimit.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  });

  test('a CORS preflight from an allowed origin is answered without a token', async () => {
    const res = await call(stack.apiUrl, 'OPTIONS', '/notes', {
      headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });

    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    const allowedHeaders = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(',');
    expect(allowedHeaders).toEqual(expect.arrayContaining(['authorization', 'content-type', 'if-match']));
  });

  test('a preflight from another origin gets no Access-Control-Allow-Origin', async () => {
    const res = await call(stack.apiUrl, 'OPTIONS', '/notes', { headers: { Origin: 'https://evil.example' } });

    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('answers to an allowed origin carry Access-Control-Allow-Origin, errors included', async () => {
    const ok = await call(stack.apiUrl, 'GET', '/notes', { token: alice.token, headers: { Origin: ORIGIN } });
    const denied = await call(stack.apiUrl, 'GET', '/notes', { headers: { Origin: ORIGIN } });

    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  });

  test('a path that matches no resource gets Missing Authentication Token from the gateway', async () => {
    const res = await call(stack.apiUrl, 'GET', '/no-such-thing', { token: alice.token });

    expect(res.status).toBe(403);
    expect(res.json).toEqual({ message: 'Missing Authentication Token' });
  });
});
