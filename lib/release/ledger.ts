/**
 * The release ledger: an append-only record of every release and every rollback of production.
 *
 * The release pipeline writes a RELEASE entry after prod is deployed and verified; the rollback
 * pipeline reads it to find the target and its archived cloud assembly, and writes a ROLLBACK
 * entry when it is done. Entries are never updated or deleted: every write is conditional on the
 * key being new, and the table's IAM grants no UpdateItem or DeleteItem.
 *
 * Keys (both strings):
 *   RELEASE   pk = "RELEASE"   sk = "v1.2.3"
 *   ROLLBACK  pk = "ROLLBACK"  sk = "<pipelineExecutionId>"
 *   FAILED    pk = "FAILED"    sk = "<pipelineExecutionId of the failed attempt>"
 * FAILED entries are prod deployment attempts that did not become a release (the prod stage
 * failed, or rolled itself back); the failure recorder (lambda/failure-recorder) writes them.
 * Small partitions are queried whole; a notes service releases a few times a day at most.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';

export const LEDGER_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;
/** The NotesPipeline stack output that names the ledger table (the operator CLI reads it). */
export const LEDGER_OUTPUT = 'LedgerTableName';

export interface ReleaseArtifact {
  bucket: string;
  key: string;
  /** Hex SHA-256 of the archived object, checked before a rollback deploys it. */
  sha256: string;
  versionId?: string;
}

export interface ReleaseRecord {
  /** Semantic version without the leading `v`, e.g. `1.2.3`. */
  version: string;
  commit: string;
  releasedAt: string;
  pipelineName: string;
  pipelineExecutionId: string;
  artifact: ReleaseArtifact;
  approvers: string[];
  changeSummary: string;
  pullRequestUrl?: string;
  /** GitHub logins whose approval of the pull request counted in the Build step's gate. */
  pullRequestApprovers?: string[];
  /** Warnings the build raised, e.g. architecture changed without a decision-log entry. */
  knownIssues?: string[];
  smokeSummary: string;
  /** The prod plan's one-line summary, and the SHA-256 of its plan.json (releases since plans exist). */
  planSummary?: string;
  planSha256?: string;
  /** When the commits of this release were made (absent on records written before #14). */
  commitTimes?: CommitTimes;
  /** Each deploy stage's CodeDeploy shift of the live alias (#13); absent in records from before it. */
  trafficShifts?: TrafficShiftRecord[];
}

/**
 * Commit times recorded by the build (lib/release/scripts/release-version.ts): the release
 * commit's committer time, and the committer time of each commit since the previous release's
 * tag, newest first, cut at `MAX_COMMIT_TIMES` (then `truncated` is true).
 */
export interface CommitTimes {
  /** ISO time the release commit was made. */
  releaseCommitAt: string;
  /** ISO times of the commits since the previous release (the release commit included), newest first. */
  commits: string[];
  /** True when there were more commits than `commits` holds (the oldest are cut). */
  truncated: boolean;
}

/** At most this many commit times travel with a release (pipeline variables have a size limit). */
export const MAX_COMMIT_TIMES = 100;

/** A prod deployment attempt that did not become a release. */
export interface FailedAttemptRecord {
  /** The version the attempt tried to release (`unknown` when the build never said). */
  version: string;
  commit: string;
  pipelineName: string;
  /** The failed (standard) execution; the ledger key. */
  pipelineExecutionId: string;
  /** The prod stage that failed or rolled back. */
  stageName: string;
  /** The action that failed, or `<stage> condition` when every action succeeded and a stage condition rolled it back. */
  failedAction: string;
  failureMessage: string;
  /** When the failure was detected (the failed action's last update, or the stage's end). */
  detectedAt: string;
  /** How it ended: the stage rolled itself back, or it failed with no stage rollback. */
  rollback: { executionId: string; outcome: 'SUCCEEDED' | 'FAILED'; finishedAt: string } | null;
  recordedAt: string;
  commitTimes?: CommitTimes;
}

/** One environment's CodeDeploy deployment of the live alias, as its deploy step exported it. */
export interface TrafficShiftRecord {
  /** The pipeline stage that deployed (`Dev`, `Prod`). */
  stage: string;
  /** `d-XXXXXXXXX`, or `none` when the alias did not move. */
  deploymentId: string;
  /** CodeDeploy's status (`Succeeded`...), `NONE` or `UNKNOWN`. */
  outcome: string;
}

export interface RollbackRecord {
  fromVersion: string;
  toVersion: string;
  reason: string;
  requestedBy: string;
  pipelineExecutionId: string;
  recordedAt: string;
  outcome: 'SUCCEEDED' | 'FAILED';
}

export type LedgerEntry =
  | ({ kind: 'RELEASE' } & ReleaseRecord)
  | ({ kind: 'ROLLBACK' } & RollbackRecord)
  | ({ kind: 'FAILED' } & FailedAttemptRecord);

/** A second, different write for a version that is already released. */
export class ReleaseAlreadyRecordedError extends Error {
  constructor(readonly version: string, readonly existing: ReleaseRecord) {
    super(
      `Version ${version} is already released (execution ${existing.pipelineExecutionId}, ${existing.releasedAt}). ` +
        'Bump the version in package.json for a new release.',
    );
    this.name = 'ReleaseAlreadyRecordedError';
  }
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$/;

/** Accepts `1.2.3` or `v1.2.3` and returns `1.2.3`; throws on anything that is not a semantic version. */
export function normalizeVersion(input: string): string {
  const v = input.trim().replace(/^v/, '');
  if (!SEMVER.test(v)) throw new Error(`"${input}" is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.4.2)`);
  return v;
}

/** Orders semantic versions (pre-release suffixes sort before the release, by plain string order). */
export function compareVersions(a: string, b: string): number {
  const [ca, pa = ''] = normalizeVersion(a).split('-', 2);
  const [cb, pb = ''] = normalizeVersion(b).split('-', 2);
  const na = ca.split('.').map(Number);
  const nb = cb.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (na[i] !== nb[i]) return na[i] - nb[i];
  if (pa === pb) return 0;
  if (!pa) return 1;
  if (!pb) return -1;
  return pa < pb ? -1 : 1;
}

export class ReleaseLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Records a release. Immutable: a different record for the same version throws
   * `ReleaseAlreadyRecordedError`; the same pipeline execution writing again (a retried action)
   * is accepted as already done.
   */
  async recordRelease(record: ReleaseRecord): Promise<void> {
    const version = normalizeVersion(record.version);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: 'RELEASE', sk: `v${version}`, kind: 'RELEASE', ...record, version },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      const existing = await this.getRelease(version);
      if (existing && existing.pipelineExecutionId === record.pipelineExecutionId) return;
      throw new ReleaseAlreadyRecordedError(version, existing!);
    }
  }

  /** Records a rollback; a retried write from the same execution is accepted as already done. */
  async recordRollback(record: RollbackRecord): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: 'ROLLBACK',
            sk: record.pipelineExecutionId,
            kind: 'ROLLBACK',
            ...record,
            fromVersion: normalizeVersion(record.fromVersion),
            toVersion: normalizeVersion(record.toVersion),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }

  /**
   * Records a failed prod deployment attempt, once per failed execution: a redelivered event
   * (EventBridge delivers at least once) finds the entry there and changes nothing. Returns
   * whether this call wrote it.
   */
  async recordFailedAttempt(record: FailedAttemptRecord): Promise<'recorded' | 'already recorded'> {
    if (!record.pipelineExecutionId) throw new Error('a failed attempt needs the pipeline execution id');
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: 'FAILED', sk: record.pipelineExecutionId, kind: 'FAILED', ...record },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'recorded';
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      return 'already recorded';
    }
  }

  /** Every failed attempt, newest first (by detection time). */
  async listFailedAttempts(): Promise<FailedAttemptRecord[]> {
    const items = await this.queryPartition('FAILED');
    return items.map((i) => stripKeys(i) as unknown as FailedAttemptRecord).sort((a, b) => b.detectedAt.localeCompare(a.detectedAt));
  }

  async getRelease(version: string): Promise<ReleaseRecord | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: 'RELEASE', sk: `v${normalizeVersion(version)}` }, ConsistentRead: true }),
    );
    return out.Item ? toRelease(out.Item) : undefined;
  }

  /** Every release, newest first (by release time). */
  async listReleases(): Promise<ReleaseRecord[]> {
    const items = await this.queryPartition('RELEASE');
    return items.map(toRelease).sort((a, b) => b.releasedAt.localeCompare(a.releasedAt));
  }

  /** Every rollback, newest first. */
  async listRollbacks(): Promise<RollbackRecord[]> {
    const items = await this.queryPartition('ROLLBACK');
    return items.map(toRollback).sort((a, b) => b.recordedAt.localeCompare(a.recordedAt));
  }

  /** Releases, rollbacks and failed attempts together, newest first. */
  async history(limit?: number): Promise<LedgerEntry[]> {
    const [releases, rollbacks, failed] = await Promise.all([this.listReleases(), this.listRollbacks(), this.listFailedAttempts()]);
    const entries: LedgerEntry[] = [
      ...releases.map((r) => ({ kind: 'RELEASE' as const, ...r })),
      ...rollbacks.map((r) => ({ kind: 'ROLLBACK' as const, ...r })),
      ...failed.map((r) => ({ kind: 'FAILED' as const, ...r })),
    ].sort((a, b) => entryTime(b).localeCompare(entryTime(a)));
    return limit === undefined ? entries : entries.slice(0, limit);
  }

  /**
   * The version production runs according to the ledger: the newest release's version, or the
   * target of a successful rollback recorded after it. Undefined before the first release.
   * Failed attempts never change it: they never became a release.
   */
  async currentVersion(): Promise<string | undefined> {
    const entries = await this.history();
    for (const e of entries) {
      if (e.kind === 'RELEASE') return e.version;
      if (e.kind === 'ROLLBACK' && e.outcome === 'SUCCEEDED') return e.toVersion;
    }
    return undefined;
  }

  /** The release made before the given version (by release time), or undefined if it is the first. */
  async previousRelease(version: string): Promise<ReleaseRecord | undefined> {
    const v = normalizeVersion(version);
    const releases = await this.listReleases();
    const index = releases.findIndex((r) => r.version === v);
    if (index === -1) return undefined;
    return releases[index + 1];
  }

  private async queryPartition(pk: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

function entryTime(e: LedgerEntry): string {
  if (e.kind === 'RELEASE') return e.releasedAt;
  if (e.kind === 'FAILED') return e.detectedAt;
  return e.recordedAt;
}

/** The stored item without the ledger's own bookkeeping attributes (pk, sk, kind). */
function stripKeys(item: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...item };
  delete rest.pk;
  delete rest.sk;
  delete rest.kind;
  return rest;
}

function toRelease(item: Record<string, unknown>): ReleaseRecord {
  return stripKeys(item) as unknown as ReleaseRecord;
}

function toRollback(item: Record<string, unknown>): RollbackRecord {
  return stripKeys(item) as unknown as RollbackRecord;
}
