/**
 * The local API Gateway in front of an injected handler: the event the handler receives is the
 * REST proxy event API Gateway would send, and a broken handler gets API Gateway's answers.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { request } from 'node:http';
import { connect } from 'node:net';
import { startLocalStack, type LocalStack, type NotesHandler } from '../../lib/local/stack';
import { createUser, getIdToken } from '../../lib/local/users';
import { call, decodePayload, PASSWORD, tempDataDir, uniqueEmail } from './support';

let stack: LocalStack;
let data: ReturnType<typeof tempDataDir>;
let token: string;
let sub: string;
let received: APIGatewayProxyEvent | undefined;
let behaviour: 'echo' | 'throw' | 'garbage' | 'hang' = 'echo';

const handler: NotesHandler = async (event) => {
  received = event;
  if (behaviour === 'throw') throw new Error('boom');
  if (behaviour === 'garbage') return { not: 'a proxy result' } as unknown as { statusCode: number; body: string };
  if (behaviour === 'hang') return new Promise<never>(() => undefined);
  return { statusCode: 200, headers: { 'Content-Type': 'application/json', 'X-Echo': 'yes' }, body: JSON.stringify({ body: event.body }) };
};

beforeAll(async () => {
  data = tempDataDir('gateway');
  stack = await startLocalStack({ dataDir: data.dir, handler });
  const email = uniqueEmail('gw');
  ({ sub } = await createUser(stack, email, PASSWORD));
  token = await getIdToken(stack, email, PASSWORD);
});

afterAll(async () => {
  await stack?.stop();
  data?.remove();
});

beforeEach(() => {
  behaviour = 'echo';
  received = undefined;
});

afterEach(() => {
  jest.useRealTimers();
});

/** Sends a body in two chunks split inside a multi-byte character. */
function sendSplitBody(path: string, parts: Buffer[]): Promise<{ status: number; body: string }> {
  const url = new URL(path, stack.apiUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { Authorization: token, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.write(parts[0]);
    setTimeout(() => req.end(parts[1]), 20);
  });
}

test('the handler receives the REST proxy event: resource, path parameters, multi-value query, claims as strings, stage', async () => {
  const res = await call(stack.apiUrl, 'GET', '/notes/01ABCX?limit=2&tag=a&tag=b', { token, headers: { 'X-Custom': 'v1' } });

  expect(res.status).toBe(200);
  expect(received).toBeDefined();
  const e = received as APIGatewayProxyEvent;
  expect(e.resource).toBe('/notes/{id}');
  expect(e.path).toBe('/notes/01ABCX');
  expect(e.httpMethod).toBe('GET');
  expect(e.pathParameters).toEqual({ id: '01ABCX' });
  expect(e.queryStringParameters).toEqual({ limit: '2', tag: 'b' });
  expect(e.multiValueQueryStringParameters).toEqual({ limit: ['2'], tag: ['a', 'b'] });
  expect(e.headers['X-Custom'] ?? e.headers['x-custom']).toBe('v1');
  expect(e.isBase64Encoded).toBe(false);
  expect(e.body).toBeNull();
  expect(e.requestContext.stage).toBe('local');
  expect(e.requestContext.resourcePath).toBe('/notes/{id}');
  expect(e.requestContext.identity.sourceIp).toBe('127.0.0.1');
  expect(e.requestContext.requestId).toBe(res.headers.get('x-amzn-requestid'));
  const claims = e.requestContext.authorizer?.claims as Record<string, unknown>;
  expect(claims.sub).toBe(sub);
  expect(claims.token_use).toBe('id');
  expect(claims.aud).toBe(stack.clientId);
  expect(Object.values(claims).every((v) => typeof v === 'string')).toBe(true);
});

test('exp and iat reach the handler as API Gateway renders them: UTC date text for the token\'s times', async () => {
  const asGatewayDate = (epochSeconds: number): string => {
    const [day, date, month, year, time] = new Date(epochSeconds * 1000).toUTCString().replace(',', '').split(' '); // Tue 24 Nov 2026 09:56:22 GMT
    return `${day} ${month} ${date} ${time} UTC ${year}`;
  };
  const { exp, iat } = decodePayload(token) as { exp: number; iat: number };

  await call(stack.apiUrl, 'GET', '/notes', { token });

  const claims = received?.requestContext.authorizer?.claims as Record<string, string>;
  expect(claims.exp).toBe(asGatewayDate(exp));
  expect(claims.iat).toBe(asGatewayDate(iat));
});

test('a repeated header reaches the handler with every value in multiValueHeaders and the last one in headers', async () => {
  const url = new URL('notes', stack.apiUrl);
  await new Promise<void>((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'GET', headers: { Authorization: token, 'X-Repeated': ['first', 'second'] } },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end();
  });

  expect(received?.multiValueHeaders['X-Repeated']).toEqual(['first', 'second']);
  expect(received?.headers['X-Repeated']).toBe('second');
});

test('GET /health reaches the handler without a token and without claims', async () => {
  const res = await call(stack.apiUrl, 'GET', '/health');

  expect(res.status).toBe(200);
  expect(received?.resource).toBe('/health');
  expect(received?.pathParameters).toBeNull();
  expect(received?.queryStringParameters).toBeNull();
  expect(received?.requestContext.authorizer).toBeNull();
});

test('a body split inside a multi-byte character arrives intact', async () => {
  const text = JSON.stringify({ title: 'ünïcødé ✓ 😀' });
  const bytes = Buffer.from(text, 'utf8');
  const cut = bytes.indexOf(Buffer.from('😀')) + 2;

  const res = await sendSplitBody('/notes', [bytes.subarray(0, cut), bytes.subarray(cut)]);

  expect(res.status).toBe(200);
  expect(received?.body).toBe(text);
});

test('the handler\'s status, headers and body are passed back unchanged', async () => {
  const res = await call(stack.apiUrl, 'POST', '/notes', { token, body: { a: 1 } });

  expect(res.headers.get('x-echo')).toBe('yes');
  expect(res.json).toEqual({ body: '{"a":1}' });
});

test('a handler that throws gets 502 Internal server error, as from API Gateway', async () => {
  behaviour = 'throw';

  const res = await call(stack.apiUrl, 'GET', '/notes', { token });

  expect(res.status).toBe(502);
  expect(res.json).toEqual({ message: 'Internal server error' });
});

test('a handler that returns something other than a proxy result gets 502', async () => {
  behaviour = 'garbage';

  const res = await call(stack.apiUrl, 'GET', '/notes', { token });

  expect(res.status).toBe(502);
});

test('a handler that has not answered after API Gateway\'s 29 s integration timeout gets 504', async () => {
  // Arrange: the handler never answers; only the gateway's timers are faked, sockets stay real.
  behaviour = 'hang';
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance', 'Date'] });
  try {
    const pending = call(stack.apiUrl, 'GET', '/notes', { token });
    while (received === undefined) await new Promise((r) => setImmediate(r));

    // Act
    jest.advanceTimersByTime(29_000);
    const res = await pending;

    // Assert
    expect(res.status).toBe(504);
    expect(res.json).toEqual({ message: 'Endpoint request timed out' });
  } finally {
    jest.useRealTimers();
  }
});

test('a body over maxBodyBytes is refused by the gateway with 413 in the API error shape, before the handler sees it', async () => {
  const res = await call(stack.apiUrl, 'POST', '/notes', { token, body: 'x'.repeat(262_144 + 1), headers: { 'Content-Type': 'text/plain' } });

  expect(res.status).toBe(413);
  expect(res.json).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE', details: { maxBytes: 262_144 } } });
  expect(received).toBeUndefined();
});

test('the handler is not called when the authorizer refuses the request', async () => {
  const res = await call(stack.apiUrl, 'DELETE', '/notes/x', { token: 'garbage' });

  expect(res.status).toBe(401);
  expect(received).toBeUndefined();
});

/** Writes raw bytes to the API port and returns everything the server sends back. */
function rawExchange(bytes: string): Promise<string> {
  const url = new URL(stack.apiUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}

test.each([
  ['an unknown method', 'BREW /notes HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['a malformed request line', 'GET /notes HTTP/9\r\n\r\n'],
  ['a header without a colon', 'GET /health HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n'],
])('a request Node cannot parse (%s) gets a JSON 400 that says why, and never reaches the handler', async (_name, bytes) => {
  // Act
  const answer = await rawExchange(bytes);

  // Assert
  const [head, body] = answer.split('\r\n\r\n');
  expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request/);
  expect(head).toMatch(/content-type: application\/json/i);
  expect(JSON.parse(body)).toEqual({ message: expect.stringMatching(/^Bad Request: the HTTP request could not be parsed \(HPE_[A-Z_]+\)$/) });
  expect(received).toBeUndefined();
});

test('a request whose headers are larger than Node accepts gets a JSON 431 and never reaches the handler', async () => {
  const answer = await rawExchange(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);

  const [head, body] = answer.split('\r\n\r\n');
  expect(head).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large/);
  expect(JSON.parse(body)).toEqual({ message: expect.stringContaining('(HPE_HEADER_OVERFLOW)') });
  expect(received).toBeUndefined();
});
