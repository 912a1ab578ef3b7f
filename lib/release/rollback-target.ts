/**
 * Which release a rollback puts back, worked out from the release ledger alone. The rollback
 * pipeline's Resolve step and the operator CLI (to show the plan before anything changes) use this
 * same function, so the plan shown is the plan executed.
 */
import { normalizeVersion, ReleaseLedger, ReleaseRecord } from './ledger';
import { PREVIOUS_RELEASE } from './rollback-execution';

export type TargetProblem = 'invalid-version' | 'never-released' | 'empty-ledger' | 'no-earlier-release' | 'already-current';

export class TargetError extends Error {
  constructor(
    readonly problem: TargetProblem,
    message: string,
  ) {
    super(message);
    this.name = 'TargetError';
  }
}

export interface RollbackTarget {
  /** What prod runs according to the ledger. */
  fromVersion: string;
  target: ReleaseRecord;
}

/**
 * `requested` is a version (`1.2.3` or `v1.2.3`), or `previous`/empty for the release before the
 * one prod runs now. Throws a TargetError naming the problem.
 */
export async function resolveTarget(ledger: ReleaseLedger, requested: string): Promise<RollbackTarget> {
  const fromVersion = await ledger.currentVersion();
  if (!fromVersion) throw new TargetError('empty-ledger', 'the release ledger has no release yet, so there is nothing to roll back to');
  const wanted = requested.trim();
  let target: ReleaseRecord | undefined;
  if (wanted === '' || wanted.toLowerCase() === PREVIOUS_RELEASE) {
    target = await ledger.previousRelease(fromVersion);
    if (!target) {
      throw new TargetError('no-earlier-release', `prod runs v${fromVersion}, the first recorded release; there is no earlier release to roll back to`);
    }
  } else {
    let version: string;
    try {
      version = normalizeVersion(wanted);
    } catch (e) {
      throw new TargetError('invalid-version', (e as Error).message);
    }
    target = await ledger.getRelease(version);
    if (!target) {
      const released = (await ledger.listReleases()).slice(0, 10).map((r) => `v${r.version}`);
      throw new TargetError('never-released', `v${version} was never released (not in the release ledger); choose one of: ${released.join(', ') || 'none'}`);
    }
  }
  if (target.version === fromVersion) {
    throw new TargetError('already-current', `prod already runs v${fromVersion} according to the release ledger; nothing to roll back`);
  }
  return { fromVersion, target };
}
