/**
 * Crash safety: the local stack runs as its own process (what `npm start` runs); a write load
 * is driven against it and the process is SIGKILLed mid-load, then started again on the same
 * data directory. Every write the client had been told about (201, 200, 204) must be there.
 * CRASH_CYCLES (default 3) kill/restart cycles; CRASH_WORKERS (default 8) concurrent writers.
 */
import { rmSync } from 'node:fs';
import { createUser, getIdToken } from '../../lib/local/users';
import { cognitoTargetOf, freePorts, spawnLocalStack, type ChildStack, type Ports } from '../../lib/reliability/child-stack';
import { keepAliveAgent } from '../../lib/reliability/http';
import { newLedger, verifyLedger, type LoadUser } from '../../lib/reliability/load';
import { recordFigure } from '../../lib/reliability/figures';
import { envInt, tempDir } from '../../lib/reliability/world';
import { startWriteLoad } from '../../lib/reliability/write-load';

jest.setTimeout(300_000);

const CYCLES = envInt('CRASH_CYCLES', 3);
const WORKERS = envInt('CRASH_WORKERS', 8);

let dataDir: string;
let ports: Ports;
let child: ChildStack | undefined;

beforeAll(async () => {
  dataDir = tempDir('crash');
  const [api, dynamo, cognito] = await freePorts(3);
  ports = { api, dynamo, cognito };
});

afterAll(async () => {
  keepAliveAgent.destroy();
  if (child && child.proc.exitCode === null && child.proc.signalCode === null) {
    child.proc.kill('SIGTERM');
    await child.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

async function login(label: string): Promise<LoadUser> {
  const target = cognitoTargetOf(dataDir, ports);
  const email = `${label}-${Date.now()}@example.com`;
  const password = 'Crash-Test-Passw0rd!';
  await createUser(target, email, password);
  return { token: await getIdToken(target, email, password) };
}

test(`after ${CYCLES} SIGKILLs in the middle of a write load every acknowledged write survives the restart`, async () => {
  // Arrange
  child = await spawnLocalStack(dataDir, ports);
  const users = [await login('crash-a'), await login('crash-b')];
  const ledger = newLedger();

  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    // Act: load, kill -9 at a different moment each cycle, start again on the same data.
    const load = startWriteLoad(child.baseUrl, users, WORKERS, ledger);
    await new Promise((r) => setTimeout(r, 300 + 450 * cycle));
    const before = ledger.created.size;
    child.proc.kill('SIGKILL');
    const exit = await child.exited;
    const { requests } = await load.done;
    console.log(`crash cycle ${cycle}: killed (${exit.signal}) after ${requests} requests so far in this cycle; ${before} acknowledged creates in total`);
    child = await spawnLocalStack(dataDir, ports);

    // Assert
    const restarted = Date.now();
    const check = await verifyLedger(child.baseUrl, users, ledger);
    recordFigure('crash', {
      cycle, killedAfterMs: 300 + 450 * cycle, requestsThisCycle: requests, ackedCreatesTotal: ledger.created.size, ackedDeletesTotal: ledger.deleted.size,
      inFlightDeletes: ledger.deleteAttempted.size - ledger.deleted.size, checkedPresent: check.checkedPresent, checkedGone: check.checkedGone,
      problems: check.problems.length, verifyMs: Date.now() - restarted,
    });
    console.log(`crash cycle ${cycle}: after restart ${check.checkedPresent} live notes and ${check.checkedGone} deletions checked, ${check.problems.length} problems`);
    expect({ cycle, problems: check.problems.slice(0, 10) }).toEqual({ cycle, problems: [] });
  }
  expect(ledger.created.size).toBeGreaterThan(0);
  expect(ledger.deleted.size).toBeGreaterThan(0);
  expect([...ledger.unexpected.keys()].filter((k) => / -> 5\d\d$/.test(k))).toEqual([]);
});
