/**
 * The rollback pipeline's Resolve step: which version to put back, and is its archived cloud
 * assembly there and intact. Every failure throws a message that starts with `rollback: resolve:`
 * and says what to do; the handler reports it as the job's failure.
 */
import { createHash } from 'crypto';
import { Readable } from 'stream';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import {
  CREATED_PIPELINE_TRIGGER,
  NO_REASON,
  NO_VERSION_ID,
  readExecution,
  ResolveOutputs,
  ROLLBACK_VARIABLES,
} from '../../lib/release/rollback-execution';
import { resolveTarget, RollbackTarget, TargetError } from '../../lib/release/rollback-target';
import { ReleaseLedger, ReleaseRecord } from '../../lib/release/ledger';

export interface ResolveDeps {
  codepipeline: CodePipelineClient;
  s3: S3Client;
  ledger: ReleaseLedger;
}

export interface ResolveSettings {
  /** The rollback pipeline (its executions carry the variables). */
  pipelineName: string;
  /** The release archive bucket; the only bucket a rollback deploys from. */
  archiveBucket: string;
}

export class ResolveError extends Error {
  constructor(message: string) {
    super(`rollback: resolve: ${message}`);
    this.name = 'ResolveError';
  }
}

/** Streams the object and returns its hex SHA-256. */
async function sha256Of(body: unknown): Promise<string> {
  const hash = createHash('sha256');
  if (body instanceof Readable || (typeof body === 'object' && body !== null && Symbol.asyncIterator in body)) {
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) hash.update(chunk);
  } else if (body instanceof Uint8Array || typeof body === 'string') {
    hash.update(body);
  } else {
    throw new Error('the object has no readable body');
  }
  return hash.digest('hex');
}

function isNotFound(err: unknown): boolean {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode === 404 || err.name === 'NotFound' || err.name === 'NoSuchKey' || err.name === 'NoSuchVersion' : (err as Error)?.name === 'NotFound';
}

/** Checks the archived assembly exists and hashes to what the ledger recorded. */
export async function verifyArchive(s3: S3Client, archiveBucket: string, release: ReleaseRecord): Promise<void> {
  const { bucket, key, sha256, versionId } = release.artifact;
  const where = `s3://${bucket}/${key}${versionId ? ` (version ${versionId})` : ''}`;
  if (bucket !== archiveBucket) {
    throw new ResolveError(`the ledger says v${release.version} is archived in bucket ${bucket}, but rollbacks deploy only from the release archive ${archiveBucket}`);
  }
  const object = { Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) };
  try {
    await s3.send(new HeadObjectCommand(object));
  } catch (err) {
    if (isNotFound(err)) throw new ResolveError(`the archived cloud assembly of v${release.version} is missing: ${where} does not exist; choose another version`);
    throw new ResolveError(`could not read ${where}: ${(err as Error).message}`);
  }
  let actual: string;
  try {
    const out = await s3.send(new GetObjectCommand(object));
    actual = await sha256Of(out.Body);
  } catch (err) {
    throw new ResolveError(`could not read ${where}: ${(err as Error).message}`);
  }
  if (actual !== sha256) {
    throw new ResolveError(
      `the archived cloud assembly of v${release.version} is corrupt: ${where} has sha256 ${actual}, the ledger recorded ${sha256}; do not deploy it, choose another version`,
    );
  }
}

/** The whole step: read the execution's variables, pick the target, check its archive, export variables. */
export async function resolveRollback(
  deps: ResolveDeps,
  settings: ResolveSettings,
  executionId: string,
): Promise<{ summary: string; outputVariables: ResolveOutputs }> {
  if (!executionId) throw new ResolveError('the action parameters carry no pipeline execution id');
  const execution = await readExecution(deps.codepipeline, settings.pipelineName, executionId).catch((err: Error) => {
    throw new ResolveError(`could not read execution ${executionId} of ${settings.pipelineName}: ${err.message}`);
  });
  if (execution.triggerType === CREATED_PIPELINE_TRIGGER) {
    throw new ResolveError('this is the execution CodePipeline starts by itself when the pipeline is created; nothing is rolled back (start a rollback with npm run release -- rollback)');
  }
  const reason = (execution.variables[ROLLBACK_VARIABLES.reason] ?? '').trim();
  if (!reason || reason === NO_REASON) {
    throw new ResolveError('REASON is not set; start the rollback again with a reason (npm run release -- rollback --reason "...")');
  }
  let chosen: RollbackTarget;
  try {
    chosen = await resolveTarget(deps.ledger, execution.variables[ROLLBACK_VARIABLES.targetVersion] ?? '');
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    throw new ResolveError(err.problem === 'invalid-version' ? `TARGET_VERSION ${err.message}` : err.message);
  }
  const { fromVersion, target } = chosen;
  await verifyArchive(deps.s3, settings.archiveBucket, target);
  const a = target.artifact;
  return {
    summary: `Roll back prod from v${fromVersion} to v${target.version} (commit ${target.commit.slice(0, 12)}, released ${target.releasedAt}); archive s3://${a.bucket}/${a.key} intact (sha256 ${a.sha256.slice(0, 12)}...)`,
    outputVariables: {
      TARGET_VERSION: target.version,
      FROM_VERSION: fromVersion,
      TARGET_COMMIT: target.commit,
      ARTIFACT_BUCKET: a.bucket,
      ARTIFACT_KEY: a.key,
      ARTIFACT_VERSION_ID: a.versionId || NO_VERSION_ID,
      ARTIFACT_SHA256: a.sha256,
    },
  };
}
