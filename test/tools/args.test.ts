/**
 * `npm run bench` and `npm run fuzz` as a user runs them with a mistyped flag: the usage and exit
 * code 2, as the release CLI does, never a raw TypeError; `--help` explains every flag.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { BENCH_SECTIONS, BENCH_USAGE, parseBenchArgs } from '../../lib/bench/args';
import { parseFuzzArgs } from '../../lib/reliability/fuzz-args';

const root = resolve(__dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const run = promisify(execFile);

async function script(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(tsx, [file, ...args], { cwd: root, env: process.env });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe.each([
  ['bench', 'bin/bench.ts', 'Usage: npm run bench'],
  ['fuzz', 'bin/fuzz.ts', 'Usage: npm run fuzz'],
])('npm run %s', (_name, file, usageLine) => {
  test('--bogus prints one error line and the usage, and exits 2 without a stack trace', async () => {
    const res = await script(file, ['--bogus']);

    expect(res.code).toBe(2);
    expect(res.stderr.split('\n')[0]).toMatch(/^error: Unknown option '--bogus'/);
    expect(res.stderr).toContain(usageLine);
    expect(res.stderr).not.toMatch(/TypeError|^\s+at /m);
  });

  test('--help prints the usage and exits 0', async () => {
    const res = await script(file, ['--help']);

    expect(res.code).toBe(0);
    expect(res.stdout).toContain(usageLine);
    expect(res.stdout).toContain('Exit codes:');
  });
});

describe('bench arguments', () => {
  test('--help explains every flag and every section', () => {
    for (const flag of ['--only', '--quick', '--with-slow', '--write', '--help']) expect(BENCH_USAGE).toContain(flag);
    for (const section of BENCH_SECTIONS) expect(BENCH_USAGE).toMatch(new RegExp(`^ +${section} +\\S`, 'm'));
  });

  test('no flags: every section but tests and reliability; --with-slow adds them', () => {
    expect(parseBenchArgs([]).only).toEqual(['bundles', 'cold', 'warm', 'http', 'synth', 'start']);
    expect(parseBenchArgs(['--with-slow']).only).toEqual([...BENCH_SECTIONS]);
  });

  test('--only picks sections and refuses an unknown one, naming the valid ones', () => {
    expect(parseBenchArgs(['--only', 'cold,warm']).only).toEqual(['cold', 'warm']);
    expect(() => parseBenchArgs(['--only', 'cold,speed'])).toThrow('--only takes sections from bundles, cold, warm, http, synth, start, tests, reliability (got "cold,speed").');
  });

  test('a positional argument is a usage error', () => {
    expect(() => parseBenchArgs(['synth'])).toThrow(/Unexpected argument 'synth'/);
  });
});

describe('fuzz arguments', () => {
  const known = ['any-request', 'hostile-writes'];

  test('defaults: 5000 runs, a random seed, every property', () => {
    expect(parseFuzzArgs([], known)).toEqual({ help: false, runs: 5000, seed: undefined, properties: known });
  });

  test.each([
    [['--runs', 'ten'], '--runs must be a positive integer (got "ten").'],
    [['--runs', '0'], '--runs must be a positive integer (got "0").'],
    [['--seed', '1.5'], '--seed must be an integer (got "1.5").'],
    [['--property', 'nope'], 'unknown property nope; one of any-request, hostile-writes.'],
  ])('%j is refused: %s', (args, message) => {
    expect(() => parseFuzzArgs(args, known)).toThrow(message);
  });
});
