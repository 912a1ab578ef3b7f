/**
 * `npm run fuzz -- --runs N [--seed S] [--property any-request|hostile-writes|forged-credentials]`
 *
 * Starts the local mode on free ports over a temporary data directory, creates a victim and an
 * attacker, and sends N generated hostile requests (split over the properties as in CI), then
 * checks the victim's notes. Prints a summary per property and the first bad answers; exits 1 if
 * any answer was a 5xx, badly shaped, or leaked or changed the victim's notes.
 */
// The AWS SDK warns on every start that its 2027 releases need Node 22 (Lambda runs 22); noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import fc from 'fast-check';
import { describeFailure, formatStats, newStats, properties, RUN_SHARE, victimDamage, type PropertyName } from '../lib/reliability/fuzz';
import { FUZZ_USAGE, FuzzUsageError, parseFuzzArgs } from '../lib/reliability/fuzz-args';
import { keepAliveAgent } from '../lib/reliability/http';
import { createFuzzWorld, startTempStack } from '../lib/reliability/world';

async function main(): Promise<number> {
  // The handler logs one JSON line per request; thousands of them would bury the summary.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const known = Object.keys(RUN_SHARE);
  const args = parseFuzzArgs(process.argv.slice(2), known);
  if (args.help) {
    console.log(FUZZ_USAGE(known));
    return 0;
  }
  const runs = args.runs;
  const seed = args.seed ?? Date.now() ^ (Math.random() * 0x100000000);
  const names = args.properties as PropertyName[];
  const shareSum = names.reduce((s, n) => s + RUN_SHARE[n], 0);

  const t = await startTempStack('fuzz');
  let bad = 0;
  try {
    const world = await createFuzzWorld(t);
    console.log(`fuzzing ${t.baseUrl} with ${runs} requests, seed ${seed}`);
    for (const name of names) {
      const stats = newStats();
      const numRuns = Math.max(1, Math.round((runs * RUN_SHARE[name]) / shareSum));
      const started = Date.now();
      await fc.check(properties(world, stats)[name], { numRuns, seed, endOnFailure: false });
      const secs = (Date.now() - started) / 1000;
      console.log(`${formatStats(name, stats)} in ${secs.toFixed(1)} s (${(stats.runs / secs).toFixed(0)} req/s)`);
      for (const f of stats.failures.slice(0, 10)) console.log(`  ${describeFailure(f)}`);
      bad += stats.failures.length;
    }
    const damage = await victimDamage(world);
    console.log(damage.length === 0 ? "victim's notes: intact" : `victim's notes DAMAGED:\n  ${damage.join('\n  ')}`);
    bad += damage.length;
  } finally {
    keepAliveAgent.destroy();
    await t.dispose();
  }
  console.log(bad === 0 ? 'fuzz: OK' : `fuzz: ${bad} problems (replay with --seed=${seed})`);
  return bad === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof FuzzUsageError) {
      console.error(`error: ${err.message}\n\n${FUZZ_USAGE(Object.keys(RUN_SHARE))}`);
      process.exit(2);
    }
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
