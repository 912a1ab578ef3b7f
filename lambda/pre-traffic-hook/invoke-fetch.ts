/**
 * A `fetch` that reaches one Lambda VERSION directly instead of the network: each request becomes
 * the API Gateway (REST, proxy) event the notes API would receive through the live stage, sent with
 * `lambda:InvokeFunction` and a Qualifier, and the function's proxy result becomes the Response.
 * The smoke checks (`lambda/smoke-test/checks.ts`) run unchanged on top of it.
 *
 * There is no gateway in between, so this fetch plays the Cognito authorizer's part: the token in
 * `Authorization` is one the hook made itself (`syntheticIdToken`), and its claims become the
 * event's `requestContext.authorizer.claims`, as API Gateway would put a verified token's claims.
 */
import { randomUUID } from 'node:crypto';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** The base URL the checks are pointed at; never resolved, only parsed. */
export const DIRECT_BASE_URL = 'https://direct-invoke.invalid/';

export interface InvokeTarget {
  lambda: LambdaClient;
  functionName: string;
  /** The version to invoke (a number as Lambda publishes it), never the alias. */
  qualifier: string;
}

/** A function error (uncaught exception, timeout, init failure) of the invoked version. */
export class FunctionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FunctionError';
  }
}

/** An unsigned JWT carrying `claims`: only this fetch reads it, never a gateway. */
export function syntheticIdToken(claims: Record<string, string>): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ ...claims, token_use: 'id' })}.unsigned`;
}

function claimsOf(token: string | undefined): Record<string, string> | undefined {
  if (!token) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    if (typeof payload !== 'object' || payload === null) return undefined;
    return Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, String(v)]));
  } catch {
    return undefined;
  }
}

/** `/notes/abc` -> resource `/notes/{id}` with its path parameter, as the REST API's resources declare. */
function resourceOf(path: string): { resource: string; pathParameters: Record<string, string> | null } {
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 2 && parts[0] === 'notes') return { resource: '/notes/{id}', pathParameters: { id: decodeURIComponent(parts[1]) } };
  return { resource: `/${parts.join('/')}`, pathParameters: null };
}

function headersOf(init: RequestInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init?.headers).forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

/** The proxy event API Gateway would send for this request. */
export function proxyEvent(url: URL, init: RequestInit | undefined): APIGatewayProxyEvent {
  const method = (init?.method ?? 'GET').toUpperCase();
  const headers = headersOf(init);
  const claims = claimsOf(headers.authorization);
  const { resource, pathParameters } = resourceOf(url.pathname);
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    single[key] = value;
    (multi[key] ??= []).push(value);
  }
  const hasQuery = url.searchParams.size > 0;
  const requestId = randomUUID();
  return {
    resource,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: hasQuery ? single : null,
    multiValueQueryStringParameters: hasQuery ? multi : null,
    pathParameters,
    stageVariables: null,
    body: typeof init?.body === 'string' ? init.body : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'direct-invoke',
      apiId: 'direct-invoke',
      authorizer: claims ? { claims } : null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: {
        accessKey: null, accountId: null, apiKey: null, apiKeyId: null, caller: null, clientCert: null,
        cognitoAuthenticationProvider: null, cognitoAuthenticationType: null, cognitoIdentityId: null,
        cognitoIdentityPoolId: null, principalOrgId: null, sourceIp: '127.0.0.1', user: null,
        userAgent: 'notes-pre-traffic-hook', userArn: null,
      },
      path: url.pathname,
      stage: 'direct-invoke',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'direct-invoke',
      resourcePath: resource,
    },
  };
}

/** Statuses a Response may not carry a body with. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/** The `fetch` the smoke checks use to reach `target` directly. */
export function invokeFetch(target: InvokeTarget): typeof fetch {
  const doFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const event = proxyEvent(url, init);
    const signal = init?.signal ?? undefined;
    const sending = target.lambda.send(
      new InvokeCommand({
        FunctionName: target.functionName,
        Qualifier: target.qualifier,
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(JSON.stringify(event)),
      }),
      { abortSignal: signal },
    );
    // Settles on abort even when the call itself does not (the checks' timeouts rely on it).
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new Error('aborted'));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
    sending.catch(() => undefined);
    let out: Awaited<typeof sending>;
    try {
      out = await Promise.race([sending, aborted]);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    if (out.FunctionError) {
      let message = text;
      try {
        const e = JSON.parse(text) as { errorType?: string; errorMessage?: string };
        message = `${e.errorType ?? 'Error'}: ${e.errorMessage ?? ''}`;
      } catch {
        // Not JSON: quote as is.
      }
      throw new FunctionError(`version ${target.qualifier} failed (${out.FunctionError}): ${message.slice(0, 300)}`);
    }
    let result: { statusCode?: unknown; headers?: unknown; body?: unknown };
    try {
      result = JSON.parse(text) as typeof result;
    } catch {
      throw new FunctionError(`version ${target.qualifier} returned no JSON proxy result: ${text.slice(0, 300)}`);
    }
    const status = typeof result.statusCode === 'number' ? result.statusCode : NaN;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new FunctionError(`version ${target.qualifier} returned no valid statusCode: ${text.slice(0, 300)}`);
    }
    const headers = new Headers();
    if (typeof result.headers === 'object' && result.headers !== null) {
      for (const [k, v] of Object.entries(result.headers)) headers.set(k, String(v));
    }
    const body = NULL_BODY.has(status) ? null : typeof result.body === 'string' ? result.body : '';
    return new Response(body, { status, headers });
  };
  return doFetch as typeof fetch;
}
