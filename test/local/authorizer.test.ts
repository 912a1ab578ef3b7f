/**
 * The local authorizer caches verified tokens as API Gateway's authorizer caches its results
 * (300 s, the stack's setting), and never past a token's `exp`: what it accepts and refuses is
 * what an authorizer without a cache accepts and refuses. Real cognito-local issuer and JWKS;
 * tokens signed with cognito-local's own key so that their times can be chosen.
 */
import { JwtVerifier } from 'aws-jwt-verify';
import { AUTHORIZER_CACHE_MAX_TOKENS, AUTHORIZER_CACHE_TTL_MS, createLocalAuthorizer, type LocalAuthorizer } from '../../lib/local/authorizer';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { createUser, getIdToken } from '../../lib/local/users';
import { cognitoLocalKey, decodePayload, PASSWORD, signJwt, tempDataDir, uniqueEmail } from './support';

let stack: LocalStack;
let data: ReturnType<typeof tempDataDir>;
let claims: Record<string, unknown>;
let authorizer: LocalAuthorizer;

beforeAll(async () => {
  data = tempDataDir('authorizer');
  stack = await startLocalStack({ dataDir: data.dir, handler: async () => ({ statusCode: 200, body: '' }) });
  const email = uniqueEmail('authz');
  await createUser(stack, email, PASSWORD);
  claims = decodePayload(await getIdToken(stack, email, PASSWORD));
});

afterAll(async () => {
  await stack?.stop();
  data?.remove();
});

beforeEach(() => {
  authorizer = createLocalAuthorizer({ issuer: stack.issuer, clientIds: [stack.clientId, stack.smokeClientId] });
});

afterEach(() => jest.restoreAllMocks());

/** A token the local issuer would sign, expiring `expiresInS` seconds after `at` (ms). */
function tokenExpiring(at: number, expiresInS: number, extra: Record<string, unknown> = {}): { token: string; exp: number } {
  const iat = Math.floor(at / 1000);
  const exp = iat + expiresInS;
  return { token: signJwt(cognitoLocalKey(), { kid: 'CognitoLocal' }, { ...claims, iat, auth_time: iat, exp, ...extra }), exp };
}

const header = (token: string) => `Bearer ${token}`;

test('a token accepted once is accepted again with the same claims', async () => {
  const { token } = tokenExpiring(Date.now(), 3600);

  const first = await authorizer.authorize(header(token));
  const second = await authorizer.authorize(header(token));

  expect(first).toMatchObject({ sub: claims.sub, token_use: 'id' });
  expect(second).toEqual(first);
});

test('a cached token is refused from the moment it expires, as without a cache', async () => {
  const start = Date.now();
  const { token, exp } = tokenExpiring(start, 60);
  expect(await authorizer.authorize(header(token))).toBeDefined();

  jest.spyOn(Date, 'now').mockReturnValue(exp * 1000 + 1000);

  expect(await authorizer.authorize(header(token))).toBeUndefined();
});

test('a token still valid after the 300 s cache lifetime is verified again, and accepted', async () => {
  const start = Date.now();
  const { token } = tokenExpiring(start, 3600);
  const verify = jest.spyOn(JwtVerifier.prototype, 'verify');
  await authorizer.authorize(header(token));

  jest.spyOn(Date, 'now').mockReturnValue(start + AUTHORIZER_CACHE_TTL_MS - 1000);
  await authorizer.authorize(header(token));
  const withinTtl = verify.mock.calls.length;
  jest.spyOn(Date, 'now').mockReturnValue(start + AUTHORIZER_CACHE_TTL_MS + 1000);
  const after = await authorizer.authorize(header(token));

  expect(withinTtl).toBe(1);
  expect(verify).toHaveBeenCalledTimes(2);
  expect(after).toMatchObject({ sub: claims.sub });
});

test('a token with a forged signature is refused although the genuine one is cached', async () => {
  const { token } = tokenExpiring(Date.now(), 3600);
  expect(await authorizer.authorize(header(token))).toBeDefined();
  const [head, payload, signature] = token.split('.');
  const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;

  expect(await authorizer.authorize(header(`${head}.${payload}.${flipped}`))).toBeUndefined();
});

test('a cached token\'s signature on another payload is refused', async () => {
  const { token } = tokenExpiring(Date.now(), 3600);
  expect(await authorizer.authorize(header(token))).toBeDefined();
  const [head, , signature] = token.split('.');
  const otherPayload = Buffer.from(JSON.stringify({ ...decodePayload(token), sub: 'someone-else' })).toString('base64url');

  expect(await authorizer.authorize(header(`${head}.${otherPayload}.${signature}`))).toBeUndefined();
});

test('a refused token is refused every time (failures are not cached)', async () => {
  const start = Date.now();
  const { token } = tokenExpiring(start, 3600, { nbf: Math.floor(start / 1000) + 600 });

  const early = await authorizer.authorize(header(token));
  jest.spyOn(Date, 'now').mockReturnValue(start + 700_000);
  const later = await authorizer.authorize(header(token));

  expect(early).toBeUndefined();
  expect(later).toMatchObject({ sub: claims.sub });
});

test('the cache holds a bounded number of tokens: the oldest is verified again', async () => {
  const start = Date.now();
  const tokens = Array.from({ length: AUTHORIZER_CACHE_MAX_TOKENS + 1 }, (_, i) => tokenExpiring(start, 3600 + i).token);
  for (const t of tokens) await authorizer.authorize(header(t));
  const verify = jest.spyOn(JwtVerifier.prototype, 'verify');

  await authorizer.authorize(header(tokens[tokens.length - 1]));
  await authorizer.authorize(header(tokens[0]));

  expect(verify).toHaveBeenCalledTimes(1);
});
