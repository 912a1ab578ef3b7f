/**
 * Hostile input, over real HTTP against the local mode: whatever arrives, the API never answers
 * 5xx, always answers errors in the documented shape, and never shows or changes another user's
 * notes. FUZZ_RUNS (default 3000) is the total number of generated requests; FUZZ_SEED replays a run.
 */
import fc from 'fast-check';
import type { FuzzWorld } from '../../lib/reliability/arbitraries';
import { describeFailure, formatStats, newStats, properties, RUN_SHARE, victimDamage, type PropertyName } from '../../lib/reliability/fuzz';
import { recordFigure } from '../../lib/reliability/figures';
import { createFuzzWorld, envInt, startTempStack, type TempStack } from '../../lib/reliability/world';

const TOTAL_RUNS = envInt('FUZZ_RUNS', 3000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

// The handler logs one JSON line per request; thousands would bury the test output.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
jest.setTimeout(240_000);

let t: TempStack;
let world: FuzzWorld;

beforeAll(async () => {
  t = await startTempStack('fuzz');
  world = await createFuzzWorld(t);
});

afterAll(async () => {
  await t?.dispose();
});

async function fuzz(name: PropertyName): Promise<void> {
  const stats = newStats();
  const numRuns = Math.max(1, Math.round(TOTAL_RUNS * RUN_SHARE[name]));
  const details = await fc.check(properties(world, stats)[name], { numRuns, seed: SEED, endOnFailure: false });
  console.log(`${formatStats(name, stats)} (seed ${details.seed})`);
  recordFigure('hostile-input', { property: name, runs: stats.runs, bad: stats.failures.length, seed: details.seed, byStatus: Object.fromEntries(stats.byStatus) });
  const firstFew = stats.failures.slice(0, 5).map(describeFailure).join('\n');
  expect(stats.failures.length === 0 ? 'no bad answers' : `${stats.failures.length} bad answers (seed ${details.seed}):\n${firstFew}`).toBe('no bad answers');
}

describe('the API under hostile input', () => {
  test('answers any request from anyone with a non-5xx, well-shaped response that reveals none of another user\'s notes', async () => {
    await fuzz('any-request');
  });

  test('rejects malformed, wrong-typed, oversized and smuggled note bodies without a 5xx', async () => {
    await fuzz('hostile-writes');
  });

  test('refuses forged, tampered, expired and garbage credentials on every protected route', async () => {
    await fuzz('forged-credentials');
  });

  test('stores notes with emoji, combining marks, right-to-left and control characters and reads them back unchanged', async () => {
    await fuzz('unicode-round-trip');
  });

  test("leaves the victim's notes exactly as they were after all of the above", async () => {
    const damage = await victimDamage(world);
    recordFigure('hostile-input', { property: 'victim-intact', victimNotes: world.victim.notes.length, damage: damage.length });
    expect(damage).toEqual([]);
  });
});
