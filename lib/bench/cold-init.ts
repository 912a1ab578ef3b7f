/**
 * Cold module-init time: each sample is a fresh `node` process that `require`s the bundle, the
 * way the Lambda runtime loads a handler module during the init phase. The process measures its
 * own require time, so process start-up (the same for every bundle) is not in the figure.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const PROBE = `
const t0 = process.hrtime.bigint();
const mod = require(process.env.BENCH_BUNDLE);
const t1 = process.hrtime.bigint();
if (typeof mod.handler !== 'function') throw new Error('bundle exports no handler');
process.stdout.write(JSON.stringify({ initMs: Number(t1 - t0) / 1e6, rssMb: process.memoryUsage().rss / 1048576 }));
`;

export interface ColdInitSample {
  initMs: number;
  rssMb: number;
}

export interface ColdInitOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra `node` flags, e.g. `--enable-source-maps` when the function sets it in NODE_OPTIONS. */
  nodeFlags?: string[];
  cwd?: string;
}

export async function coldInitOnce(bundleFile: string, opts: ColdInitOptions = {}): Promise<ColdInitSample> {
  const { stdout } = await execFileAsync(process.execPath, [...(opts.nodeFlags ?? []), '-e', PROBE], {
    cwd: opts.cwd,
    env: {
      PATH: process.env.PATH,
      // Lambda's Node 22 does not print the SDK's "needs Node 22" warning; keep it out of the figure.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      TABLE_NAME: 'notes-bench',
      RELEASE_VERSION: '0.0.0-bench',
      COMMIT_SHA: 'bench',
      ...opts.env,
      BENCH_BUNDLE: bundleFile,
    },
  });
  return JSON.parse(stdout) as ColdInitSample;
}

/**
 * Interleaves the bundles (a, b, c, a, b, c, ...) so that machine noise lands on all of them
 * alike, after one discarded warm-up round that fills the OS file cache.
 */
export async function coldInitInterleaved(
  bundles: Array<{ name: string; file: string }>,
  runs: number,
  opts: ColdInitOptions = {},
): Promise<Map<string, ColdInitSample[]>> {
  const samples = new Map<string, ColdInitSample[]>(bundles.map((b) => [b.name, []]));
  for (const b of bundles) await coldInitOnce(b.file, opts);
  for (let i = 0; i < runs; i++) {
    for (const b of bundles) samples.get(b.name)!.push(await coldInitOnce(b.file, opts));
  }
  return samples;
}
