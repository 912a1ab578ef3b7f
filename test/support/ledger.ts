/**
 * Shared by the ledger, rollback and CLI tests: a release ledger on dynalite (a real DynamoDB
 * over HTTP on loopback) and release records shaped like the release recorder writes them.
 */
import { createHash } from 'crypto';
import { FailedAttemptRecord, ReleaseLedger, ReleaseRecord, RollbackRecord } from '../../lib/release/ledger';
import { RunningDynalite } from './dynalite';

export const ARCHIVE_BUCKET = 'notes-archive-bucket';

/** Creates an empty ledger table and returns the ledger on it. */
export async function newLedger(db: RunningDynalite): Promise<{ ledger: ReleaseLedger; tableName: string }> {
  const tableName = await db.createLedgerTable();
  return { ledger: new ReleaseLedger(db.documentClient, tableName), tableName };
}

/** The bytes of a release's archived assembly (any content; only its hash matters). */
export function assemblyBytes(version: string): Buffer {
  return Buffer.from(`cloud assembly of ${version}`);
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function releaseRecord(version: string, releasedAt: string, overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    version,
    commit: `${version.replace(/\./g, '')}aaaaaaa`.slice(0, 10).padEnd(12, 'b'),
    releasedAt,
    pipelineName: 'notes-release',
    pipelineExecutionId: `exec-${version}`,
    artifact: { bucket: ARCHIVE_BUCKET, key: `releases/v${version}/cloud-assembly.zip`, sha256: sha256(assemblyBytes(version)), versionId: `ver-${version}` },
    approvers: ['arn:aws:iam::123456789012:user/alice'],
    changeSummary: `changes in ${version}`,
    smokeSummary: 'prod: 11/11 checks passed',
    ...overrides,
  };
}

export function rollbackRecord(fromVersion: string, toVersion: string, recordedAt: string, outcome: RollbackRecord['outcome'] = 'SUCCEEDED'): RollbackRecord {
  return {
    fromVersion,
    toVersion,
    reason: 'errors after release',
    requestedBy: 'arn:aws:sts::123456789012:assumed-role/ops/bob',
    pipelineExecutionId: `rb-${recordedAt}`,
    recordedAt,
    outcome,
  };
}

/** Ledger with releases 1.0.0, 1.1.0, 1.2.0 (prod runs 1.2.0). */
export async function threeReleases(ledger: ReleaseLedger): Promise<void> {
  await ledger.recordRelease(releaseRecord('1.0.0', '2026-01-10T10:00:00.000Z'));
  await ledger.recordRelease(releaseRecord('1.1.0', '2026-02-10T10:00:00.000Z'));
  await ledger.recordRelease(releaseRecord('1.2.0', '2026-03-10T10:00:00.000Z'));
}

/** A failed prod attempt shaped like the failure recorder writes it (stage rolled back unless `rollback: null`). */
export function failedAttemptRecord(version: string, detectedAt: string, overrides: Partial<FailedAttemptRecord> = {}): FailedAttemptRecord {
  const finishedAt = new Date(Date.parse(detectedAt) + 10 * 60_000).toISOString();
  return {
    version,
    commit: `${version.replace(/\./g, '')}fffffff`.slice(0, 10).padEnd(12, 'e'),
    pipelineName: 'notes-release',
    pipelineExecutionId: `failed-${version}-${detectedAt}`,
    stageName: 'Prod',
    failedAction: 'SmokeTest',
    failureMessage: 'smoke: 10/11 checks passed; GET /notes/{id} answered 500',
    detectedAt,
    rollback: { executionId: `rollback-of-${version}`, outcome: 'SUCCEEDED', finishedAt },
    recordedAt: finishedAt,
    ...overrides,
  };
}
