/**
 * Commit times travel from the build (lib/release/scripts/release-version.ts) as the pipeline
 * variable COMMIT_TIMES (JSON of `CommitTimes`) to the release and failure recorders, which read it
 * from the execution's history and put it in the ledger. Shared here so both ends agree.
 */
import { CommitTimes, MAX_COMMIT_TIMES } from './ledger';

/** The Build action's output variable that carries the commit times. */
export const COMMIT_TIMES_VARIABLE = 'COMMIT_TIMES';

const toIso = (raw: string): string | undefined => {
  const t = Date.parse(raw.trim());
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
};

/**
 * From `git log --format=%cI` output of the commits since the previous release (newest first,
 * asked for with one more line than the limit) and the release commit's time: the bounded list.
 */
export function commitTimesFromLog(logOutput: string, releaseCommitAt: string, limit = MAX_COMMIT_TIMES): CommitTimes {
  const times = logOutput
    .split('\n')
    .map(toIso)
    .filter((t): t is string => t !== undefined);
  const at = toIso(releaseCommitAt);
  if (!at) throw new Error(`commit times: "${releaseCommitAt}" is not a time`);
  return { releaseCommitAt: at, commits: times.slice(0, limit), truncated: times.length > limit };
}

/** Parses the variable's value; undefined (never a throw) when it is missing or malformed, so an old build still records. */
export function parseCommitTimes(raw: string | undefined): CommitTimes | undefined {
  if (!raw) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const at = typeof v.releaseCommitAt === 'string' ? toIso(v.releaseCommitAt) : undefined;
  if (!at || !Array.isArray(v.commits) || typeof v.truncated !== 'boolean') return undefined;
  const commits = v.commits.map((c) => (typeof c === 'string' ? toIso(c) : undefined));
  if (commits.some((c) => c === undefined)) return undefined;
  return { releaseCommitAt: at, commits: (commits as string[]).slice(0, MAX_COMMIT_TIMES), truncated: v.truncated || commits.length > MAX_COMMIT_TIMES };
}
