/**
 * `npm run bench` — measures the notes service against its physical floor and prints the figures
 * as markdown. Not part of `npm test`.
 *
 *   npm run bench                      bundles, cold init, warm handler, throughput, synth, first npm start
 *   npm run bench -- --with-slow       ... and `npm test` timing
 *   npm run bench -- --write           ... and replace the figures section of docs/benchmarks.md
 *   npm run bench -- --only cold,warm  just some sections (bundles, cold, warm, http, synth, start, tests)
 *   npm run bench -- --quick           fewer samples (a smoke run of the harness)
 *   npm run bench -- --only reliability [--write]
 *                                      the reliability suite at a larger size than CI's; its
 *                                      figures go to docs/reliability.md
 */
// The AWS SDK warns on every start that its 2027 releases need Node 22 (Lambda runs 22); noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_USAGE, BenchUsageError, parseBenchArgs, type BenchSection } from '../lib/bench/args';
import { machineInfo } from '../lib/bench/machine';
import { headlineRatios, renderFigures, spliceFigures, type Figures } from '../lib/bench/report';
import { machineLine } from '../lib/bench/machine';
import { REL_BEGIN, REL_END, renderReliability } from '../lib/reliability/report';
import type { FigureLine } from '../lib/reliability/figures';
import { measureBundles, measureColdInit, measureHandlerCpu, measureStart, measureSynth, measureTestTime, measureThroughput, measureWarm, REPO_ROOT } from '../lib/bench/suite';

type Section = BenchSection;

function readOr(path: string, fallback: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : fallback;
}

function spliceBetween(doc: string, section: string, begin: string, end: string): string {
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a >= 0 && b > a) return doc.slice(0, a) + section + doc.slice(b + end.length);
  return `${doc.trimEnd()}\n\n${section}\n`;
}

/** Runs `jest test/reliability` at bench size with figure recording on, and renders the figures. */
async function runReliability(quick: boolean): Promise<string> {
  const sizes: Record<string, string> = quick
    ? { FUZZ_RUNS: '3000', LOAD_SECONDS: '5', CRASH_CYCLES: '3', FAULT_OPS: '160', CONCURRENT_WRITERS: '20', CONCURRENT_ROUNDS: '5' }
    : { FUZZ_RUNS: '20000', LOAD_SECONDS: '20', LOAD_CONNECTIONS: '32', CRASH_CYCLES: '6', CRASH_WORKERS: '16', FAULT_OPS: '600', CONCURRENT_WRITERS: '50', CONCURRENT_ROUNDS: '10' };
  const dir = mkdtempSync(join(tmpdir(), 'notes-reliability-'));
  const file = join(dir, 'figures.jsonl');
  const started = Date.now();
  const run = spawnSync('npx', ['jest', 'test/reliability', '--runInBand'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...sizes, RELIABILITY_FIGURES: file },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const wallMs = Date.now() - started;
  const lines = existsSync(file)
    ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FigureLine)
    : [];
  rmSync(dir, { recursive: true, force: true });
  const m = machineInfo();
  return renderReliability(lines, `Measured ${m.date.slice(0, 10)} on ${machineLine(m)}.`, sizes, wallMs, run.status === 0);
}

async function main(): Promise<void> {
  const values = parseBenchArgs(process.argv.slice(2));
  if (values.help) {
    console.log(BENCH_USAGE);
    return;
  }
  const only = values.only;
  const want = (s: Section) => only.includes(s);
  const quick = values.quick;
  const coldRuns = quick ? 5 : 25;
  const warmIterations = quick ? 100 : 1000;
  const httpSeconds = quick ? 3 : 10;
  const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

  const figures: Figures = { machine: machineInfo() };
  const outDir = join(REPO_ROOT, '.bench');
  rmSync(outDir, { recursive: true, force: true });

  if (want('bundles') || want('cold') || want('warm')) {
    log('bundling each Lambda and the floor with esbuild');
    figures.bundles = await measureBundles(outDir);
  }
  if (want('cold') && figures.bundles) {
    log(`cold module init, ${coldRuns} fresh processes per bundle`);
    figures.cold = await measureColdInit(figures.bundles, coldRuns);
    figures.coldRuns = coldRuns;
  }
  if (want('warm') && figures.bundles) {
    const api = figures.bundles.deployed.find((b) => b.name === 'notes-api');
    if (api) {
      log(`warm handler vs bare DynamoDB calls, ${warmIterations} pairs per route`);
      figures.warm = await measureWarm(api.file, warmIterations);
      figures.warmIterations = warmIterations;
      log('handler CPU per request with a stub DynamoDB client');
      figures.cpu = await measureHandlerCpu(quick ? 5000 : 30000);
    }
  }
  if (want('http')) {
    log(`throughput: dynalite alone, then the local API, ${httpSeconds} s each`);
    figures.throughput = await measureThroughput(httpSeconds, 10);
  }
  if (want('synth')) {
    const synthRuns = quick ? 1 : 3;
    log(`cdk synth: empty app, then ours, alternating, ${synthRuns} of each`);
    figures.synth = await measureSynth(synthRuns);
  }
  if (want('start')) {
    const startRuns = quick ? 1 : 3;
    log(`first npm start until the API URL, against npm exec of a one-line tsx script, ${startRuns} of each`);
    figures.start = await measureStart(startRuns);
  }
  if (want('tests')) {
    log('npm test and its parts (slow)');
    figures.tests = await measureTestTime();
  }
  if (!want('bundles')) figures.bundles = undefined;

  if (want('reliability')) {
    log('reliability suite at bench size (this takes a few minutes)');
    const rel = await runReliability(quick);
    console.log(rel);
    if (values.write) {
      const path = join(REPO_ROOT, 'docs', 'reliability.md');
      writeFileSync(path, spliceBetween(readOr(path, '# Reliability\n'), rel, REL_BEGIN, REL_END));
      log(`figures written to ${path}`);
    }
    if (only.length === 1) return;
  }

  const section = renderFigures(figures);
  console.log(section);
  for (const line of Object.values(headlineRatios(figures))) log(line);
  if (values.write) {
    const path = join(REPO_ROOT, 'docs', 'benchmarks.md');
    let doc = '# Benchmarks\n';
    try {
      doc = readFileSync(path, 'utf8');
    } catch {
      // first run
    }
    writeFileSync(path, spliceFigures(doc, section));
    log(`figures written to ${path}`);
  }
}

main().catch((err: unknown) => {
  if (err instanceof BenchUsageError) {
    console.error(`error: ${err.message}\n\n${BENCH_USAGE}`);
    process.exit(2);
  }
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
