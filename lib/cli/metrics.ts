/**
 * `metrics`: the DORA figures of a window, from the release ledger only (with --ledger-table it
 * makes no other AWS call). The computation is lib/release/metrics.ts.
 */
import { computeMetrics, DoraMetrics } from '../release/metrics';
import { Context } from './context';
import { EXIT, usage } from './errors';

export const DEFAULT_WINDOW_DAYS = 90;

function parseTime(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  // An ISO 8601 date or date-time: 2026-09-01, 2026-09-01T12:00:00Z, 2026-09-01T12:00:00+02:00.
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw usage(`--${flag} must be an ISO 8601 date or time such as 2026-09-01 or 2026-09-01T12:00:00Z (got "${value}").`);
  }
  return new Date(value);
}

export function resolveWindow(now: Date, since?: string, until?: string): { from: Date; to: Date } {
  const to = parseTime(until, 'until') ?? now;
  const from = parseTime(since, 'since') ?? new Date(to.getTime() - DEFAULT_WINDOW_DAYS * 86_400_000);
  if (from.getTime() >= to.getTime()) throw usage(`--since (${from.toISOString()}) must be before --until (${to.toISOString()}).`);
  return { from, to };
}

const fmt = (n: number): string => String(Math.round(n * 100) / 100);

/** The small table a person reads at a glance. */
export function metricsTable(m: DoraMetrics): string[] {
  const p = m.performance;
  const rows: [string, string, string][] = [
    ['Deployments', `${m.deployments} (${m.counts.releases} released, ${m.counts.failed} failed)`, ''],
    ['Deployment frequency', `${fmt(m.deploymentFrequencyPerWeek)}/week (${fmt(m.deploymentFrequencyPerDay)}/day)`, p.deploymentFrequency],
    [
      'Lead time for changes',
      m.leadTimeHours ? `median ${fmt(m.leadTimeHours.median)} h, p90 ${fmt(m.leadTimeHours.p90)} h` : 'n/a (no release with commit times)',
      p.leadTime ?? '-',
    ],
    ['Change failure rate', m.changeFailureRate === null ? 'n/a (no deployments)' : `${fmt(m.changeFailureRate * 100)}%`, p.changeFailureRate ?? '-'],
    [
      'Recovery time',
      m.recoveryTimeMinutes ? `median ${fmt(m.recoveryTimeMinutes.median)} min, max ${fmt(m.recoveryTimeMinutes.max)} min` : 'n/a (nothing to recover from)',
      p.recoveryTime ?? '-',
    ],
    ['Operator rollbacks', String(m.counts.rollbacks), ''],
  ];
  const w1 = Math.max(...rows.map((r) => r[0].length));
  const w2 = Math.max(...rows.map((r) => r[1].length));
  const basis = m.leadTimeBasis;
  return [
    `Delivery metrics ${m.window.from} .. ${m.window.to} (from the release ledger)`,
    '',
    `${'Figure'.padEnd(w1)}  ${'Value'.padEnd(w2)}  Band`,
    ...rows.map(([a, b, c]) => `${a.padEnd(w1)}  ${b.padEnd(w2)}  ${c}`.trimEnd()),
    '',
    `Lead time over ${basis.commits} commit(s) of ${basis.releasesWithCommitTimes} of ${m.counts.releases} release(s) with commit times` +
      (basis.truncatedReleases > 0 ? ` (${basis.truncatedReleases} with the commit list cut at 100)` : '') +
      '.',
    `Bands: ${p.source}.`,
  ];
}

export async function metrics(ctx: Context, options: { since?: string; until?: string }): Promise<number> {
  const window = resolveWindow(ctx.now(), options.since, options.until);
  const contents = await ctx.withLedger(async (l) => {
    const [releases, rollbacks, failed] = await Promise.all([l.listReleases(), l.listRollbacks(), l.listFailedAttempts()]);
    return { releases, rollbacks, failed };
  });
  const m = computeMetrics(contents, window);
  ctx.print(m, () => metricsTable(m));
  return EXIT.OK;
}
