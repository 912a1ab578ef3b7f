/** FAILED ledger entries on dynalite: written once, shown in history, never taken for a release. */
import { ReleaseLedger } from '../../lib/release/ledger';
import { captureIo, resetMocks } from '../cli/support';
import { runCli } from '../../lib/cli/main';
import { repoConfig } from '../infra/fixture';
import { waitForActive } from '../support/active';
import { RunningDynalite, startDynalite } from '../support/dynalite';
import { failedAttemptRecord, newLedger, releaseRecord } from '../support/ledger';

let db: RunningDynalite;
let ledger: ReleaseLedger;
let table: string;

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.stop();
});
beforeEach(async () => {
  resetMocks();
  ({ ledger, tableName: table } = await newLedger(db));
  await waitForActive(db.client, table);
});

describe('failed attempts in the ledger', () => {
  test('the first write records the attempt; a redelivered write with other content changes nothing', async () => {
    const first = failedAttemptRecord('1.1.0', '2026-11-02T10:00:00.000Z', { pipelineExecutionId: 'exec-f1' });

    const outcomes = [
      await ledger.recordFailedAttempt(first),
      await ledger.recordFailedAttempt({ ...first, failureMessage: 'something else', recordedAt: '2026-11-02T11:00:00.000Z' }),
    ];

    expect(outcomes).toEqual(['recorded', 'already recorded']);
    expect(await ledger.listFailedAttempts()).toEqual([first]);
  });

  test('history interleaves them by detection time; the version prod runs is still the last release', async () => {
    await ledger.recordRelease(releaseRecord('1.0.0', '2026-11-01T10:00:00.000Z'));
    await ledger.recordFailedAttempt(failedAttemptRecord('1.1.0', '2026-11-02T10:00:00.000Z'));
    await ledger.recordRelease(releaseRecord('1.1.1', '2026-11-03T10:00:00.000Z'));
    await ledger.recordFailedAttempt(failedAttemptRecord('1.2.0', '2026-11-04T10:00:00.000Z', { rollback: null }));

    const history = await ledger.history();

    expect(history.map((e) => `${e.kind} ${e.kind === 'ROLLBACK' ? e.fromVersion : e.version}`)).toEqual(['FAILED 1.2.0', 'RELEASE 1.1.1', 'FAILED 1.1.0', 'RELEASE 1.0.0']);
    expect(await ledger.currentVersion()).toBe('1.1.1');
  });

  test('release history shows the failed action, its message, and how the stage rollback ended', async () => {
    await ledger.recordRelease(releaseRecord('1.0.0', '2026-11-01T10:00:00.000Z'));
    await ledger.recordFailedAttempt(failedAttemptRecord('1.1.0', '2026-11-02T10:00:00.000Z', { pipelineExecutionId: 'exec-f1' }));
    await ledger.recordFailedAttempt(failedAttemptRecord('1.2.0', '2026-11-04T10:00:00.000Z', { pipelineExecutionId: 'exec-f2', rollback: null }));
    const io = captureIo();

    const code = await runCli(['history'], io, { config: repoConfig(), env: { NOTES_LEDGER_TABLE: table }, documentClient: db.documentClient });

    expect(code).toBe(0);
    expect(io.stdout[0]).toBe(
      '2026-11-04T10:00:00.000Z  FAILED    v1.2.0  commit 120fffffffee  notes-release/exec-f2  Prod/SmokeTest: smoke: 10/11 checks passed; GET /notes/{id} answered 500  (no stage rollback)',
    );
    expect(io.stdout[1]).toBe(
      '2026-11-02T10:00:00.000Z  FAILED    v1.1.0  commit 110fffffffee  notes-release/exec-f1  Prod/SmokeTest: smoke: 10/11 checks passed; GET /notes/{id} answered 500  (stage rollback SUCCEEDED at 2026-11-02T10:10:00.000Z)',
    );
    expect(io.stdout[2]).toContain('RELEASE   v1.0.0');
  });

  test('a multi-line message stays on its entry\'s line; an attempt whose build never said its version says so', async () => {
    await ledger.recordFailedAttempt(
      failedAttemptRecord('1.1.0', '2026-11-02T10:00:00.000Z', { version: 'unknown', commit: 'unknown', failureMessage: 'deploy failed:\n  UPDATE_ROLLBACK_COMPLETE\n' }),
    );
    const io = captureIo();

    await runCli(['history'], io, { config: repoConfig(), env: { NOTES_LEDGER_TABLE: table }, documentClient: db.documentClient });

    expect(io.stdout).toHaveLength(1);
    expect(io.stdout[0]).toContain('FAILED    version unknown  commit unknown  notes-release/');
    expect(io.stdout[0]).toContain('Prod/SmokeTest: deploy failed: UPDATE_ROLLBACK_COMPLETE  (stage rollback SUCCEEDED');
  });

  test('history --json carries the failed entries with their fields', async () => {
    await ledger.recordFailedAttempt(failedAttemptRecord('1.1.0', '2026-11-02T10:00:00.000Z', { pipelineExecutionId: 'exec-f1' }));
    const io = captureIo();

    await runCli(['history', '--json'], io, { config: repoConfig(), env: { NOTES_LEDGER_TABLE: table }, documentClient: db.documentClient });

    const { entries } = JSON.parse(io.stdout.join('\n'));
    expect(entries).toEqual([{ kind: 'FAILED', ...failedAttemptRecord('1.1.0', '2026-11-02T10:00:00.000Z', { pipelineExecutionId: 'exec-f1' }) }]);
  });
});
