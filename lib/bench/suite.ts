/**
 * The benchmark suite behind `npm run bench`. Every figure is measured next to its floor in the
 * same run and reported as a ratio; see docs/benchmarks.md for what each floor stands for.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { notesTableCreateInput } from '../notes-table-schema';
import { createTableAndWait } from '../local/tables';
import { LOCAL_CREDENTIALS } from '../local/dynamo';
import { bundleLambda, discoverLambdas, FLOOR_ENTRY, type BundleResult } from './bundles';
import { coldInitInterleaved } from './cold-init';
import { dynaliteGet, localApiGet, sdkOneProcess, type HttpFigures } from './http-bench';
import { summarize, type Summary } from './stats';
import { freePorts } from '../reliability/child-stack';

const execFileAsync = promisify(execFile);
export const REPO_ROOT = resolve(__dirname, '..', '..');

export interface BundleFigures {
  deployed: BundleResult[];
  sdkBundled: BundleResult[];
}

export async function measureBundles(outDir: string): Promise<BundleFigures> {
  const lambdas = [FLOOR_ENTRY, ...discoverLambdas(REPO_ROOT)];
  const deployed: BundleResult[] = [];
  for (const l of lambdas) deployed.push(await bundleLambda(l, join(outDir, 'deployed')));
  const sdkBundled: BundleResult[] = [];
  for (const l of lambdas.filter((x) => x.name === 'floor' || x.name === 'notes-api')) {
    sdkBundled.push(await bundleLambda(l, join(outDir, 'sdk-bundled'), { external: [] }));
  }
  return { deployed, sdkBundled };
}

export interface ColdFigures {
  /** name -> summary of init ms, for the deployed bundles (SDK external, loaded from node_modules). */
  deployed: Map<string, Summary>;
  sdkBundled: Map<string, Summary>;
  /** Same bundles with `--enable-source-maps` (what NODE_OPTIONS turns on when set on the function). */
  sourceMaps: Map<string, Summary>;
  rssMb: Map<string, number>;
}

export async function measureColdInit(bundles: BundleFigures, runs: number): Promise<ColdFigures> {
  const toSummary = (m: Map<string, Array<{ initMs: number }>>) => new Map([...m].map(([k, v]) => [k, summarize(v.map((s) => s.initMs))]));
  const deployedRaw = await coldInitInterleaved(bundles.deployed, runs);
  const sdkRaw = await coldInitInterleaved(bundles.sdkBundled, runs);
  const mapsRaw = await coldInitInterleaved(bundles.deployed.filter((b) => b.name === 'floor' || b.name === 'notes-api'), runs, { nodeFlags: ['--enable-source-maps'] });
  const rssMb = new Map([...deployedRaw].map(([k, v]) => [k, summarize(v.map((s) => s.rssMb)).p50]));
  return { deployed: toSummary(deployedRaw), sdkBundled: toSummary(sdkRaw), sourceMaps: toSummary(mapsRaw), rssMb };
}

export type WarmFigures = Record<string, { handler: Summary; bare: Summary }>;

/** Warm per-request time of the notes-api bundle vs the bare DynamoDB call, on an in-memory dynalite. */
export async function measureWarm(notesApiBundle: string, iterations: number): Promise<{ figures: WarmFigures; logBytesPerRequest: number }> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const dir = mkdtempSync(join(tmpdir(), 'notes-bench-warm-'));
  try {
    await createTableAndWait(client, notesTableCreateInput('notes-bench'));
    const out = join(dir, 'warm.json');
    let logBytes = 0;
    const code = await new Promise<number | null>((res, rej) => {
      const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, 'warm-probe.ts')], {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...(process.env.POWERTOOLS_LOG_LEVEL ? { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL } : {}),
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          TABLE_NAME: 'notes-bench',
          DYNAMODB_ENDPOINT: endpoint,
          RELEASE_VERSION: '0.0.0-bench',
          COMMIT_SHA: 'bench',
          BENCH_BUNDLE: notesApiBundle,
          BENCH_OUT: out,
          BENCH_ITERATIONS: String(iterations),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      // The Lambda's stdout is its log stream: drained through a pipe, as the runtime does.
      child.stdout.on('data', (d: Buffer) => (logBytes += d.length));
      child.once('error', rej);
      child.once('exit', res);
    });
    if (code !== 0) throw new Error(`warm probe exited with ${code}`);
    const raw = JSON.parse(readFileSync(out, 'utf8')) as Record<string, { handler: number[]; bare: number[] }>;
    const figures: WarmFigures = {};
    let calls = 0;
    for (const [name, v] of Object.entries(raw)) {
      figures[name] = { handler: summarize(v.handler), bare: summarize(v.bare) };
      calls += v.handler.length + 20;
    }
    return { figures, logBytesPerRequest: logBytes / Math.max(1, calls + 1) };
  } finally {
    client.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ThroughputFigures {
  api: HttpFigures;
  dynalite: HttpFigures;
  sdk: HttpFigures;
  /** The SDK floor with dynalite in the same process (the local stack's shape). */
  sdkOneProcess?: HttpFigures;
  seconds: number;
  connections: number;
}

export async function measureThroughput(seconds: number, connections: number): Promise<ThroughputFigures> {
  const dyn = await dynaliteGet(seconds, connections);
  const apiFig = await localApiGet(seconds, connections);
  const oneProcess = await sdkOneProcess(seconds, connections);
  return { api: apiFig, dynalite: dyn.raw, sdk: dyn.sdk, sdkOneProcess: oneProcess, seconds, connections };
}

async function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ ms: number; ok: boolean; error?: string }> {
  const t = Date.now();
  try {
    await execFileAsync(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return { ms: Date.now() - t, ok: true };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { ms: Date.now() - t, ok: false, error: (e.stderr || e.message).split('\n').filter(Boolean).slice(-3).join(' / ') };
  }
}

export interface SynthFigures {
  /** Median of the runs (ok only when every run succeeded). */
  app: { ms: number; ok: boolean; error?: string };
  floor: { ms: number; ok: boolean; error?: string };
  /**
   * Our app with CDK's built-in template validation on (CDK_VALIDATION=true), as `npm test` and the
   * pipeline's Build synthesize it; an interactive synth (`app`) leaves it to them (bin/app.ts).
   */
  validated?: { ms: number; ok: boolean; error?: string };
  /** Every run's time, in the order measured (floor and app alternate). */
  samples?: { app: number[]; floor: number[] };
  /**
   * Median CPU time (user + system, every process of the synth, from GNU time), when
   * `/usr/bin/time` exists: on a shared machine it moves far less with the load than wall time.
   */
  cpu?: { app: number; floor: number };
}

type Timed = { ms: number; ok: boolean; error?: string; cpuMs?: number };

const GNU_TIME = '/usr/bin/time';

/** `timed`, with the CPU time of the command and its children when GNU time is there. */
async function timedWithCpu(cmd: string, args: string[]): Promise<Timed> {
  if (!existsSync(GNU_TIME)) return timed(cmd, args);
  const cpuFile = join(mkdtempSync(join(tmpdir(), 'notes-bench-cpu-')), 'cpu');
  const r: Timed = await timed(GNU_TIME, ['-o', cpuFile, '-f', '%U %S', cmd, ...args]);
  try {
    const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    if (Number.isFinite(user) && Number.isFinite(sys)) r.cpuMs = (user + sys) * 1000;
  } catch {
    // no CPU figure for this run
  }
  rmSync(dirname(cpuFile), { recursive: true, force: true });
  return r;
}

function medianOf(runs: Timed[]): Timed {
  const failed = runs.find((r) => !r.ok);
  if (failed) return failed;
  const sorted = runs.map((r) => r.ms).sort((a, b) => a - b);
  return { ms: sorted[Math.floor(sorted.length / 2)], ok: true };
}

/**
 * `cdk synth` of our app and of the empty app, alternated `runs` times (floor first), each into a
 * fresh directory; the medians are compared. Alternating keeps a change in the machine's load
 * from landing on one side only (the machine may be shared).
 */
export async function measureSynth(runs = 1): Promise<SynthFigures> {
  const hasApp = existsSync(join(REPO_ROOT, 'bin', 'app.ts'));
  const appRuns: Timed[] = [];
  const floorRuns: Timed[] = [];
  const validatedRuns: Timed[] = [];
  for (let i = 0; i < runs; i++) {
    const out1 = mkdtempSync(join(tmpdir(), 'notes-bench-synth-'));
    const out2 = mkdtempSync(join(tmpdir(), 'notes-bench-synth-floor-'));
    try {
      floorRuns.push(await timedWithCpu('npx', ['cdk', 'synth', '--quiet', '-o', out2, '--app', `npx tsx ${join('lib', 'bench', 'empty-app.ts')}`]));
      if (hasApp) {
        appRuns.push(await timedWithCpu('npx', ['cdk', 'synth', '--quiet', '-o', out1]));
        validatedRuns.push(await timedWithCpu('env', ['CDK_VALIDATION=true', 'npx', 'cdk', 'synth', '--quiet', '-o', out1]));
      }
    } finally {
      rmSync(out1, { recursive: true, force: true });
      rmSync(out2, { recursive: true, force: true });
    }
  }
  const app = hasApp ? medianOf(appRuns) : { ms: NaN, ok: false, error: 'not measured: the CDK app (bin/app.ts) does not exist yet' };
  const cpuMedian = (runs: Timed[]): number => {
    const v = runs.map((r) => r.cpuMs ?? NaN).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)] ?? NaN;
  };
  const cpu = { app: cpuMedian(appRuns), floor: cpuMedian(floorRuns) };
  return {
    app,
    floor: medianOf(floorRuns),
    ...(hasApp ? { validated: medianOf(validatedRuns) } : {}),
    samples: { app: appRuns.map((r) => r.ms), floor: floorRuns.map((r) => r.ms) },
    ...(Number.isFinite(cpu.app) && Number.isFinite(cpu.floor) ? { cpu } : {}),
  };
}

export interface StartFigures {
  /** Medians: `npm start` on a fresh data directory until it prints the API URL. */
  app: Timed;
  /** `npm exec -- tsx` of a file that prints one line. */
  floor: Timed;
  samples: { app: number[]; floor: number[] };
}

/** Runs `cmd` in its own process group until a stdout line contains `marker`, then stops the group. */
function timeUntilOutput(cmd: string, args: string[], marker: string, timeoutMs = 120_000): Promise<Timed> {
  return new Promise((res) => {
    const t = Date.now();
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let result: Timed | undefined;
    let exited = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (r: Timed): void => {
      if (result) return;
      result = r;
      clearTimeout(timer);
      const signal = (sig: NodeJS.Signals): void => {
        if (exited) return;
        try {
          process.kill(-child.pid!, sig);
        } catch {
          // already gone
        }
      };
      signal('SIGINT');
      // A stack that does not stop on Ctrl-C must not hang the bench.
      killTimer = setTimeout(() => signal('SIGKILL'), 15_000);
    };
    const timer = setTimeout(() => stop({ ms: Date.now() - t, ok: false, error: `no "${marker}" after ${timeoutMs} ms: ${out.slice(-300)}` }), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(marker)) stop({ ms: Date.now() - t, ok: true });
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', () => {
      exited = true;
      clearTimeout(killTimer);
      stop({ ms: Date.now() - t, ok: false, error: `exited before "${marker}": ${out.slice(-300)}` });
      res(result!);
    });
  });
}

/**
 * The first `npm start` (a fresh data directory: creates the table, the pool and its clients)
 * until the API URL is printed, against npm running a one-line tsx script; alternated `runs` times.
 */
export async function measureStart(runs = 3): Promise<StartFigures> {
  const appRuns: Timed[] = [];
  const floorRuns: Timed[] = [];
  for (let i = 0; i < runs; i++) {
    floorRuns.push(await timeUntilOutput('npm', ['exec', '--offline', '--', 'tsx', join('lib', 'bench', 'start-floor.ts')], 'floor ready'));
    const dataDir = mkdtempSync(join(tmpdir(), 'notes-bench-start-'));
    try {
      const [api, dynamo, cognito] = await freePorts(3);
      appRuns.push(
        await timeUntilOutput('npm', ['start', '--', '--data-dir', dataDir, '--port', String(api), '--dynamo-port', String(dynamo), '--cognito-port', String(cognito)], `http://127.0.0.1:${api}/`),
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return { app: medianOf(appRuns), floor: medianOf(floorRuns), samples: { app: appRuns.map((r) => r.ms), floor: floorRuns.map((r) => r.ms) } };
}

export interface TestTimeFigures {
  total: { ms: number; ok: boolean; error?: string };
  typecheck: { ms: number; ok: boolean };
  lint: { ms: number; ok: boolean };
  jest: { ms: number; ok: boolean };
  reliability: { ms: number; ok: boolean };
  /** Jest starting and finding no test: the fixed cost under the suite. */
  jestFloor: { ms: number; ok: boolean };
}

export async function measureTestTime(): Promise<TestTimeFigures> {
  const jestFloor = await timed('npx', ['jest', '--passWithNoTests', '--testPathPattern', 'no-such-test-file']);
  const typecheck = await timed('npx', ['tsc', '--noEmit']);
  const lint = await timed('npx', ['eslint', '.']);
  const jest = await timed('npx', ['jest', '--silent']);
  const reliability = await timed('npx', ['jest', '--silent', 'test/reliability']);
  const total = await timed('npm', ['test', '--silent']);
  return { total, typecheck, lint, jest, reliability, jestFloor };
}

export interface CpuFigures {
  /** microseconds per request, by route, logging to a pipe (as on Lambda) */
  logged: Record<string, number>;
  /** the same with POWERTOOLS_LOG_LEVEL=SILENT */
  silent: Record<string, number>;
}

async function cpuProbe(level: string, iterations: number): Promise<Record<string, number>> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, 'cpu-probe.ts')], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: level, BENCH_ITERATIONS: String(iterations) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', rej);
    child.once('exit', (code) => {
      const line = err.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) rej(new Error(`cpu probe failed (${code}): ${err.slice(-500)}`));
      else res(JSON.parse(line) as Record<string, number>);
    });
  });
}

/** The handler's own CPU per request (stub DynamoDB client), with its log line and without. */
export async function measureHandlerCpu(iterations: number): Promise<CpuFigures> {
  return { logged: await cpuProbe('INFO', iterations), silent: await cpuProbe('SILENT', iterations) };
}
