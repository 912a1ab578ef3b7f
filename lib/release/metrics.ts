/**
 * The four DORA figures, computed from the release ledger alone (releases, operator rollbacks,
 * failed prod attempts). Pure: no AWS, no clock; `npm run release -- metrics` feeds it.
 *
 * Definitions (docs/02-cicd.md, "Delivery metrics", says the same in prose):
 * - The window is half-open, [from, to): an entry exactly at `to` belongs to the next window, so
 *   adjacent windows never count an entry twice.
 * - A release is in the window when its `releasedAt` is; a failed attempt when its `detectedAt` is;
 *   a rollback when its `recordedAt` (the rollback's completion) is.
 * - Deployments: releases plus failed attempts in the window. Rollbacks are not deployments.
 * - Deployment frequency: releases in the window / the window's length in weeks (and in days).
 * - Lead time: for every commit time recorded with a release in the window, `releasedAt` minus that
 *   time, in hours; median and p90. Releases without commit times (written before #14) are left out;
 *   null when none has them.
 * - Change failure rate: (failed attempts + releases of the window that an operator rolled back)
 *   / deployments. A release is "rolled back" when a successful ROLLBACK took prod away from it
 *   while prod ran it because of that release. A rollback away from a version that a previous
 *   rollback had put back (a rollback of a rollback) blames no release a second time. The
 *   rollback may complete after the window: the release failed all the same.
 * - Recovery time: for a rolled-back release, `releasedAt` to the completion of the rollback that
 *   took prod away from it; for a failed attempt, detection to the end of its stage rollback
 *   (attempts without a stage rollback have no recovery time). Median and max, in minutes.
 * Percentiles are nearest-rank (p90 = the smallest value with at least 90% of values at or below
 * it); the median of an even count is the mean of the two middle values.
 */
import type { FailedAttemptRecord, ReleaseRecord, RollbackRecord } from './ledger';

export type Band = 'elite' | 'high' | 'medium' | 'low';

export interface LedgerContents {
  releases: ReleaseRecord[];
  rollbacks: RollbackRecord[];
  failed: FailedAttemptRecord[];
}

export interface Window {
  from: Date;
  to: Date;
}

export interface DoraMetrics {
  window: { from: string; to: string };
  deployments: number;
  deploymentFrequencyPerWeek: number;
  deploymentFrequencyPerDay: number;
  leadTimeHours: { median: number; p90: number } | null;
  changeFailureRate: number | null;
  recoveryTimeMinutes: { median: number; max: number } | null;
  counts: { releases: number; failed: number; rollbacks: number };
  /** How many releases of the window had commit times (the lead time's basis) and how many commits. */
  leadTimeBasis: { releasesWithCommitTimes: number; commits: number; truncatedReleases: number };
  performance: {
    deploymentFrequency: Band;
    leadTime: Band | null;
    changeFailureRate: Band | null;
    recoveryTime: Band | null;
    /** Where the thresholds come from, and the thresholds themselves. */
    source: string;
    thresholds: typeof THRESHOLDS;
  };
}

const HOUR = 3_600_000;
const MINUTE = 60_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/**
 * Band thresholds from the 2023 Accelerate State of DevOps Report's software delivery performance
 * clusters (https://dora.dev/research/2023/dora-report/), read as lower bounds of each band. The
 * report gives clusters, not cut-offs; where two clusters overlap we take the better one's edge.
 */
export const THRESHOLDS = {
  /** Releases per week: elite on demand (at least daily), high daily to weekly, medium weekly to monthly. */
  deploymentFrequencyPerWeek: { elite: 7, high: 1, medium: 12 / 52 },
  /** Median lead time in hours: elite under a day, high under a week, medium under a month (30 days). */
  leadTimeHours: { elite: 24, high: 168, medium: 720 },
  /** Change failure rate: elite at most 5%, high 10%, medium 15%, low above. */
  changeFailureRate: { elite: 0.05, high: 0.1, medium: 0.15 },
  /** Median recovery in minutes: elite under an hour, high under a day, medium under a week. */
  recoveryTimeMinutes: { elite: 60, high: 1440, medium: 10080 },
} as const;

export const THRESHOLDS_SOURCE = '2023 Accelerate State of DevOps Report, software delivery performance clusters (https://dora.dev/research/2023/dora-report/)';

/** Rounds to 3 decimals so JSON stays readable and tests can state exact numbers. */
const round = (n: number): number => Math.round(n * 1000) / 1000;

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1];
}

const within = (iso: string, w: Window): boolean => {
  const t = Date.parse(iso);
  return t >= w.from.getTime() && t < w.to.getTime();
};

/** Higher is better (frequency): elite when at or above the elite bound. */
function bandAtLeast(value: number, t: { elite: number; high: number; medium: number }): Band {
  if (value >= t.elite) return 'elite';
  if (value >= t.high) return 'high';
  if (value >= t.medium) return 'medium';
  return 'low';
}

/** Lower is better (time): elite when under the elite bound. */
function bandBelow(value: number, t: { elite: number; high: number; medium: number }): Band {
  if (value < t.elite) return 'elite';
  if (value < t.high) return 'high';
  if (value < t.medium) return 'medium';
  return 'low';
}

/** Lower is better (rate): elite when at or under the elite bound. */
function bandAtMost(value: number, t: { elite: number; high: number; medium: number }): Band {
  if (value <= t.elite) return 'elite';
  if (value <= t.high) return 'high';
  if (value <= t.medium) return 'medium';
  return 'low';
}

/**
 * For every release, the successful operator rollback that took prod away from it (if any): walks
 * the ledger in time order, tracking which release (if any) put the running version in prod.
 */
export function rolledBackReleases(releases: ReleaseRecord[], rollbacks: RollbackRecord[]): Map<string, RollbackRecord> {
  type Event = { at: string; release?: ReleaseRecord; rollback?: RollbackRecord };
  const events: Event[] = [
    ...releases.map((r): Event => ({ at: r.releasedAt, release: r })),
    ...rollbacks.filter((r) => r.outcome === 'SUCCEEDED').map((r): Event => ({ at: r.recordedAt, rollback: r })),
  ].sort((a, b) => a.at.localeCompare(b.at) || (a.release ? -1 : 1));
  const result = new Map<string, RollbackRecord>();
  // The release whose deployment prod runs now; undefined when prod runs a version a rollback restored.
  let running: ReleaseRecord | undefined;
  for (const e of events) {
    if (e.release) {
      running = e.release;
      continue;
    }
    const rb = e.rollback!;
    if (running && running.version === rb.fromVersion && !result.has(running.version)) result.set(running.version, rb);
    running = undefined;
  }
  return result;
}

export function computeMetrics(ledger: LedgerContents, window: Window): DoraMetrics {
  if (!(window.to.getTime() > window.from.getTime())) throw new Error(`the window must end after it starts (from ${window.from.toISOString()}, to ${window.to.toISOString()})`);
  const releases = ledger.releases.filter((r) => within(r.releasedAt, window));
  const failed = ledger.failed.filter((f) => within(f.detectedAt, window));
  const rollbacks = ledger.rollbacks.filter((r) => within(r.recordedAt, window));
  const lengthMs = window.to.getTime() - window.from.getTime();

  const deployments = releases.length + failed.length;

  // Lead time over every recorded commit of the window's releases.
  const leadHours: number[] = [];
  let withTimes = 0;
  let truncated = 0;
  for (const r of releases) {
    if (!r.commitTimes) continue;
    withTimes++;
    if (r.commitTimes.truncated) truncated++;
    const times = r.commitTimes.commits.length > 0 ? r.commitTimes.commits : [r.commitTimes.releaseCommitAt];
    for (const t of times) leadHours.push((Date.parse(r.releasedAt) - Date.parse(t)) / HOUR);
  }

  const rolledBack = rolledBackReleases(ledger.releases, ledger.rollbacks);
  const failedReleases = releases.filter((r) => rolledBack.has(r.version));
  const recoveryMinutes: number[] = [
    ...failedReleases.map((r) => (Date.parse(rolledBack.get(r.version)!.recordedAt) - Date.parse(r.releasedAt)) / MINUTE),
    ...failed.filter((f) => f.rollback).map((f) => (Date.parse(f.rollback!.finishedAt) - Date.parse(f.detectedAt)) / MINUTE),
  ];

  const leadTimeHours = leadHours.length > 0 ? { median: round(median(leadHours)), p90: round(percentile(leadHours, 90)) } : null;
  const changeFailureRate = deployments > 0 ? round((failed.length + failedReleases.length) / deployments) : null;
  const recoveryTimeMinutes = recoveryMinutes.length > 0 ? { median: round(median(recoveryMinutes)), max: round(Math.max(...recoveryMinutes)) } : null;
  const perWeek = round(releases.length / (lengthMs / WEEK));

  return {
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    deployments,
    deploymentFrequencyPerWeek: perWeek,
    deploymentFrequencyPerDay: round(releases.length / (lengthMs / DAY)),
    leadTimeHours,
    changeFailureRate,
    recoveryTimeMinutes,
    counts: { releases: releases.length, failed: failed.length, rollbacks: rollbacks.length },
    leadTimeBasis: { releasesWithCommitTimes: withTimes, commits: leadHours.length, truncatedReleases: truncated },
    performance: {
      deploymentFrequency: bandAtLeast(releases.length / (lengthMs / WEEK), THRESHOLDS.deploymentFrequencyPerWeek),
      leadTime: leadTimeHours ? bandBelow(leadTimeHours.median, THRESHOLDS.leadTimeHours) : null,
      changeFailureRate: changeFailureRate === null ? null : bandAtMost(changeFailureRate, THRESHOLDS.changeFailureRate),
      recoveryTime: recoveryTimeMinutes ? bandBelow(recoveryTimeMinutes.median, THRESHOLDS.recoveryTimeMinutes) : null,
      source: THRESHOLDS_SOURCE,
      thresholds: THRESHOLDS,
    },
  };
}
