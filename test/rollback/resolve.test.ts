import { Readable } from 'stream';
import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  ListActionExecutionsCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, GetObjectCommandOutput, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../lambda/rollback-resolve/index';
import { ReleaseLedger } from '../../lib/release/ledger';
import { RunningDynalite, startDynalite } from '../support/dynalite';
import { ARCHIVE_BUCKET, assemblyBytes, newLedger, releaseRecord, rollbackRecord, sha256, threeReleases } from '../support/ledger';

const pipeline = mockClient(CodePipelineClient);
const s3 = mockClient(S3Client);
const EXECUTION = 'rb-exec-1';

let db: RunningDynalite;
let ledger: ReleaseLedger;

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.stop();
});

function jobEvent(userParameters = JSON.stringify({ executionId: EXECUTION })) {
  return { 'CodePipeline.job': { id: 'job-7', data: { actionConfiguration: { configuration: { UserParameters: userParameters } } } } };
}

function startedWith(variables: Record<string, string>): void {
  pipeline.on(GetPipelineExecutionCommand, { pipelineName: 'notes-rollback', pipelineExecutionId: EXECUTION }).resolves({
    pipelineExecution: {
      pipelineName: 'notes-rollback',
      pipelineExecutionId: EXECUTION,
      status: 'InProgress',
      variables: Object.entries(variables).map(([name, resolvedValue]) => ({ name, resolvedValue })),
      trigger: { triggerType: 'StartPipelineExecution', triggerDetail: 'arn:aws:sts::123456789012:assumed-role/ops/bob' },
    },
  });
}

/** The archive holds each release's assembly under its recorded version id. */
function archiveHolds(versions: string[], content: (v: string) => Buffer = assemblyBytes): void {
  for (const v of versions) {
    const object = { Bucket: ARCHIVE_BUCKET, Key: `releases/v${v}/cloud-assembly.zip`, VersionId: `ver-${v}` };
    s3.on(HeadObjectCommand, object).resolves({ ContentLength: content(v).length, VersionId: `ver-${v}` });
    s3.on(GetObjectCommand, object).callsFake(() => ({ Body: Readable.from([content(v)]) as unknown as GetObjectCommandOutput['Body'] }));
  }
}

function failureMessage(): string {
  expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 0);
  const calls = pipeline.commandCalls(PutJobFailureResultCommand);
  expect(calls).toHaveLength(1);
  expect(calls[0].args[0].input.jobId).toBe('job-7');
  return calls[0].args[0].input.failureDetails!.message!;
}

function successOutputs(): Record<string, string> {
  expect(pipeline).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 0);
  const calls = pipeline.commandCalls(PutJobSuccessResultCommand);
  expect(calls).toHaveLength(1);
  expect(calls[0].args[0].input.jobId).toBe('job-7');
  return calls[0].args[0].input.outputVariables!;
}

beforeEach(async () => {
  pipeline.reset();
  s3.reset();
  pipeline.on(PutJobSuccessResultCommand).resolves({});
  pipeline.on(PutJobFailureResultCommand).resolves({});
  pipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [] });
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const created = await newLedger(db);
  ledger = created.ledger;
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    PIPELINE_NAME: 'notes-rollback',
    ARCHIVE_BUCKET,
    LEDGER_TABLE: created.tableName,
    DYNAMODB_ENDPOINT: db.endpoint,
  });
});

describe('rollback Resolve step', () => {
  test('without a target, resolves the release before the one prod runs and exports where its archive is', async () => {
    await threeReleases(ledger);
    archiveHolds(['1.1.0']);
    startedWith({ TARGET_VERSION: 'previous', REASON: 'errors after 1.2.0', REQUESTED_BY: 'arn:aws:sts::123456789012:assumed-role/ops/bob' });

    await handler(jobEvent());

    const rec = releaseRecord('1.1.0', '2026-02-10T10:00:00.000Z');
    expect(successOutputs()).toEqual({
      TARGET_VERSION: '1.1.0',
      FROM_VERSION: '1.2.0',
      TARGET_COMMIT: rec.commit,
      ARTIFACT_BUCKET: ARCHIVE_BUCKET,
      ARTIFACT_KEY: 'releases/v1.1.0/cloud-assembly.zip',
      ARTIFACT_VERSION_ID: 'ver-1.1.0',
      ARTIFACT_SHA256: sha256(assemblyBytes('1.1.0')),
    });
    // The archive was checked: exists (HEAD) and hashed (GET), that exact object version.
    const object = { Bucket: ARCHIVE_BUCKET, Key: 'releases/v1.1.0/cloud-assembly.zip', VersionId: 'ver-1.1.0' };
    expect(s3).toHaveReceivedCommandWith(HeadObjectCommand, object);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, object);
  });

  test('an explicit target with a v prefix is accepted and exported without it', async () => {
    await threeReleases(ledger);
    archiveHolds(['1.0.0']);
    startedWith({ TARGET_VERSION: 'v1.0.0', REASON: 'bad data migration', REQUESTED_BY: 'unknown' });

    await handler(jobEvent());

    expect(successOutputs()).toMatchObject({ TARGET_VERSION: '1.0.0', FROM_VERSION: '1.2.0' });
  });

  test('after a rollback to 1.1.0, "previous" means the release before 1.1.0', async () => {
    await threeReleases(ledger);
    await ledger.recordRollback(rollbackRecord('1.2.0', '1.1.0', '2026-03-11T10:00:00.000Z'));
    archiveHolds(['1.0.0']);
    startedWith({ TARGET_VERSION: 'previous', REASON: 'still broken' });

    await handler(jobEvent());

    expect(successOutputs()).toMatchObject({ TARGET_VERSION: '1.0.0', FROM_VERSION: '1.1.0' });
  });

  test('an archive recorded without an S3 version id is read as the current object and exported as "none"', async () => {
    await ledger.recordRelease(releaseRecord('1.0.0', '2026-01-10T10:00:00.000Z', { artifact: { ...releaseRecord('1.0.0', 'x').artifact, versionId: undefined } }));
    await ledger.recordRelease(releaseRecord('1.1.0', '2026-02-10T10:00:00.000Z'));
    const object = { Bucket: ARCHIVE_BUCKET, Key: 'releases/v1.0.0/cloud-assembly.zip' };
    s3.on(HeadObjectCommand).resolves({});
    s3.on(GetObjectCommand).callsFake(() => ({ Body: Readable.from([assemblyBytes('1.0.0')]) as unknown as GetObjectCommandOutput['Body'] }));
    startedWith({ TARGET_VERSION: 'previous', REASON: 'errors' });

    await handler(jobEvent());

    expect(successOutputs()).toMatchObject({ TARGET_VERSION: '1.0.0', ARTIFACT_VERSION_ID: 'none' });
    expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toEqual(object);
  });

  test('a version that was never released fails, listing the versions that were', async () => {
    await threeReleases(ledger);
    startedWith({ TARGET_VERSION: '9.9.9', REASON: 'errors' });

    await handler(jobEvent());

    expect(failureMessage()).toBe('rollback: resolve: v9.9.9 was never released (not in the release ledger); choose one of: v1.2.0, v1.1.0, v1.0.0');
    expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 0);
  });

  test('a target that is not a version fails naming the variable', async () => {
    await threeReleases(ledger);
    startedWith({ TARGET_VERSION: 'last-good', REASON: 'errors' });

    await handler(jobEvent());

    expect(failureMessage()).toBe('rollback: resolve: TARGET_VERSION "last-good" is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.4.2)');
  });

  test('the version prod already runs is refused', async () => {
    await threeReleases(ledger);
    startedWith({ TARGET_VERSION: '1.2.0', REASON: 'errors' });

    await handler(jobEvent());

    expect(failureMessage()).toBe('rollback: resolve: prod already runs v1.2.0 according to the release ledger; nothing to roll back');
  });

  test('with only one release there is nothing earlier to roll back to', async () => {
    await ledger.recordRelease(releaseRecord('1.0.0', '2026-01-10T10:00:00.000Z'));
    startedWith({ TARGET_VERSION: 'previous', REASON: 'errors' });

    await handler(jobEvent());

    expect(failureMessage()).toBe('rollback: resolve: prod runs v1.0.0, the first recorded release; there is no earlier release to roll back to');
  });

  test('an empty ledger fails with a message saying so', async () => {
    startedWith({ TARGET_VERSION: 'previous', REASON: 'errors' });

    await handler(jobEvent());

    expect(failureMessage()).toBe('rollback: resolve: the release ledger has no release yet, so there is nothing to roll back to');
  });

  test('a missing archived assembly fails naming the object', async () => {
    await threeReleases(ledger);
    s3.on(HeadObjectCommand).rejects(new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'Not Found' }));
    startedWith({ TARGET_VERSION: 'previous', REASON: 'errors' });

    await handler(jobEvent());

    expect(failureMessage()).toBe(
      `rollback: resolve: the archived cloud assembly of v1.1.0 is missing: s3://${ARCHIVE_BUCKET}/releases/v1.1.0/cloud-assembly.zip (version ver-1.1.0) does not exist; choose another version`,
    );
  });

  test('an archived assembly whose bytes changed fails, naming both hashes', async () => {
    await threeReleases(ledger);
    archiveHolds(['1.1.0'], () => Buffer.from('tampered'));
    startedWith({ TARGET_VERSION: 'previous', REASON: 'errors' });

    await handler(jobEvent());

    expect(failureMessage()).toBe(
      `rollback: resolve: the archived cloud assembly of v1.1.0 is corrupt: s3://${ARCHIVE_BUCKET}/releases/v1.1.0/cloud-assembly.zip (version ver-1.1.0) has sha256 ${sha256(Buffer.from('tampered'))}, the ledger recorded ${sha256(assemblyBytes('1.1.0'))}; do not deploy it, choose another version`,
    );
  });

  test('an archive outside the release archive bucket is refused', async () => {
    await ledger.recordRelease(releaseRecord('1.0.0', '2026-01-10T10:00:00.000Z', { artifact: { bucket: 'someone-elses-bucket', key: 'x.zip', sha256: 'a'.repeat(64) } }));
    await ledger.recordRelease(releaseRecord('1.1.0', '2026-02-10T10:00:00.000Z'));
    startedWith({ TARGET_VERSION: 'previous', REASON: 'errors' });

    await handler(jobEvent());

    expect(failureMessage()).toMatch(/^rollback: resolve: the ledger says v1.0.0 is archived in bucket someone-elses-bucket, but rollbacks deploy only from the release archive/);
    expect(s3).toHaveReceivedCommandTimes(HeadObjectCommand, 0);
  });

  test('a rollback started without a reason is refused before anything is read from the archive', async () => {
    await threeReleases(ledger);
    startedWith({ TARGET_VERSION: 'previous', REASON: 'none given' });

    await handler(jobEvent());

    expect(failureMessage()).toBe('rollback: resolve: REASON is not set; start the rollback again with a reason (npm run release -- rollback --reason "...")');
    expect(s3).toHaveReceivedCommandTimes(HeadObjectCommand, 0);
  });

  test('when the execution cannot be read, the job fails once with the cause', async () => {
    pipeline.on(GetPipelineExecutionCommand).rejects(Object.assign(new Error('User is not authorized to perform codepipeline:GetPipelineExecution'), { name: 'AccessDeniedException' }));

    await expect(handler(jobEvent())).resolves.toBeUndefined();

    expect(failureMessage()).toBe('rollback: resolve: could not read execution rb-exec-1 of notes-rollback: User is not authorized to perform codepipeline:GetPipelineExecution');
  });

  test('broken UserParameters fail the job naming the step', async () => {
    await handler(jobEvent('{"executionId":'));

    expect(failureMessage()).toMatch(/^rollback: resolve: parameters: UserParameters are not JSON/);
  });
});

describe('the execution CodePipeline starts by itself when the pipeline is created', () => {
  test('is refused without touching the ledger or the archive', async () => {
    await threeReleases(ledger);
    pipeline.on(GetPipelineExecutionCommand).resolves({
      pipelineExecution: {
        status: 'InProgress',
        variables: [{ name: 'TARGET_VERSION', resolvedValue: 'previous' }, { name: 'REASON', resolvedValue: 'none given' }],
        trigger: { triggerType: 'CreatePipeline', triggerDetail: 'arn:aws:sts::123456789012:assumed-role/cfn-exec/AWSCloudFormation' },
      },
    });

    await handler(jobEvent());

    expect(failureMessage()).toBe(
      'rollback: resolve: this is the execution CodePipeline starts by itself when the pipeline is created; nothing is rolled back (start a rollback with npm run release -- rollback)',
    );
    expect(s3).toHaveReceivedCommandTimes(HeadObjectCommand, 0);
  });
});
