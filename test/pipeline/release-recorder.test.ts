import { createServer, IncomingMessage, Server } from 'http';
import { AddressInfo } from 'net';
import { createHash } from 'crypto';
import { ActionExecutionDetail, CodePipelineClient, ListActionExecutionsCommand, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, GetObjectCommandOutput, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../lambda/release-recorder/index';
import { ReleaseLedger, ReleaseRecord } from '../../lib/release/ledger';
import { RunningDynalite, startDynalite } from '../support/dynalite';

// --- a local stand-in for the GitHub REST API, recording every request ---
interface Recorded {
  method: string;
  path: string;
  authorization?: string;
  body?: Record<string, unknown>;
}
let github: Server;
let githubUrl: string;
let requests: Recorded[] = [];
let refs: Record<string, string> = {};
let releases: Set<string> = new Set();
let githubToken = 'ghp_test_token';
const compareCommits = [
  { sha: '1111111aaaaaaa', commit: { message: 'Add note tags (#41)\n\nbody' } },
  { sha: '2222222bbbbbbb', commit: { message: 'Fix paging cursor' } },
];

async function readBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : undefined;
}

beforeAll(async () => {
  github = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = req.url ?? '';
    requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (req.headers.authorization !== `Bearer ${githubToken}`) return send(401, { message: 'Bad credentials' });
    const base = '/repos/example-org/notes';
    if (req.method === 'POST' && path === `${base}/git/refs`) {
      const ref = String(body?.ref);
      if (refs[ref]) return send(422, { message: 'Reference already exists' });
      refs[ref] = String(body?.sha);
      return send(201, { ref, object: { sha: body?.sha } });
    }
    if (req.method === 'GET' && path.startsWith(`${base}/git/ref/tags/`)) {
      const ref = `refs/tags/${decodeURIComponent(path.slice(`${base}/git/ref/tags/`.length))}`;
      return refs[ref] ? send(200, { ref, object: { sha: refs[ref] } }) : send(404, { message: 'Not Found' });
    }
    if (req.method === 'POST' && path === `${base}/releases`) {
      const tag = String(body?.tag_name);
      if (releases.has(tag)) return send(422, { message: 'Validation Failed', errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }] });
      releases.add(tag);
      return send(201, { html_url: `https://github.com/example-org/notes/releases/tag/${tag}` });
    }
    if (req.method === 'GET' && path.startsWith(`${base}/compare/`)) return send(200, { commits: compareCommits });
    return send(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => github.listen(0, '127.0.0.1', resolve));
  githubUrl = `http://127.0.0.1:${(github.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => github.close(() => resolve()));
});

// --- the ledger, for real, on dynalite ---
let db: RunningDynalite;
let ledgerTable: string;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db?.stop();
});

// --- the AWS control plane, mocked ---
const s3 = mockClient(S3Client);
const pipeline = mockClient(CodePipelineClient);
const secrets = mockClient(SecretsManagerClient);

const COMMIT = 'c0ffee1234567890c0ffee1234567890c0ffee12';
const EXECUTION = '7a1b2c3d-0000-4000-8000-000000000001';
const ASSEMBLY = Buffer.from('PK\u0003\u0004 pretend this is the cloud assembly zip');
const ASSEMBLY_SHA = createHash('sha256').update(ASSEMBLY).digest('hex');
const approvalTime = new Date('2025-03-01T10:00:00Z');

function jobEvent(version = '1.3.0') {
  return {
    'CodePipeline.job': {
      id: 'job-42',
      data: {
        actionConfiguration: { configuration: { UserParameters: JSON.stringify({ version, commit: COMMIT, executionId: EXECUTION }) } },
        inputArtifacts: [{ name: 'Assembly', location: { type: 'S3', s3Location: { bucketName: 'pipeline-artifacts', objectKey: 'notes-release/Assembly/abc.zip' } } }],
        artifactCredentials: { accessKeyId: 'AKIA_ARTIFACT', secretAccessKey: 'artifact-secret', sessionToken: 'artifact-session' },
      },
    },
  };
}

function preconditionFailed(): S3ServiceException {
  return new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 }, message: 'At least one of the pre-conditions you specified did not hold' });
}

function ledger(): ReleaseLedger {
  return new ReleaseLedger(db.documentClient, ledgerTable);
}

const previousRelease: ReleaseRecord = {
  version: '1.2.0',
  commit: 'aaaaaaa1111111',
  releasedAt: '2025-02-01T00:00:00.000Z',
  pipelineName: 'notes-release',
  pipelineExecutionId: 'exec-previous',
  artifact: { bucket: 'archive-bucket', key: 'releases/v1.2.0/cloud-assembly.zip', sha256: 'b'.repeat(64) },
  approvers: ['arn:aws:iam::123456789012:user/bob'],
  changeSummary: 'first',
  smokeSummary: 'passed',
};

function failureMessage(): string {
  const calls = pipeline.commandCalls(PutJobFailureResultCommand);
  expect(calls).toHaveLength(1);
  expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 0);
  return calls[0].args[0].input.failureDetails!.message!;
}

function notesWritten(): string {
  const put = s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === 'releases/v1.3.0/release-notes.md');
  expect(put).toBeDefined();
  return String(put!.args[0].input.Body);
}

/** What ListActionExecutions reports for the release execution: build, dev smoke, approval, prod smoke. */
const EXECUTION_HISTORY: ActionExecutionDetail[] = [
  {
    stageName: 'Build', actionName: 'Build', status: 'Succeeded', startTime: new Date('2025-03-01T09:00:00Z'),
    input: { actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' } },
    output: { outputVariables: { VERSION: '1.3.0', COMMIT, CHANGE_SUMMARY: '2 commits since v1.2.0: Add note tags (#41); Fix paging cursor', PR_URL: 'https://github.com/example-org/notes/pull/41' } },
  },
  {
    stageName: 'Dev', actionName: 'SmokeTest', status: 'Succeeded', startTime: new Date('2025-03-01T09:20:00Z'),
    input: { actionTypeId: { category: 'Invoke', owner: 'AWS', provider: 'Lambda', version: '1' } },
    output: { outputVariables: { SMOKE_RESULT: 'PASSED', SMOKE_SUMMARY: 'dev: 11/11 checks passed' } },
  },
  {
    stageName: 'ApproveProd', actionName: 'ApproveRelease', status: 'Succeeded', startTime: approvalTime,
    updatedBy: 'arn:aws:iam::123456789012:user/alice',
    input: { actionTypeId: { category: 'Approval', owner: 'AWS', provider: 'Manual', version: '1' } },
    output: { executionResult: { externalExecutionSummary: 'looks good' } },
  },
  {
    stageName: 'Prod', actionName: 'SmokeTest', status: 'Succeeded', startTime: new Date('2025-03-01T10:30:00Z'),
    input: { actionTypeId: { category: 'Invoke', owner: 'AWS', provider: 'Lambda', version: '1' } },
    output: { outputVariables: { SMOKE_RESULT: 'PASSED', SMOKE_SUMMARY: 'prod: 11/11 checks passed' } },
  },
];

beforeEach(async () => {
  requests = [];
  refs = {};
  releases = new Set();
  githubToken = 'ghp_test_token';
  ledgerTable = await db.createLedgerTable();
  await ledger().recordRelease(previousRelease);

  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    PIPELINE_NAME: 'notes-release',
    ARCHIVE_BUCKET: 'archive-bucket',
    LEDGER_TABLE: ledgerTable,
    GIT_TOKEN_SECRET_NAME: 'notes/release/git-token',
    REPO_OWNER: 'example-org',
    REPO_NAME: 'notes',
    GITHUB_API_URL: githubUrl,
    DYNAMODB_ENDPOINT: db.endpoint,
  });

  s3.reset();
  pipeline.reset();
  secrets.reset();
  s3.on(GetObjectCommand, { Bucket: 'pipeline-artifacts', Key: 'notes-release/Assembly/abc.zip' }).callsFake(() => ({
    // The SDK's streaming body, reduced to the one method the recorder uses.
    Body: { transformToByteArray: async () => new Uint8Array(ASSEMBLY) } as unknown as GetObjectCommandOutput['Body'],
  }));
  s3.on(PutObjectCommand).resolves({ VersionId: 'archive-version-1' });
  secrets.on(GetSecretValueCommand, { SecretId: 'notes/release/git-token' }).callsFake(() => ({ SecretString: JSON.stringify({ token: githubToken }) }));
  pipeline.on(PutJobSuccessResultCommand).resolves({});
  pipeline.on(PutJobFailureResultCommand).resolves({});
  pipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: EXECUTION_HISTORY });
});

describe('release recorder', () => {
  test('tags the commit, publishes notes, archives the assembly and records the release', async () => {
    await handler(jobEvent());

    // the tag: exactly this request, with the token from Secrets Manager
    const tagCall = requests.find((r) => r.method === 'POST' && r.path === '/repos/example-org/notes/git/refs');
    expect(tagCall).toEqual({ method: 'POST', path: '/repos/example-org/notes/git/refs', authorization: 'Bearer ghp_test_token', body: { ref: 'refs/tags/v1.3.0', sha: COMMIT } });
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: 'notes/release/git-token' });
    // the archive: the pipeline's artifact, byte for byte, written once under releases/v1.3.0/
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'archive-bucket',
      Key: 'releases/v1.3.0/cloud-assembly.zip',
      Body: ASSEMBLY,
      IfNoneMatch: '*',
      Metadata: { version: '1.3.0', commit: COMMIT, 'pipeline-execution-id': EXECUTION, sha256: ASSEMBLY_SHA },
    });
    // the notes: everything an auditor needs
    const notes = notesWritten();
    expect(notes).toContain('# Release v1.3.0');
    expect(notes).toContain(`https://github.com/example-org/notes/commit/${COMMIT}`);
    expect(notes).toContain('Pull request: https://github.com/example-org/notes/pull/41');
    expect(notes).toContain(`execution ${EXECUTION}`);
    expect(notes).toContain('## Changes since v1.2.0');
    expect(notes).toContain('- Add note tags (#41) (1111111)');
    expect(notes).toContain('- ApproveProd/ApproveRelease: arn:aws:iam::123456789012:user/alice ("looks good")');
    expect(notes).toContain('- Dev: dev: 11/11 checks passed');
    expect(notes).toContain('- Prod: prod: 11/11 checks passed');
    expect(notes).toContain(`sha256 ${ASSEMBLY_SHA}`);
    expect(requests.find((r) => r.path === '/repos/example-org/notes/compare/v1.2.0...' + COMMIT)).toBeDefined();
    const releaseCall = requests.find((r) => r.method === 'POST' && r.path === '/repos/example-org/notes/releases');
    expect(releaseCall?.body).toEqual({ tag_name: 'v1.3.0', target_commitish: COMMIT, name: 'v1.3.0', body: notes, draft: false, prerelease: false });
    // the ledger: the immutable record the rollback reads
    const record = await ledger().getRelease('1.3.0');
    expect(record).toEqual(
      expect.objectContaining({
        version: '1.3.0',
        commit: COMMIT,
        pipelineName: 'notes-release',
        pipelineExecutionId: EXECUTION,
        artifact: { bucket: 'archive-bucket', key: 'releases/v1.3.0/cloud-assembly.zip', sha256: ASSEMBLY_SHA, versionId: 'archive-version-1' },
        approvers: ['arn:aws:iam::123456789012:user/alice'],
        pullRequestUrl: 'https://github.com/example-org/notes/pull/41',
        smokeSummary: 'Dev: dev: 11/11 checks passed | Prod: prod: 11/11 checks passed',
      }),
    );
    // the job: one success with the release's coordinates
    expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 1);
    expect(pipeline).toHaveReceivedCommandWith(PutJobSuccessResultCommand, {
      jobId: 'job-42',
      outputVariables: expect.objectContaining({ TAG: 'v1.3.0', ARCHIVE_KEY: 'releases/v1.3.0/cloud-assembly.zip', SHA256: ASSEMBLY_SHA }),
    });
    expect(pipeline).toHaveReceivedCommandWith(ListActionExecutionsCommand, { pipelineName: 'notes-release', filter: { pipelineExecutionId: EXECUTION } });
  });

  test("records each deploy stage's CodeDeploy deployment id and outcome in the ledger and the release notes", async () => {
    const deploy = (stageName: string, id: string, outcome: string): ActionExecutionDetail => ({
      stageName, actionName: 'Deploy', status: 'Succeeded', startTime: new Date('2025-03-01T09:10:00Z'),
      input: { actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' } },
      output: { outputVariables: { STACK_NAME: `NotesStack-${stageName.toLowerCase()}`, CODEDEPLOY_DEPLOYMENT_ID: id, CODEDEPLOY_OUTCOME: outcome } },
    });
    pipeline.on(ListActionExecutionsCommand).resolves({
      actionExecutionDetails: [EXECUTION_HISTORY[0], deploy('Dev', 'd-DEV0000001', 'Succeeded'), ...EXECUTION_HISTORY.slice(1, 3), deploy('Prod', 'd-PROD000002', 'Succeeded'), EXECUTION_HISTORY[3]],
    });

    await handler(jobEvent());

    expect((await ledger().getRelease('1.3.0'))?.trafficShifts).toEqual([
      { stage: 'Dev', deploymentId: 'd-DEV0000001', outcome: 'Succeeded' },
      { stage: 'Prod', deploymentId: 'd-PROD000002', outcome: 'Succeeded' },
    ]);
    const notes = notesWritten();
    expect(notes).toContain('## Traffic shift (CodeDeploy)');
    expect(notes).toContain('- Prod: deployment d-PROD000002, Succeeded');
    expect(notes).toContain('- Dev: deployment d-DEV0000001, Succeeded');
  });

  test('a release whose deploys exported no CodeDeploy deployment (an assembly from before #13) records none, as before', async () => {
    await handler(jobEvent());

    expect((await ledger().getRelease('1.3.0'))?.trafficShifts).toBeUndefined();
    expect(notesWritten()).toContain('## Traffic shift (CodeDeploy)\n\n- none recorded');
  });

  test('an approval rejected and then, after a retry, approved: only the approver is named, in the notes and the ledger', async () => {
    const rejected: ActionExecutionDetail = {
      stageName: 'ApproveProd', actionName: 'ApproveRelease', status: 'Failed', startTime: new Date('2025-03-01T09:40:00Z'),
      updatedBy: 'arn:aws:iam::123456789012:user/bob',
      input: { actionTypeId: { category: 'Approval', owner: 'AWS', provider: 'Manual', version: '1' } },
      output: { executionResult: { externalExecutionSummary: 'not yet: changelog missing' } },
    };
    pipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [...EXECUTION_HISTORY.slice(0, 2), rejected, ...EXECUTION_HISTORY.slice(2)] });

    await handler(jobEvent());

    expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 1);
    const notes = notesWritten();
    expect(notes).toContain('- ApproveProd/ApproveRelease: arn:aws:iam::123456789012:user/alice ("looks good")');
    expect(notes).not.toContain('user/bob');
    expect((await ledger().getRelease('1.3.0'))?.approvers).toEqual(['arn:aws:iam::123456789012:user/alice']);
  });

  test('a retried step of the same execution completes without duplicating anything', async () => {
    await handler(jobEvent());
    pipeline.resetHistory();
    s3.resetHistory();
    s3.on(PutObjectCommand, { Key: 'releases/v1.3.0/cloud-assembly.zip' }).rejects(preconditionFailed());
    s3.on(HeadObjectCommand).resolves({ Metadata: { sha256: ASSEMBLY_SHA }, VersionId: 'archive-version-1' });

    await handler(jobEvent());

    expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 1);
    // The notes written again still describe the changes since the previous release, not since this one.
    expect(notesWritten()).toContain('## Changes since v1.2.0');
    expect(pipeline).toHaveReceivedCommandWith(PutJobSuccessResultCommand, { outputVariables: expect.objectContaining({ TAG: 'v1.3.0' }) });
    expect((await ledger().listReleases()).map((r) => r.version)).toEqual(['1.3.0', '1.2.0']);
  });

  test('fails naming the tag step when the tag exists on another commit, and records nothing', async () => {
    refs['refs/tags/v1.3.0'] = 'deadbeefdeadbeef';

    await handler(jobEvent());

    expect(failureMessage()).toBe(`release: tag: tag v1.3.0 already exists at deadbeefdeadbeef, not at ${COMMIT}`);
    expect(await ledger().getRelease('1.3.0')).toBeUndefined();
  });

  test('fails naming the archive step when a different assembly is already archived for the version', async () => {
    s3.on(PutObjectCommand, { Key: 'releases/v1.3.0/cloud-assembly.zip' }).rejects(preconditionFailed());
    s3.on(HeadObjectCommand).resolves({ Metadata: { sha256: 'f'.repeat(64) } });

    await handler(jobEvent());

    expect(failureMessage()).toMatch(/^release: archive: s3:\/\/archive-bucket\/releases\/v1\.3\.0\/cloud-assembly\.zip already exists with different content/);
    expect(requests.filter((r) => r.path.endsWith('/git/refs'))).toHaveLength(0);
    expect(await ledger().getRelease('1.3.0')).toBeUndefined();
  });

  test('fails naming the tag step when GitHub refuses the token', async () => {
    githubToken = 'rotated';
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'ghp_stale' });

    await handler(jobEvent());

    expect(failureMessage()).toBe('release: tag: creating tag v1.3.0: GitHub answered 401 (Bad credentials)');
  });

  test('fails naming the ledger step when another execution already released the version', async () => {
    await ledger().recordRelease({ ...previousRelease, version: '1.3.0', pipelineExecutionId: 'exec-other', artifact: { ...previousRelease.artifact, key: 'releases/v1.3.0/cloud-assembly.zip' } });

    await handler(jobEvent());

    expect(failureMessage()).toMatch(/^release: ledger: version 1\.3\.0 is already released by execution exec-other .*nothing was tagged or archived$/);
    expect(requests).toHaveLength(0);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 0);
  });

  test('fails naming the parameters when the commit is not a SHA', async () => {
    const event = jobEvent();
    event['CodePipeline.job'].data.actionConfiguration.configuration.UserParameters = JSON.stringify({ version: '1.3.0', commit: 'main', executionId: EXECUTION });

    await handler(event);

    expect(failureMessage()).toBe('release: parameters: commit "main" is not a git SHA');
  });
});
