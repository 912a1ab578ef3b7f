/**
 * A deliberately low-level HTTP client for the reliability suite. `fetch` normalises paths
 * (`/notes/../health` becomes `/health`) and refuses some headers; hostile-input tests need the
 * bytes on the wire to be exactly what the generator produced, so this uses `node:http` directly.
 */
import { Agent, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface RawRequest {
  method: string;
  /** Sent verbatim as the request target (already percent-encoded where needed). */
  path: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export const keepAliveAgent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Sends one request to `baseUrl` (`http://host:port`) and reads the whole response. */
export function send(baseUrl: string, req: RawRequest, timeoutMs = 30_000): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = { ...req.headers };
    if (req.body !== undefined && headers['content-length'] === undefined) {
      headers['content-length'] = Buffer.byteLength(req.body);
    }
    const r = request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers,
        agent: keepAliveAgent,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`request timed out after ${timeoutMs} ms: ${req.method} ${req.path}`)));
    r.on('error', reject);
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

/** Parses a JSON body, or returns `undefined` when it is not JSON. */
export function tryJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** Convenience for well-formed JSON calls with a bearer token (setup and verification steps). */
export async function api(
  baseUrl: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  extraHeaders: OutgoingHttpHeaders = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; json: unknown; body: string }> {
  const headers: OutgoingHttpHeaders = { ...extraHeaders };
  if (token) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await send(baseUrl, { method, path, headers, body: payload });
  return { status: res.status, headers: res.headers, json: tryJson(res.body), body: res.body };
}
