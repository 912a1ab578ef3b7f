import { PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  compareVersions,
  normalizeVersion,
  ReleaseAlreadyRecordedError,
  ReleaseRecord,
} from '../../lib/release/ledger';
import { startDynalite } from '../support/dynalite';
import { newLedger as createLedger, releaseRecord, rollbackRecord } from '../support/ledger';

type Dynalite = Awaited<ReturnType<typeof startDynalite>>;

let db: Dynalite;

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db?.stop();
});

const newLedger = () => createLedger(db);
const release = (version: string, releasedAt: string, pipelineExecutionId = `exec-${version}`): ReleaseRecord =>
  releaseRecord(version, releasedAt, { pipelineExecutionId });
const rollback = rollbackRecord;
const COMMIT_1_0_0 = releaseRecord('1.0.0', '').commit;

describe('release ledger', () => {
  it('reads back a recorded release by version, with or without the v prefix', async () => {
    const { ledger } = await newLedger();
    await ledger.recordRelease(release('1.0.0', '2026-11-01T10:00:00.000Z'));

    const byPlain = await ledger.getRelease('1.0.0');
    const byTag = await ledger.getRelease('v1.0.0');

    expect(byPlain).toMatchObject({ version: '1.0.0', commit: COMMIT_1_0_0, artifact: { key: 'releases/v1.0.0/cloud-assembly.zip' } });
    expect(byTag).toEqual(byPlain);
  });

  it('refuses a second, different record for a version that is already released', async () => {
    const { ledger } = await newLedger();
    await ledger.recordRelease(release('1.0.0', '2026-11-01T10:00:00.000Z', 'exec-a'));

    const second = ledger.recordRelease({ ...release('1.0.0', '2026-11-02T10:00:00.000Z', 'exec-b'), commit: 'other' });

    await expect(second).rejects.toThrow(ReleaseAlreadyRecordedError);
    await expect(second).rejects.toThrow(/1\.0\.0 is already released \(execution exec-a/);
    expect((await ledger.getRelease('1.0.0'))?.commit).toBe(COMMIT_1_0_0);
  });

  it('accepts a retried write from the same pipeline execution without changing the record', async () => {
    const { ledger } = await newLedger();
    await ledger.recordRelease(release('1.0.0', '2026-11-01T10:00:00.000Z', 'exec-a'));

    await ledger.recordRelease(release('1.0.0', '2026-11-01T10:00:00.000Z', 'exec-a'));

    expect(await ledger.listReleases()).toHaveLength(1);
  });

  it('lists history newest first across releases and rollbacks', async () => {
    const { ledger } = await newLedger();
    await ledger.recordRelease(release('1.0.0', '2026-11-01T10:00:00.000Z'));
    await ledger.recordRelease(release('1.1.0', '2026-11-03T10:00:00.000Z'));
    await ledger.recordRollback(rollback('1.1.0', '1.0.0', '2026-11-03T12:00:00.000Z'));
    await ledger.recordRelease(release('1.1.1', '2026-11-04T10:00:00.000Z'));

    const history = await ledger.history();
    const limited = await ledger.history(2);

    expect(history.map((e) => (e.kind === 'RELEASE' ? `R ${e.version}` : e.kind === 'ROLLBACK' ? `B ${e.fromVersion}->${e.toVersion}` : `F ${e.version}`))).toEqual([
      'R 1.1.1',
      'B 1.1.0->1.0.0',
      'R 1.1.0',
      'R 1.0.0',
    ]);
    expect(limited).toHaveLength(2);
  });

  it('reports the version prod runs: the newest release, or the target of a later successful rollback', async () => {
    const { ledger } = await newLedger();
    expect(await ledger.currentVersion()).toBeUndefined();

    await ledger.recordRelease(release('1.0.0', '2026-11-01T10:00:00.000Z'));
    await ledger.recordRelease(release('1.1.0', '2026-11-03T10:00:00.000Z'));
    expect(await ledger.currentVersion()).toBe('1.1.0');

    await ledger.recordRollback(rollback('1.1.0', '1.0.0', '2026-11-03T11:00:00.000Z', 'FAILED'));
    expect(await ledger.currentVersion()).toBe('1.1.0');

    await ledger.recordRollback(rollback('1.1.0', '1.0.0', '2026-11-03T12:00:00.000Z'));
    expect(await ledger.currentVersion()).toBe('1.0.0');
  });

  it('finds the release made before a given version, and none before the first', async () => {
    const { ledger } = await newLedger();
    await ledger.recordRelease(release('1.0.0', '2026-11-01T10:00:00.000Z'));
    await ledger.recordRelease(release('1.0.1', '2026-11-02T10:00:00.000Z'));
    await ledger.recordRelease(release('1.1.0', '2026-11-03T10:00:00.000Z'));

    expect((await ledger.previousRelease('v1.1.0'))?.version).toBe('1.0.1');
    expect(await ledger.previousRelease('1.0.0')).toBeUndefined();
    expect(await ledger.previousRelease('9.9.9')).toBeUndefined();
  });

  it('records a retried rollback write from the same execution once', async () => {
    const { ledger } = await newLedger();
    const rb = rollback('1.1.0', '1.0.0', '2026-11-03T12:00:00.000Z');

    await ledger.recordRollback(rb);
    await ledger.recordRollback(rb);

    expect(await ledger.listRollbacks()).toEqual([rb]);
  });

  it('keeps the first rollback entry of an execution: a later, different write for it changes nothing', async () => {
    const { ledger } = await newLedger();
    const first = rollback('1.1.0', '1.0.0', '2026-11-03T12:00:00.000Z', 'SUCCEEDED');

    await ledger.recordRollback(first);
    await ledger.recordRollback({ ...first, recordedAt: '2026-11-03T12:05:00.000Z', outcome: 'FAILED' });

    expect(await ledger.listRollbacks()).toEqual([first]);
    expect(await ledger.currentVersion()).toBe('1.0.0');
  });

  it('pages through a partition larger than one query response', async () => {
    const { ledger, tableName } = await newLedger();
    const padding = 'x'.repeat(350_000); // three items exceed dynalite's 1 MB page
    for (let i = 0; i < 4; i++) {
      await db.documentClient.send(
        new PutCommand({ TableName: tableName, Item: { pk: 'RELEASE', sk: `v1.0.${i}`, ...release(`1.0.${i}`, `2026-11-0${i + 1}T00:00:00.000Z`), changeSummary: padding } }),
      );
    }

    const releases = await ledger.listReleases();

    expect(releases.map((r) => r.version)).toEqual(['1.0.3', '1.0.2', '1.0.1', '1.0.0']);
  });
});

describe('versions', () => {
  it('normalizes a tag to a bare semantic version and rejects anything else', () => {
    expect(normalizeVersion('v1.2.3')).toBe('1.2.3');
    expect(normalizeVersion(' 1.2.3-rc.1 ')).toBe('1.2.3-rc.1');
    expect(() => normalizeVersion('1.2')).toThrow(/"1.2" is not a semantic version/);
    expect(() => normalizeVersion('latest')).toThrow(/not a semantic version/);
  });

  it('orders versions numerically, not as strings', () => {
    expect(compareVersions('1.10.0', '1.9.9')).toBeGreaterThan(0);
    expect(compareVersions('v2.0.0', '2.0.0')).toBe(0);
    expect(compareVersions('2.0.0-rc.1', '2.0.0')).toBeLessThan(0);
  });
});
