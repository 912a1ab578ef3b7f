/**
 * Load: many connections of mixed CRUD against the local mode for a fixed time; afterwards every
 * acknowledged write is exactly where the client was told it is. Throughput and latency are
 * printed, never asserted. LOAD_SECONDS (default 5) and LOAD_CONNECTIONS (default 16) size it.
 */
import { keepAliveAgent } from '../../lib/reliability/http';
import { formatLoadSummary, runMixedLoad, verifyLedger } from '../../lib/reliability/load';
import { recordFigure } from '../../lib/reliability/figures';
import { envInt, newUser, startTempStack, type TempStack, type TestUser } from '../../lib/reliability/world';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
jest.setTimeout(180_000);

const SECONDS = envInt('LOAD_SECONDS', 5);
const CONNECTIONS = envInt('LOAD_CONNECTIONS', 16);

let t: TempStack;
let users: TestUser[];

beforeAll(async () => {
  t = await startTempStack('load');
  users = await Promise.all([newUser(t.stack, 'load-a'), newUser(t.stack, 'load-b'), newUser(t.stack, 'load-c')]);
});

afterAll(async () => {
  keepAliveAgent.destroy();
  await t?.dispose();
});

test('under mixed CRUD load every acknowledged create is readable and every acknowledged delete is gone', async () => {
  // Act
  const { ledger, summary } = await runMixedLoad({ apiUrl: t.baseUrl, users, connections: CONNECTIONS, durationSec: SECONDS });
  console.log(`load: ${formatLoadSummary(summary)}`);
  const check = await verifyLedger(t.baseUrl, users, ledger);
  console.log(`load: read back ${check.checkedPresent} live notes and ${check.checkedGone} deleted ones`);
  recordFigure('load', { ...summary, checkedPresent: check.checkedPresent, checkedGone: check.checkedGone, problems: check.problems.length, unexpected: Object.fromEntries(ledger.unexpected) });

  // Assert
  expect(summary.creates).toBeGreaterThan(0);
  expect(summary.deletes).toBeGreaterThan(0);
  expect(Object.keys(summary.statusCounts).filter((s) => Number(s) >= 500)).toEqual([]);
  expect(Object.fromEntries(ledger.unexpected)).toEqual({});
  expect(check.problems).toEqual([]);
});
