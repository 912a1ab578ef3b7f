/**
 * `npm run bench` arguments: parsed strictly, so a mistyped flag prints the usage and exits 2
 * (as the release CLI does) instead of a raw TypeError or a silently ignored flag.
 */
import { parseArgs } from 'node:util';

export const BENCH_SECTIONS = ['bundles', 'cold', 'warm', 'http', 'synth', 'start', 'tests', 'reliability'] as const;
export type BenchSection = (typeof BENCH_SECTIONS)[number];

export const BENCH_USAGE = `Usage: npm run bench -- [--only SECTION,...] [--quick] [--with-slow] [--write]

Measures the notes service against its physical floor and prints the figures as markdown.
Not part of npm test; run it on an otherwise idle machine.

Options:
  --only LIST   run just these sections, comma-separated (default: all but tests and reliability):
                  bundles      esbuild bundle size of each Lambda and of the floor handler
                  cold         cold module init of each bundle, in fresh processes
                  warm         warm handler time per route against the bare DynamoDB call
                  http         throughput: dynalite alone, then the local API
                  synth        cdk synth of an empty CDK app, then of ours (alternating runs, medians)
                  start        the first npm start until the API URL, against npm running a one-line script
                  tests        npm test and its parts (slow)
                  reliability  the reliability suite at a larger size than CI's (minutes)
  --quick       fewer samples: a smoke run of the harness, not figures to quote
  --with-slow   also run the tests section (and reliability) when --only is not given
  --write       replace the figures section of docs/benchmarks.md (reliability: docs/reliability.md)
  -h, --help    this text

Exit codes: 0 ok, 1 a measurement failed, 2 usage.`;

export interface BenchArgs {
  help: boolean;
  quick: boolean;
  write: boolean;
  withSlow: boolean;
  only: BenchSection[];
}

/** A command line that is not what the usage says; the message is one line. */
export class BenchUsageError extends Error {}

export function parseBenchArgs(argv: string[]): BenchArgs {
  let values: { 'with-slow'?: boolean; write?: boolean; quick?: boolean; only?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'with-slow': { type: 'boolean', default: false },
        write: { type: 'boolean', default: false },
        quick: { type: 'boolean', default: false },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new BenchUsageError((err as Error).message.split('\n')[0]);
  }
  const withSlow = values['with-slow'] === true;
  let only: BenchSection[];
  if (values.only !== undefined) {
    const names = values.only.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = names.filter((s) => !(BENCH_SECTIONS as readonly string[]).includes(s));
    if (names.length === 0 || unknown.length > 0) {
      throw new BenchUsageError(`--only takes sections from ${BENCH_SECTIONS.join(', ')} (got "${values.only}").`);
    }
    only = names as BenchSection[];
  } else {
    only = BENCH_SECTIONS.filter((s) => (s !== 'tests' && s !== 'reliability') || withSlow);
  }
  return { help: values.help === true, quick: values.quick === true, write: values.write === true, withSlow, only };
}
