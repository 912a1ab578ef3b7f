import { createHash } from 'crypto';
import { ActionExecutionDetail, CodePipelineClient, ListActionExecutionsCommand, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, GetObjectCommandOutput, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { strToU8, zipSync } from 'fflate';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../lambda/release-recorder/index';
import { ReleaseLedger, ReleaseRecord } from '../../lib/release/ledger';
import { RunningDynalite, startDynalite } from '../support/dynalite';
import { GitHubStandIn, startGitHubStandIn } from '../support/github-stand-in';

// --- a local stand-in for the GitHub REST API, recording every request (test/support) ---
let gh: GitHubStandIn;
const compareCommits = [
  { sha: '1111111aaaaaaa', commit: { message: 'Add note tags (#41)\n\nbody' } },
  { sha: '2222222bbbbbbb', commit: { message: 'Fix paging cursor' } },
];
beforeAll(async () => {
  gh = await startGitHubStandIn('example-org', 'notes');
});
afterAll(async () => {
  await gh.close();
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
  gh.reset();
  gh.state.compareCommits = compareCommits;
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
    GITHUB_API_URL: gh.url,
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
  secrets.on(GetSecretValueCommand, { SecretId: 'notes/release/git-token' }).callsFake(() => ({ SecretString: JSON.stringify({ token: gh.state.token }) }));
  pipeline.on(PutJobSuccessResultCommand).resolves({});
  pipeline.on(PutJobFailureResultCommand).resolves({});
  pipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: EXECUTION_HISTORY });
});

describe('release recorder', () => {
  test('tags the commit, publishes notes, archives the assembly and records the release', async () => {
    await handler(jobEvent());

    // the tag: exactly this request, with the token from Secrets Manager
    const tagCall = gh.requests.find((r) => r.method === 'POST' && r.path === '/repos/example-org/notes/git/refs');
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
    expect(gh.requests.find((r) => r.path === '/repos/example-org/notes/compare/v1.2.0...' + COMMIT)).toBeDefined();
    const releaseCall = gh.requests.find((r) => r.method === 'POST' && r.path === '/repos/example-org/notes/releases');
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

  test('names the pull request\'s approvers and the build\'s known issues in the notes and the ledger', async () => {
    const warning = 'architecture files changed since v1.2.0 (lib/pipeline/steps.ts) but docs/01-decision-log.md did not';
    const build = EXECUTION_HISTORY[0];
    const withGate: ActionExecutionDetail = { ...build, output: { outputVariables: { ...build.output!.outputVariables, PR_APPROVERS: 'carol, dave', KNOWN_ISSUES: warning } } };
    pipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [withGate, ...EXECUTION_HISTORY.slice(1)] });

    await handler(jobEvent());

    expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 1);
    const notes = notesWritten();
    expect(notes).toContain('- Pull request: https://github.com/example-org/notes/pull/41\n- Pull request approved by: carol, dave\n');
    expect(notes).toContain(`## Known issues\n\n- ${warning}\n`);
    expect(await ledger().getRelease('1.3.0')).toEqual(expect.objectContaining({ pullRequestApprovers: ['carol', 'dave'], knownIssues: [warning] }));
  });

  test('without known issues the notes say none, and a hotfix whose approvers are unknown records none', async () => {
    const build = EXECUTION_HISTORY[0];
    const hotfix: ActionExecutionDetail = { ...build, output: { outputVariables: { ...build.output!.outputVariables, PR_URL: 'none', PR_APPROVERS: 'unknown', KNOWN_ISSUES: 'none' } } };
    pipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [hotfix, ...EXECUTION_HISTORY.slice(1)] });

    await handler(jobEvent());

    const notes = notesWritten();
    expect(notes).toContain('- Pull request: none recorded\n- Pipeline:');
    expect(notes).toContain('## Known issues\n\n- none recorded\n');
    const record = await ledger().getRelease('1.3.0');
    expect(record).toBeDefined();
    expect(record).not.toHaveProperty('pullRequestApprovers');
    expect(record).not.toHaveProperty('knownIssues');
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
    gh.state.refs['refs/tags/v1.3.0'] = 'deadbeefdeadbeef';

    await handler(jobEvent());

    expect(failureMessage()).toBe(`release: tag: tag v1.3.0 already exists at deadbeefdeadbeef, not at ${COMMIT}`);
    expect(await ledger().getRelease('1.3.0')).toBeUndefined();
  });

  test('fails naming the archive step when a different assembly is already archived for the version', async () => {
    s3.on(PutObjectCommand, { Key: 'releases/v1.3.0/cloud-assembly.zip' }).rejects(preconditionFailed());
    s3.on(HeadObjectCommand).resolves({ Metadata: { sha256: 'f'.repeat(64) } });

    await handler(jobEvent());

    expect(failureMessage()).toMatch(/^release: archive: s3:\/\/archive-bucket\/releases\/v1\.3\.0\/cloud-assembly\.zip already exists with different content/);
    expect(gh.requests.filter((r) => r.path.endsWith('/git/refs'))).toHaveLength(0);
    expect(await ledger().getRelease('1.3.0')).toBeUndefined();
  });

  test('fails naming the tag step when GitHub refuses the token', async () => {
    gh.state.token = 'rotated';
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'ghp_stale' });

    await handler(jobEvent());

    expect(failureMessage()).toBe('release: tag: creating tag v1.3.0: GitHub answered 401 (Bad credentials)');
  });

  test('fails naming the ledger step when another execution already released the version', async () => {
    await ledger().recordRelease({ ...previousRelease, version: '1.3.0', pipelineExecutionId: 'exec-other', artifact: { ...previousRelease.artifact, key: 'releases/v1.3.0/cloud-assembly.zip' } });

    await handler(jobEvent());

    expect(failureMessage()).toMatch(/^release: ledger: version 1\.3\.0 is already released by execution exec-other .*nothing was tagged or archived$/);
    expect(gh.requests).toHaveLength(0);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 0);
  });

  test('fails naming the parameters when the commit is not a SHA', async () => {
    const event = jobEvent();
    event['CodePipeline.job'].data.actionConfiguration.configuration.UserParameters = JSON.stringify({ version: '1.3.0', commit: 'main', executionId: EXECUTION });

    await handler(event);

    expect(failureMessage()).toBe('release: parameters: commit "main" is not a git SHA');
  });

  test('the build\'s commit times go into the ledger record; a build without them records none', async () => {
    const commitTimes = { releaseCommitAt: '2025-03-01T08:00:00.000Z', commits: ['2025-03-01T08:00:00.000Z', '2025-02-27T16:00:00.000Z'], truncated: false };
    const build = EXECUTION_HISTORY[0];
    const withTimes = { ...build, output: { outputVariables: { ...build.output!.outputVariables, COMMIT_TIMES: JSON.stringify(commitTimes) } } };
    pipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [withTimes, ...EXECUTION_HISTORY.slice(1)] });

    await handler(jobEvent());

    expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 1);
    expect((await ledger().getRelease('1.3.0'))?.commitTimes).toEqual(commitTimes);
    expect((await ledger().getRelease('1.2.0'))?.commitTimes).toBeUndefined();
  });
});

describe('release recorder: the prod plan the approvers saw', () => {
  const PLAN_JSON = JSON.stringify({ summary: 'plan: 0 added, 2 modified, 0 removed, 0 replaced; IAM: no changes' }, null, 2) + '\n';
  const PLAN_MD = '# Plan for NotesStack-prod\n\n**plan: 0 added, 2 modified, 0 removed, 0 replaced; IAM: no changes**\n';
  const PLAN_SHA = createHash('sha256').update(PLAN_JSON).digest('hex');
  const planZip = Buffer.from(zipSync({ 'plan.md': strToU8(PLAN_MD), 'plan.json': strToU8(PLAN_JSON) }));

  function withPlan(reportedSha: string) {
    const event = jobEvent();
    event['CodePipeline.job'].data.inputArtifacts.push({ name: 'Plan', location: { type: 'S3', s3Location: { bucketName: 'pipeline-artifacts', objectKey: 'notes-release/Plan/def.zip' } } });
    s3.on(GetObjectCommand, { Bucket: 'pipeline-artifacts', Key: 'notes-release/Plan/def.zip' }).callsFake(() => ({
      Body: { transformToByteArray: async () => new Uint8Array(planZip) } as unknown as GetObjectCommandOutput['Body'],
    }));
    pipeline.on(ListActionExecutionsCommand).resolves({
      actionExecutionDetails: [
        ...EXECUTION_HISTORY,
        {
          stageName: 'PlanProd', actionName: 'Plan', status: 'Succeeded', startTime: new Date('2025-03-01T09:40:00Z'),
          input: { actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' } },
          output: { outputVariables: { PLAN_SUMMARY: 'plan: 0 added, 2 modified, 0 removed, 0 replaced; IAM: no changes', PLAN_SHA256: reportedSha } },
        },
      ],
    });
    return event;
  }

  test('archives plan.md and plan.json beside the assembly; notes and ledger carry the summary and the hash', async () => {
    await handler(withPlan(PLAN_SHA));

    expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 1);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'pipeline-artifacts', Key: 'notes-release/Plan/def.zip' });
    for (const [key, body] of [['releases/v1.3.0/plan.md', PLAN_MD], ['releases/v1.3.0/plan.json', PLAN_JSON]]) {
      const put = s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === key);
      expect(put).toBeDefined();
      expect(Buffer.from(put!.args[0].input.Body as Buffer).toString('utf8')).toBe(body);
      expect(put!.args[0].input.IfNoneMatch).toBe('*');
    }
    expect(notesWritten()).toContain(`- Prod plan: plan: 0 added, 2 modified, 0 removed, 0 replaced; IAM: no changes (s3://archive-bucket/releases/v1.3.0/plan.md, plan.json sha256 ${PLAN_SHA})`);
    expect(await ledger().getRelease('1.3.0')).toEqual(
      expect.objectContaining({ planSummary: 'plan: 0 added, 2 modified, 0 removed, 0 replaced; IAM: no changes', planSha256: PLAN_SHA }),
    );
  });

  test('a plan artifact whose plan.json is not what the Plan step hashed fails the release before the ledger is written', async () => {
    await handler(withPlan('0'.repeat(64)));

    expect(failureMessage()).toBe(`release: plan: the plan artifact's plan.json has sha256 ${PLAN_SHA}, but the Plan step reported ${'0'.repeat(64)}`);
    expect(await ledger().getRelease('1.3.0')).toBeUndefined();
  });
});
