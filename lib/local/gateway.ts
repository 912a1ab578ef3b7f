/**
 * The local API Gateway: a node:http server that does what the deployed REST API does in front
 * of the notes Lambda.
 *
 * - Routes by resource (`/health`, `/notes`, `/notes/{id}`); a path that matches no resource is
 *   answered by the gateway itself with `{"message":"Missing Authentication Token"}`, as API Gateway
 *   does, and never reaches the handler.
 * - Plays the Cognito authorizer on every `/notes` resource (see `authorizer.ts`): 401
 *   `{"message":"Unauthorized"}` without calling the handler.
 * - Enforces the body size limit (413 in the API's own error shape) and CORS: the preflight is
 *   answered by the gateway, the gateway's own error answers carry CORS headers for allowed
 *   origins, and the handler adds its own to its answers (it gets the same origin list).
 * - Turns the request into the REST proxy event (`APIGatewayProxyEvent`) and the handler's
 *   result back into an HTTP response; a handler that throws or returns garbage gives 502
 *   `{"message":"Internal server error"}`, one that takes longer than API Gateway's 29 s gives 504.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { PayloadTooLargeError, toErrorResponse } from '../../lambda/notes-api/errors';
import type { NotesHandler } from '../../lambda/notes-api/app';
import type { Claims, LocalAuthorizer } from './authorizer';

/** The notes API handler's signature (REST proxy event in, proxy result out): the real one's. */
export type { NotesHandler };

export const LOCAL_STAGE = 'local';
export const LOCAL_FUNCTION_NAME = 'notes-local-api';
/** API Gateway's maximum integration timeout. */
export const INTEGRATION_TIMEOUT_MS = 29_000;

/**
 * What API Gateway answers for a path that matches no resource. The real default is 403 with
 * this message (gateway response MISSING_AUTHENTICATION_TOKEN); see the decision log.
 */
export const UNKNOWN_ROUTE_STATUS = 403;

interface ResourceDef {
  /** API Gateway resource path, e.g. `/notes/{id}`. */
  resource: string;
  /** Methods the API declares on this resource (used for CORS preflight answers). */
  methods: string[];
  /** Whether the Cognito authorizer guards the resource. */
  auth: boolean;
}

export const RESOURCES: readonly ResourceDef[] = [
  { resource: '/health', methods: ['GET'], auth: false },
  { resource: '/notes', methods: ['GET', 'POST'], auth: true },
  { resource: '/notes/{id}', methods: ['GET', 'PUT', 'DELETE'], auth: true },
];

export interface RouteMatch {
  def: ResourceDef;
  pathParameters: Record<string, string> | null;
}

/** Matches a request path against the resources; one trailing slash and repeated slashes are forgiven. */
export function matchResource(path: string): RouteMatch | undefined {
  const segments = path.split('/').filter((s) => s.length > 0);
  for (const def of RESOURCES) {
    const pattern = def.resource.split('/').filter((s) => s.length > 0);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length; i++) {
      const p = pattern[i];
      if (p.startsWith('{') && p.endsWith('}')) params[p.slice(1, -1)] = safeDecode(segments[i]);
      else if (p !== segments[i]) ok = false;
    }
    if (ok) return { def, pathParameters: Object.keys(params).length > 0 ? params : null };
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export interface GatewayOptions {
  handler: () => NotesHandler;
  authorizer: () => LocalAuthorizer;
  maxBodyBytes: number;
  corsAllowOrigins: readonly string[];
  log: (line: string) => void;
  /** Account id shown in `requestContext` (local placeholder). */
  accountId?: string;
}

const CORS_ALLOW_HEADERS = 'Content-Type,Authorization,If-Match,X-Amz-Date,X-Api-Key,X-Amz-Security-Token';
const CORS_EXPOSE_HEADERS = 'ETag, Location, Retry-After, X-Request-Id';

type Headers = Record<string, string>;

function send(res: ServerResponse, status: number, headers: Headers, body: string | Buffer): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function gatewayError(res: ServerResponse, status: number, message: string, errorType: string, extra: Headers): void {
  send(res, status, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': errorType, ...extra }, JSON.stringify({ message }));
}

/** Reads the body into one Buffer (multi-byte characters never split), or stops at `limit`. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      resolve('too-large');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

function splitHeaders(rawHeaders: string[]): { headers: Headers; multi: Record<string, string[]> } {
  const headers: Headers = {};
  const multi: Record<string, string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    const value = rawHeaders[i + 1];
    headers[name] = value;
    (multi[name] ??= []).push(value);
  }
  return { headers, multi };
}

function splitQuery(search: string): { single: Headers | null; multi: Record<string, string[]> | null } {
  const params = new URLSearchParams(search);
  const single: Headers = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of params) {
    single[k] = v;
    (multi[k] ??= []).push(v);
  }
  return Object.keys(single).length === 0 ? { single: null, multi: null } : { single, multi };
}

function sourceIp(req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? '127.0.0.1';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function requestTime(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

export interface ProxyEventInput {
  method: string;
  path: string;
  search: string;
  rawHeaders: string[];
  body: Buffer;
  match: RouteMatch;
  claims: Claims | undefined;
  requestId: string;
  sourceIp: string;
  userAgent: string | null;
  host: string;
  now: Date;
  accountId: string;
}

/** The REST proxy event API Gateway would send the Lambda for this request. */
export function toProxyEvent(input: ProxyEventInput): APIGatewayProxyEvent {
  const { headers, multi } = splitHeaders(input.rawHeaders);
  const query = splitQuery(input.search);
  return {
    resource: input.match.def.resource,
    path: input.path,
    httpMethod: input.method,
    headers,
    multiValueHeaders: multi,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters: input.match.pathParameters,
    stageVariables: null,
    // Without binary media types API Gateway hands the body over as text.
    body: input.body.length > 0 ? input.body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: input.accountId,
      apiId: 'local',
      authorizer: input.claims ? { claims: input.claims } : null,
      domainName: input.host,
      domainPrefix: input.host.split('.')[0].split(':')[0],
      extendedRequestId: input.requestId,
      httpMethod: input.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: input.sourceIp,
        user: null,
        userAgent: input.userAgent,
        userArn: null,
      },
      path: `/${LOCAL_STAGE}${input.path}`,
      protocol: 'HTTP/1.1',
      requestId: input.requestId,
      requestTime: requestTime(input.now),
      requestTimeEpoch: input.now.getTime(),
      resourceId: 'local',
      resourcePath: input.match.def.resource,
      stage: LOCAL_STAGE,
    },
  };
}

function lambdaContext(requestId: string, deadline: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: LOCAL_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${LOCAL_FUNCTION_NAME}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${LOCAL_FUNCTION_NAME}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function isProxyResult(value: unknown): value is APIGatewayProxyResult {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return Number.isInteger(r.statusCode) && (r.body === undefined || r.body === null || typeof r.body === 'string');
}

/**
 * Answers a request Node's HTTP parser refused before any listener saw it (an unknown method, a
 * malformed request line or header) with a JSON 400 that says why, instead of Node's bare 400.
 * Register it as the server's `clientError` listener.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const reason = status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  const body = JSON.stringify({ message: `${reason}: the HTTP request could not be parsed (${err.code ?? 'unknown error'})` });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Creates the request listener for the local API server. */
export function createGatewayListener(opts: GatewayOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const allowed = new Set(opts.corsAllowOrigins);
  const accountId = opts.accountId ?? '000000000000';

  // CORS headers on the gateway's own answers (preflight, 401, 403, 413, 5xx). Answers from the
  // handler carry the handler's CORS headers, as with a Lambda proxy integration.
  const corsHeaders = (req: IncomingMessage): Headers => {
    const origin = req.headers.origin;
    if (!origin || !(allowed.has(origin) || allowed.has('*'))) return {};
    return {
      'Access-Control-Allow-Origin': allowed.has(origin) ? origin : '*',
      'Access-Control-Expose-Headers': CORS_EXPOSE_HEADERS,
      Vary: 'Origin',
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const requestId = randomUUID();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://local');
    const cors = corsHeaders(req);
    const base: Headers = { 'x-amzn-RequestId': requestId, ...cors };
    const logLine = (status: number): void =>
      opts.log(`${method} ${url.pathname} -> ${status} (${Date.now() - started} ms) ${requestId}`);

    const match = matchResource(url.pathname);
    if (!match) {
      req.resume();
      gatewayError(res, UNKNOWN_ROUTE_STATUS, 'Missing Authentication Token', 'MissingAuthenticationTokenException', base);
      logLine(UNKNOWN_ROUTE_STATUS);
      return;
    }

    if (method === 'OPTIONS') {
      // CORS preflight: answered by the gateway (mock integration), no authorizer.
      req.resume();
      const preflight: Headers =
        'Access-Control-Allow-Origin' in base
          ? {
              'Access-Control-Allow-Methods': [...match.def.methods, 'OPTIONS'].join(','),
              'Access-Control-Allow-Headers': CORS_ALLOW_HEADERS,
              'Access-Control-Max-Age': '600',
            }
          : {};
      send(res, 204, { ...base, ...preflight }, '');
      logLine(204);
      return;
    }

    let claims: Claims | undefined;
    if (match.def.auth) {
      claims = await opts.authorizer().authorize(req.headers.authorization);
      if (!claims) {
        req.resume();
        gatewayError(res, 401, 'Unauthorized', 'UnauthorizedException', base);
        logLine(401);
        return;
      }
    }

    const body = await readBody(req, opts.maxBodyBytes);
    if (body === 'too-large') {
      req.resume();
      const mapped = toErrorResponse(new PayloadTooLargeError(opts.maxBodyBytes), requestId);
      send(res, 413, { ...base, 'Content-Type': 'application/json', Connection: 'close', ...mapped.headers }, JSON.stringify(mapped.body));
      logLine(413);
      return;
    }

    const event = toProxyEvent({
      method,
      path: url.pathname,
      search: url.search,
      rawHeaders: req.rawHeaders,
      body,
      match,
      claims,
      requestId,
      sourceIp: sourceIp(req),
      userAgent: req.headers['user-agent'] ?? null,
      host: req.headers.host ?? 'localhost',
      now: new Date(started),
      accountId,
    });

    let result: unknown;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), INTEGRATION_TIMEOUT_MS);
      });
      result = await Promise.race([opts.handler()(event, lambdaContext(requestId, started + INTEGRATION_TIMEOUT_MS)), timeout]);
    } catch (err) {
      opts.log(`handler failed for ${requestId}: ${err instanceof Error ? err.message : String(err)}`);
      result = undefined;
    } finally {
      clearTimeout(timer);
    }

    if (result === 'timeout') {
      gatewayError(res, 504, 'Endpoint request timed out', 'IntegrationTimeout', base);
      logLine(504);
      return;
    }
    if (!isProxyResult(result)) {
      // API Gateway's answer to a Lambda error or a malformed proxy response.
      gatewayError(res, 502, 'Internal server error', 'InternalServerErrorException', base);
      logLine(502);
      return;
    }

    const headers: Record<string, string | string[]> = { 'x-amzn-RequestId': requestId };
    for (const [k, v] of Object.entries(result.headers ?? {})) if (v !== undefined && v !== null) headers[k] = String(v);
    for (const [k, vs] of Object.entries(result.multiValueHeaders ?? {})) if (Array.isArray(vs)) headers[k] = vs.map(String);
    const payload = result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
    if (!res.headersSent) {
      res.writeHead(result.statusCode, { ...headers, 'Content-Length': payload.length });
      res.end(payload);
    }
    logLine(result.statusCode);
  };

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.log(`local gateway error: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) gatewayError(res, 500, 'Internal server error', 'InternalServerErrorException', {});
      else res.destroy();
    });
  };
}
