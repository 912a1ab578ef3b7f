/**
 * `npm run fuzz` arguments: parsed strictly, so a mistyped flag prints the usage and exits 2
 * (as the release CLI does) instead of a raw TypeError.
 */
import { parseArgs } from 'node:util';

export const FUZZ_USAGE = (properties: readonly string[]): string => `Usage: npm run fuzz -- [--runs N] [--seed S] [--property NAME ...]

Starts the local mode on free ports over a temporary data directory, sends N generated hostile
requests, then checks the victim's notes.

Options:
  --runs N         how many requests in all, split over the properties as in CI (default 5000)
  --seed S         fast-check seed, an integer (default: random; a failing run prints its seed)
  --property NAME  only this property; repeat for several. One of: ${properties.join(', ')}
  -h, --help       this text

Exit codes: 0 no problem found, 1 a bad answer or damaged notes, 2 usage.`;

export interface FuzzArgs {
  help: boolean;
  runs: number;
  seed?: number;
  properties: string[];
}

export class FuzzUsageError extends Error {}

export function parseFuzzArgs(argv: string[], known: readonly string[]): FuzzArgs {
  let values: { runs?: string; seed?: string; property?: string[]; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        runs: { type: 'string', default: '5000' },
        seed: { type: 'string' },
        property: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new FuzzUsageError((err as Error).message.split('\n')[0]);
  }
  const help = values.help === true;
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new FuzzUsageError(`--runs must be a positive integer (got "${values.runs}").`);
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isSafeInteger(seed)) throw new FuzzUsageError(`--seed must be an integer (got "${values.seed}").`);
  }
  const properties = values.property?.length ? values.property : [...known];
  const unknown = properties.filter((p) => !known.includes(p));
  if (unknown.length > 0) throw new FuzzUsageError(`unknown property ${unknown.join(', ')}; one of ${known.join(', ')}.`);
  return { help, runs, seed, properties };
}
