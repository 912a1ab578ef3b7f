/**
 * Jest setup file of the first test phase (`jest.config.js` setupFilesAfterEnv): records every AWS
 * SDK command any test makes the code send, mocked (aws-sdk-client-mock) or real (dynalite), with
 * the component that sent it, and writes them to `.iam-calls/<test file>.json` when the file ends.
 * The IAM contract phase (`jest.iam.config.js`) reads them: the calls come from the code.
 *
 * The component is found from the call stack: the innermost frame in `lambda/<name>/`,
 * `lib/release/scripts/<name>.ts`, `lib/cli/` or `lib/restore/`. Shared runtime modules
 * (`lib/release/ledger.ts`, `job.ts`, ...) are looked through; a call with no component frame was
 * made by the test itself (seeding dynalite, say) and is not recorded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { componentOfFile, RecordedCall, RECORDED_INPUT_KEYS, RECORDINGS_DIR, UNATTRIBUTED } from './recorded';

const ROOT = join(__dirname, '..', '..', '..');

Error.stackTraceLimit = Math.max(Error.stackTraceLimit, 80);

interface Pending {
  client: string;
  command: string;
  input: Record<string, unknown>;
  env: Record<string, string>;
  files: string[];
}

const calls = new Map<string, RecordedCall>();

function filesOfStack(error: Error): string[] {
  const previous = Error.prepareStackTrace;
  let sites: NodeJS.CallSite[] | string | undefined;
  try {
    Error.prepareStackTrace = (_e, cs) => cs;
    sites = error.stack as unknown as NodeJS.CallSite[] | string;
  } finally {
    Error.prepareStackTrace = previous;
  }
  if (Array.isArray(sites)) return sites.map((s) => s.getFileName() ?? '').filter(Boolean);
  // Already formatted (someone read the stack first): take the paths out of the text.
  return String(sites ?? '')
    .split('\n')
    .map((line) => /\(?((?:\/|[A-Za-z]:\\)[^:()]+):\d+:\d+\)?$/.exec(line)?.[1] ?? '')
    .filter(Boolean);
}

function pick(input: unknown): { input: Record<string, unknown>; env: Record<string, string> } {
  const out: Record<string, unknown> = {};
  const env: Record<string, string> = {};
  const source = (input ?? {}) as Record<string, unknown>;
  for (const key of RECORDED_INPUT_KEYS) {
    const v = source[key];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = typeof v === 'string' ? v.slice(0, 300) : v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[key] = v.slice(0, 20);
  }
  // Which of the values came from the component's environment (LEDGER_TABLE=...): the contract
  // replaces them with the value the template gives that variable.
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'string' || v.length < 3) continue;
    const name = Object.keys(process.env).find((e) => /^[A-Z][A-Z0-9_]+$/.test(e) && !/^(AWS_|NODE_|npm_|JEST|PATH$|HOME$|PWD$|USER$)/.test(e) && process.env[e] === v);
    if (name) env[k] = name;
  }
  return { input: out, env };
}

function record(p: Pending): void {
  const rel = p.files.map((f) => relative(ROOT, f).split(sep).join('/'));
  let component: string | undefined;
  for (const f of rel) {
    component = componentOfFile(f);
    if (component) break;
  }
  if (!component) {
    const repo = rel.filter((f) => !f.startsWith('..') && !f.startsWith('node:') && !f.startsWith('node_modules/') && f.includes('/'));
    // The test's own call (seeding dynalite, say), or local tooling (npm start, reliability, bench).
    if (repo.length === 0 || repo.some((f) => f.startsWith('test/')) || /^(lib\/(local|reliability|bench)\/|bin\/)/.test(repo[0])) return;
    // Runtime code whose caller the stack lost (an async chain broken by a callback): recorded so
    // the contract fails instead of letting the call escape.
    component = UNATTRIBUTED;
  }
  const key = JSON.stringify([component, p.client, p.command, p.input, p.env]);
  const existing = calls.get(key);
  if (existing) existing.count++;
  else {
    const from = component === UNATTRIBUTED ? rel.find((f) => !f.startsWith('..') && !f.startsWith('node_modules/') && f.includes('/')) : rel.find((f) => componentOfFile(f) === component);
    calls.set(key, { component, client: p.client, command: p.command, input: p.input, env: p.env, count: 1, from: from ?? '' });
  }
}

function nameOf(x: unknown): string {
  return (x as { constructor?: { name?: string } } | undefined)?.constructor?.name ?? 'Unknown';
}

// --- real sends (dynalite, local endpoints) ---------------------------------------------------
// eslint-disable-next-line @typescript-eslint/no-require-imports
const smithy = require('@smithy/smithy-client') as { Client: { prototype: { send: (...args: unknown[]) => unknown } } };
const realSend = smithy.Client.prototype.send;
smithy.Client.prototype.send = function recordedSend(this: unknown, ...args: unknown[]) {
  const command = args[0] as { input?: unknown };
  const { input, env } = pick(command?.input);
  record({ client: nameOf(this), command: nameOf(command), input, env, files: filesOfStack(new Error()) });
  return realSend.apply(this, args);
};

// --- mocked sends (aws-sdk-client-mock keeps sinon's record of each call, stack included) --------
interface SinonCall {
  args: unknown[];
  thisValue: unknown;
  errorWithCallStack?: Error;
}
interface Stub {
  send: { getCalls(): SinonCall[] };
  reset(): unknown;
  resetHistory(): unknown;
  restore(): unknown;
}
const stubs = new Set<Stub>();
const seen = new WeakSet<SinonCall>();

function flush(stub: Stub): void {
  for (const call of stub.send.getCalls()) {
    if (seen.has(call)) continue;
    seen.add(call);
    const command = call.args[0] as { input?: unknown };
    const { input, env } = pick(command?.input);
    record({ client: nameOf(call.thisValue), command: nameOf(command), input, env, files: call.errorWithCallStack ? filesOfStack(call.errorWithCallStack) : [] });
  }
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mockModule = require('aws-sdk-client-mock/dist/cjs/mockClient') as { mockClient: (...args: unknown[]) => Stub };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const stubModule = require('aws-sdk-client-mock/dist/cjs/awsClientStub') as { AwsStub: { prototype: Stub } };
const originalMockClient = mockModule.mockClient;
mockModule.mockClient = (...args: unknown[]) => {
  const stub = originalMockClient(...args);
  stubs.add(stub);
  return stub;
};
for (const method of ['reset', 'resetHistory', 'restore'] as const) {
  const original = stubModule.AwsStub.prototype[method];
  stubModule.AwsStub.prototype[method] = function flushed(this: Stub) {
    flush(this);
    return original.call(this);
  };
}

afterAll(() => {
  for (const stub of stubs) flush(stub);
  const testFile = relative(ROOT, expect.getState().testPath ?? 'unknown').split(sep).join('/');
  mkdirSync(join(ROOT, RECORDINGS_DIR), { recursive: true });
  writeFileSync(join(ROOT, RECORDINGS_DIR, `${testFile.replace(/[/\\]/g, '__')}.json`), JSON.stringify({ testFile, calls: [...calls.values()] }, null, 1));
});
