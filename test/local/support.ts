/** Helpers for the local-mode tests: temp data dirs, JSON over HTTP, JWT forging with node:crypto. */
import { createSign, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The handler's Powertools logger would print a JSON line per request; the tests need only warnings.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export function tempDataDir(label: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `notes-local-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** One HTTP request to the local API (`apiUrl` ends with `/`), body as JSON when it is an object. */
export async function call(
  apiUrl: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.Authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(new URL(path.replace(/^\//, ''), apiUrl), { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function uniqueEmail(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}@example.com`;
}

export const PASSWORD = 'Local-Test-Pass-1';

const b64url = (v: string | Buffer): string => Buffer.from(v).toString('base64url');

export function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Signs an RS256 JWT with the given key (header `kid` as given). */
export function signJwt(key: KeyObject | string, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', ...header }))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${b64url(createSign('RSA-SHA256').update(input).sign(key))}`;
}

/** A fresh RSA key nobody trusts. */
export function foreignKey(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

/** cognito-local's signing key (it ships with the package): signs tokens the local issuer would sign. */
export function cognitoLocalKey(): string {
  const file = require.resolve('cognito-local/lib/keys/cognitoLocal.private.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { pem: string }).pem;
}
