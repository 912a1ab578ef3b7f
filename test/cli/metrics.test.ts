/**
 * `release metrics` on a real ledger (dynalite) seeded with known histories: every figure of the
 * JSON asserted, and the table a person reads. With --ledger-table it makes no other AWS call.
 */
import { ReleaseLedger, ReleaseRecord } from '../../lib/release/ledger';
import { median, percentile } from '../../lib/release/metrics';
import { waitForActive } from '../support/active';
import { RunningDynalite, startDynalite } from '../support/dynalite';
import { failedAttemptRecord, newLedger, releaseRecord, rollbackRecord } from '../support/ledger';
import { cli, cloudformation, pipeline, resetMocks, sts } from './support';

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

const hoursBefore = (iso: string, hours: number): string => new Date(Date.parse(iso) - hours * 3_600_000).toISOString();

/** A release whose commits were made the given numbers of hours before it was released. */
function releaseWithCommits(version: string, releasedAt: string, commitHoursAgo: number[], extra: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return releaseRecord(version, releasedAt, {
    commitTimes: { releaseCommitAt: hoursBefore(releasedAt, Math.min(...commitHoursAgo)), commits: commitHoursAgo.map((h) => hoursBefore(releasedAt, h)), truncated: false },
    ...extra,
  });
}

async function metricsJson(args: string[]): Promise<Record<string, unknown>> {
  const run = await cli(['metrics', '--json', ...args], db, table);
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

// Four weeks: 2026-09-01 (included) to 2026-09-29 (excluded).
const FOUR_WEEKS = ['--since', '2026-09-01T00:00:00Z', '--until', '2026-09-29T00:00:00Z'];

describe('metrics on known histories', () => {
  test('an empty ledger: no deployments, null figures, a low frequency band', async () => {
    const m = await metricsJson(FOUR_WEEKS);

    expect(m).toMatchObject({
      window: { from: '2026-09-01T00:00:00.000Z', to: '2026-09-29T00:00:00.000Z' },
      deployments: 0,
      deploymentFrequencyPerWeek: 0,
      deploymentFrequencyPerDay: 0,
      leadTimeHours: null,
      changeFailureRate: null,
      recoveryTimeMinutes: null,
      counts: { releases: 0, failed: 0, rollbacks: 0 },
      performance: { deploymentFrequency: 'low', leadTime: null, changeFailureRate: null, recoveryTime: null },
    });
  });

  test('a single release: its commits give the lead time, nothing failed', async () => {
    await ledger.recordRelease(releaseWithCommits('1.0.0', '2026-09-10T12:00:00.000Z', [3, 24, 48]));

    const m = await metricsJson(FOUR_WEEKS);

    expect(m).toMatchObject({
      deployments: 1,
      deploymentFrequencyPerWeek: 0.25,
      deploymentFrequencyPerDay: 0.036,
      leadTimeHours: { median: 24, p90: 48 },
      changeFailureRate: 0,
      recoveryTimeMinutes: null,
      counts: { releases: 1, failed: 0, rollbacks: 0 },
      leadTimeBasis: { releasesWithCommitTimes: 1, commits: 3, truncatedReleases: 0 },
      performance: { deploymentFrequency: 'medium', leadTime: 'high', changeFailureRate: 'elite', recoveryTime: null },
    });
  });

  test('weekly releases with no failures; an old record without commit times is left out of the lead time', async () => {
    await ledger.recordRelease(releaseWithCommits('1.0.0', '2026-09-02T10:00:00.000Z', [1, 2]));
    await ledger.recordRelease(releaseWithCommits('1.1.0', '2026-09-09T10:00:00.000Z', [4]));
    await ledger.recordRelease(releaseRecord('1.2.0', '2026-09-16T10:00:00.000Z'));
    // No commits since the previous release listed: the release commit's own time counts.
    await ledger.recordRelease(releaseRecord('1.3.0', '2026-09-23T10:00:00.000Z', { commitTimes: { releaseCommitAt: '2026-09-23T00:00:00.000Z', commits: [], truncated: true } }));

    const m = await metricsJson(FOUR_WEEKS);

    expect(m).toMatchObject({
      deployments: 4,
      deploymentFrequencyPerWeek: 1,
      deploymentFrequencyPerDay: 0.143,
      leadTimeHours: { median: 3, p90: 10 },
      changeFailureRate: 0,
      recoveryTimeMinutes: null,
      counts: { releases: 4, failed: 0, rollbacks: 0 },
      leadTimeBasis: { releasesWithCommitTimes: 3, commits: 4, truncatedReleases: 1 },
      performance: { deploymentFrequency: 'high', leadTime: 'elite', changeFailureRate: 'elite', recoveryTime: null },
    });
  });

  test('only records without commit times: lead time is null, every other figure still computed', async () => {
    await ledger.recordRelease(releaseRecord('1.0.0', '2026-09-02T10:00:00.000Z'));
    await ledger.recordRelease(releaseRecord('1.1.0', '2026-09-09T10:00:00.000Z'));
    await ledger.recordFailedAttempt(failedAttemptRecord('1.2.0', '2026-09-10T10:00:00.000Z'));

    const m = await metricsJson(FOUR_WEEKS);

    expect(m).toMatchObject({
      deployments: 3,
      deploymentFrequencyPerWeek: 0.5,
      leadTimeHours: null,
      changeFailureRate: 0.333,
      recoveryTimeMinutes: { median: 10, max: 10 },
      counts: { releases: 2, failed: 1, rollbacks: 0 },
      performance: { leadTime: null, changeFailureRate: 'low', recoveryTime: 'elite' },
    });
  });

  test('a rollback of a rollback blames one release once; failed attempts count as deployments and failures', async () => {
    await ledger.recordRelease(releaseRecord('1.0.0', '2026-08-01T10:00:00.000Z'));
    await ledger.recordRelease(releaseRecord('1.1.0', '2026-09-05T10:00:00.000Z'));
    await ledger.recordRelease(releaseRecord('1.2.0', '2026-09-12T10:00:00.000Z'));
    // 90 minutes after 1.2.0 went out, an operator takes prod back to 1.1.0 ...
    await ledger.recordRollback(rollbackRecord('1.2.0', '1.1.0', '2026-09-12T11:30:00.000Z'));
    // ... and then from the restored 1.1.0 back to 1.0.0: 1.1.0's release is not blamed for it.
    await ledger.recordRollback(rollbackRecord('1.1.0', '1.0.0', '2026-09-12T13:00:00.000Z'));
    // A prod attempt that failed its smoke test and rolled its stage back in 20 minutes.
    await ledger.recordFailedAttempt(
      failedAttemptRecord('1.2.1', '2026-09-20T10:00:00.000Z', { rollback: { executionId: 'rb-exec', outcome: 'SUCCEEDED', finishedAt: '2026-09-20T10:20:00.000Z' } }),
    );

    const m = await metricsJson(FOUR_WEEKS);

    expect(m).toMatchObject({
      deployments: 3,
      deploymentFrequencyPerWeek: 0.5,
      deploymentFrequencyPerDay: 0.071,
      leadTimeHours: null,
      changeFailureRate: 0.667,
      recoveryTimeMinutes: { median: 55, max: 90 },
      counts: { releases: 2, failed: 1, rollbacks: 2 },
      performance: { deploymentFrequency: 'medium', changeFailureRate: 'low', recoveryTime: 'elite' },
    });
  });

  test('a failed attempt without a stage rollback is a failure with no recovery time', async () => {
    await ledger.recordRelease(releaseRecord('1.0.0', '2026-09-02T10:00:00.000Z'));
    await ledger.recordFailedAttempt(failedAttemptRecord('1.1.0', '2026-09-03T10:00:00.000Z', { rollback: null }));

    const m = await metricsJson(FOUR_WEEKS);

    expect(m).toMatchObject({ deployments: 2, changeFailureRate: 0.5, recoveryTimeMinutes: null, counts: { releases: 1, failed: 1, rollbacks: 0 } });
  });

  describe('window edges: [since, until)', () => {
    beforeEach(async () => {
      await ledger.recordRelease(releaseRecord('1.9.0', '2026-08-31T23:59:59.999Z'));
      await ledger.recordRelease(releaseRecord('2.0.0', '2026-09-01T00:00:00.000Z'));
      await ledger.recordFailedAttempt(
        failedAttemptRecord('2.0.1', '2026-09-08T00:00:00.000Z', { rollback: { executionId: 'rb', outcome: 'SUCCEEDED', finishedAt: '2026-09-08T00:30:00.000Z' } }),
      );
      await ledger.recordRollback(rollbackRecord('2.0.0', '1.9.0', '2026-09-08T02:00:00.000Z'));
      await ledger.recordRelease(releaseRecord('2.1.0', '2026-09-15T00:00:00.000Z'));
    });

    test('an entry at since is in, one a millisecond before or exactly at until is out; a later rollback still blames the release', async () => {
      const m = await metricsJson(['--since', '2026-09-01T00:00:00Z', '--until', '2026-09-08T00:00:00Z']);

      expect(m).toMatchObject({
        window: { from: '2026-09-01T00:00:00.000Z', to: '2026-09-08T00:00:00.000Z' },
        deployments: 1,
        deploymentFrequencyPerWeek: 1,
        deploymentFrequencyPerDay: 0.143,
        changeFailureRate: 1,
        // 2.0.0 released 09-01T00:00, rolled back 09-08T02:00: 7 days and 2 hours.
        recoveryTimeMinutes: { median: 10200, max: 10200 },
        counts: { releases: 1, failed: 0, rollbacks: 0 },
        performance: { recoveryTime: 'low' },
      });
    });

    test('the next window holds the attempt at its start and not the release at its end', async () => {
      const m = await metricsJson(['--since', '2026-09-08T00:00:00Z', '--until', '2026-09-15T00:00:00Z']);

      expect(m).toMatchObject({
        deployments: 1,
        deploymentFrequencyPerWeek: 0,
        changeFailureRate: 1,
        recoveryTimeMinutes: { median: 30, max: 30 },
        counts: { releases: 0, failed: 1, rollbacks: 1 },
      });
    });
  });

  test('the default window is the 90 days up to now', async () => {
    await ledger.recordRelease(releaseRecord('1.0.0', '2026-09-01T23:59:59.999Z'));
    await ledger.recordRelease(releaseRecord('1.1.0', '2026-09-02T00:00:00.000Z'));

    const run = await cli(['metrics', '--json'], db, table, { now: () => new Date('2026-12-01T00:00:00.000Z') });

    const m = JSON.parse(run.stdout);
    expect(m.window).toEqual({ from: '2026-09-02T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' });
    expect(m.counts.releases).toBe(1);
  });
});

describe('metrics output and errors', () => {
  test('the text is a small table with each figure, its value and its band, citing the thresholds', async () => {
    await ledger.recordRelease(releaseWithCommits('1.0.0', '2026-09-10T12:00:00.000Z', [3, 24, 48]));
    await ledger.recordFailedAttempt(failedAttemptRecord('1.0.1', '2026-09-11T12:00:00.000Z'));

    const run = await cli(['metrics', ...FOUR_WEEKS], db, table);

    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('Delivery metrics 2026-09-01T00:00:00.000Z .. 2026-09-29T00:00:00.000Z (from the release ledger)');
    expect(lines.find((l) => l.startsWith('Deployments'))).toMatch(/^Deployments\s+2 \(1 released, 1 failed\)$/);
    expect(lines.find((l) => l.startsWith('Deployment frequency'))).toMatch(/0\.25\/week \(0\.04\/day\)\s+medium$/);
    expect(lines.find((l) => l.startsWith('Lead time'))).toMatch(/median 24 h, p90 48 h\s+high$/);
    expect(lines.find((l) => l.startsWith('Change failure rate'))).toMatch(/50%\s+low$/);
    expect(lines.find((l) => l.startsWith('Recovery time'))).toMatch(/median 10 min, max 10 min\s+elite$/);
    expect(run.stdout).toContain('Bands: 2023 Accelerate State of DevOps Report');
  });

  test('--json carries the thresholds it used', async () => {
    const m = await metricsJson(FOUR_WEEKS);

    expect(m.performance).toMatchObject({
      source: expect.stringContaining('https://dora.dev/research/2023/dora-report/'),
      thresholds: { changeFailureRate: { elite: 0.05, high: 0.1, medium: 0.15 }, leadTimeHours: { elite: 24, high: 168, medium: 720 } },
    });
  });

  test('with --ledger-table it reads the ledger and makes no other AWS call', async () => {
    const run = await cli(['metrics', '--ledger-table', table], db, undefined);

    expect(run.code).toBe(0);
    expect(pipeline.calls()).toHaveLength(0);
    expect(sts.calls()).toHaveLength(0);
    expect(cloudformation.calls()).toHaveLength(0);
  });

  test('a --since that is not an ISO time is a one-line usage error (exit 2), on stdout as JSON with --json', async () => {
    const text = await cli(['metrics', '--since', 'last tuesday'], db, table);
    const json = await cli(['metrics', '--since', 'last tuesday', '--json'], db, table);

    expect(text.code).toBe(2);
    expect(text.stderr.split('\n')[0]).toBe('error: --since must be an ISO 8601 date or time such as 2026-09-01 or 2026-09-01T12:00:00Z (got "last tuesday").');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'USAGE', exitCode: 2 });
  });

  test('--since after --until is a usage error', async () => {
    const run = await cli(['metrics', '--since', '2026-10-01', '--until', '2026-09-01'], db, table);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--since (2026-10-01T00:00:00.000Z) must be before --until (2026-09-01T00:00:00.000Z)');
  });

  test('metrics --help works offline', async () => {
    const run = await cli(['metrics', '--help'], db, undefined);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: notes-release metrics [--since ISO] [--until ISO]');
    expect(pipeline.calls()).toHaveLength(0);
  });
});

describe('median and nearest-rank p90', () => {
  test('odd and even counts, and p90 of ten values', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([7], 90)).toBe(7);
  });
});
