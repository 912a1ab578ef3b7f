import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';

/** What a route returns; `app.ts` turns it into an API Gateway proxy result. */
export interface Reply {
  statusCode: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export const DEFAULT_MAX_BODY_BYTES = 262_144;

/** Headers every response carries: JSON, never cached (personal data), no MIME sniffing. */
const BASE_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

export function toResult(reply: Reply): APIGatewayProxyResult {
  const headers: Record<string, string> = { ...BASE_HEADERS, ...reply.headers };
  if (reply.body === undefined) return { statusCode: reply.statusCode, headers, body: '' };
  headers['Content-Type'] = 'application/json; charset=utf-8';
  return { statusCode: reply.statusCode, headers, body: JSON.stringify(reply.body) };
}

/**
 * A request header, case-insensitively. API Gateway REST passes header names as the client sent
 * them; when a header is repeated, the single-value map holds the last one.
 */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && typeof value === 'string') return value;
  }
  for (const [key, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (key.toLowerCase() === wanted && Array.isArray(values) && values.length > 0) return values[values.length - 1];
  }
  return undefined;
}

/** `application/json` with an optional utf-8 charset (any other parameters are ignored). */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const [type, ...params] = value.split(';');
  if (type.trim().toLowerCase() !== 'application/json') return false;
  for (const param of params) {
    const [k, v = ''] = param.split('=');
    if (k.trim().toLowerCase() === 'charset' && !/^"?utf-?8"?$/i.test(v.trim())) return false;
  }
  return true;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The JSON body of a request, checked in this order: size (413), media type (415), presence (400),
 * encoding (400), syntax (400). Shape checks are the route's job (zod).
 */
export function readJsonBody(event: APIGatewayProxyEvent, maxBytes: number): unknown {
  const raw = typeof event.body === 'string' ? event.body : '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : undefined;
  const size = bytes ? bytes.length : Buffer.byteLength(raw, 'utf8');
  if (size > maxBytes) throw new PayloadTooLargeError(maxBytes);

  const contentType = header(event, 'content-type');
  if (!isJsonContentType(contentType)) throw new UnsupportedMediaTypeError(contentType);

  let text = raw;
  if (bytes) {
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new BadRequestError('INVALID_ENCODING', 'The request body is not valid UTF-8');
    }
  }
  if (text.trim().length === 0) throw new BadRequestError('BODY_REQUIRED', 'A JSON body is required');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequestError('MALFORMED_JSON', 'The request body is not valid JSON');
  }
}

/**
 * CORS for browsers: API Gateway answers preflight (OPTIONS); actual responses need the
 * allow-origin header, which is only sent back when the request's Origin is on the list.
 * `*` on the list allows any origin (fine for a bearer-token API without cookies).
 */
export function corsHeaders(origin: string | undefined, allowOrigins: readonly string[]): Record<string, string> {
  if (allowOrigins.length === 0) return {};
  const headers: Record<string, string> = { Vary: 'Origin' };
  if (origin !== undefined && (allowOrigins.includes(origin) || allowOrigins.includes('*'))) {
    headers['Access-Control-Allow-Origin'] = allowOrigins.includes(origin) ? origin : '*';
    headers['Access-Control-Expose-Headers'] = 'ETag, Location, Retry-After, X-Request-Id';
  }
  return headers;
}
