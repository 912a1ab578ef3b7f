/**
 * The Release stage's work, in the order that keeps every retry safe:
 * gather what happened in this execution (build variables, approvers, smoke results), archive the
 * cloud assembly, store the release notes next to it, tag the commit, publish the GitHub release,
 * and last write the immutable ledger record that the rollback path trusts.
 * Each step that fails throws a message starting with its name.
 */
import { createHash } from 'crypto';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { unzipSync } from 'fflate';
import { COMMIT_TIMES_VARIABLE, parseCommitTimes } from '../../lib/release/commit-times';
import { listActionExecutions } from '../../lib/release/job';
import { CommitTimes, normalizeVersion, ReleaseLedger, type TrafficShiftRecord } from '../../lib/release/ledger';
import { CommitSummary, GitHub } from './github';
import { renderReleaseNotes } from './notes';

/** Where a release's files live in the archive bucket. */
export function archivePrefix(version: string): string {
  return `releases/v${normalizeVersion(version)}/`;
}
export const ASSEMBLY_FILE = 'cloud-assembly.zip';
export const NOTES_FILE = 'release-notes.md';
/** The prod plan the approvers saw, as the Plan step rendered it. */
export const PLAN_FILES = { markdown: 'plan.md', json: 'plan.json' } as const;

export interface RecorderSettings {
  pipelineName: string;
  archiveBucket: string;
  gitTokenSecretName: string;
  owner: string;
  repo: string;
  githubApiUrl: string;
}

export interface RecorderDeps {
  codepipeline: CodePipelineClient;
  /** Reads the pipeline artifact (with the job's artifact credentials). */
  artifactS3: S3Client;
  /** Writes the archive (with the function's own role). */
  archiveS3: S3Client;
  secrets: SecretsManagerClient;
  ledger: ReleaseLedger;
  now: () => Date;
}

export interface RecorderInput {
  version: string;
  commit: string;
  executionId: string;
  artifact: { bucketName: string; objectKey: string };
  /** The Plan step's output artifact (plan.md, plan.json), when the pipeline has one. */
  plan?: { bucketName: string; objectKey: string };
}

export interface ExecutionFacts {
  changeSummary: string;
  pullRequestUrl?: string;
  /** The pull request's approvers on GitHub (the build's PR_APPROVERS), when known. */
  pullRequestApprovers?: string[];
  /** The build's warnings (KNOWN_ISSUES), e.g. the decision-log check. */
  knownIssues: string[];
  approvals: { approver: string; comment?: string; stage: string; action: string }[];
  smokeResults: { stage: string; summary: string }[];
  /** The Plan step's one-line summary and the SHA-256 of its plan.json. */
  planSummary?: string;
  planSha256?: string;
  /** From the build's COMMIT_TIMES; absent from builds before #14. */
  commitTimes?: CommitTimes;
  /** The CodeDeploy deployment each deploy action exported (`CODEDEPLOY_DEPLOYMENT_ID`, `CODEDEPLOY_OUTCOME`). */
  trafficShifts: TrafficShiftRecord[];
}

function step(name: string, err: unknown): Error {
  return new Error(`release: ${name}: ${err instanceof Error ? err.message : String(err)}`);
}

/** Reads this execution's action history: build variables, who approved, what the smoke tests said. */
export async function executionFacts(client: CodePipelineClient, pipelineName: string, executionId: string): Promise<ExecutionFacts> {
  const details = await listActionExecutions(client, pipelineName, executionId);

  const facts: ExecutionFacts = { changeSummary: '', knownIssues: [], approvals: [], smokeResults: [], trafficShifts: [] };
  for (const d of details) {
    const vars = d.output?.outputVariables ?? {};
    if (vars.CHANGE_SUMMARY !== undefined) facts.changeSummary = vars.CHANGE_SUMMARY;
    if (vars.PR_URL && vars.PR_URL !== 'none') facts.pullRequestUrl = vars.PR_URL;
    if (vars.PR_APPROVERS && vars.PR_APPROVERS !== 'unknown') {
      facts.pullRequestApprovers = vars.PR_APPROVERS === 'none' ? [] : vars.PR_APPROVERS.split(', ').filter(Boolean);
    }
    if (vars.KNOWN_ISSUES && vars.KNOWN_ISSUES !== 'none') facts.knownIssues = [vars.KNOWN_ISSUES];
    if (vars.PLAN_SUMMARY !== undefined && d.status === 'Succeeded') facts.planSummary = vars.PLAN_SUMMARY;
    if (vars.PLAN_SHA256 !== undefined && d.status === 'Succeeded') facts.planSha256 = vars.PLAN_SHA256;
    const commitTimes = parseCommitTimes(vars[COMMIT_TIMES_VARIABLE]);
    if (commitTimes) facts.commitTimes = commitTimes;
    if (d.input?.actionTypeId?.category === 'Approval' && d.status === 'Succeeded') {
      facts.approvals.push({
        approver: d.updatedBy ?? 'unknown',
        comment: d.output?.executionResult?.externalExecutionSummary || undefined,
        stage: d.stageName ?? '',
        action: d.actionName ?? '',
      });
    }
    if (vars.SMOKE_SUMMARY !== undefined && d.status === 'Succeeded') {
      facts.smokeResults.push({ stage: d.stageName ?? '', summary: vars.SMOKE_SUMMARY });
    }
    if (vars.CODEDEPLOY_DEPLOYMENT_ID !== undefined && d.status === 'Succeeded') {
      facts.trafficShifts.push({ stage: d.stageName ?? '', deploymentId: vars.CODEDEPLOY_DEPLOYMENT_ID, outcome: vars.CODEDEPLOY_OUTCOME ?? 'UNKNOWN' });
    }
  }
  return facts;
}

async function gitToken(secrets: SecretsManagerClient, name: string): Promise<string> {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: name }));
  const raw = (out.SecretString ?? '').trim();
  if (!raw) throw new Error(`secret ${name} is empty`);
  if (raw.startsWith('{')) {
    const parsed = JSON.parse(raw) as { token?: unknown };
    if (typeof parsed.token !== 'string' || !parsed.token) throw new Error(`secret ${name} is JSON without a "token" string`);
    return parsed.token;
  }
  return raw;
}

function isPreconditionFailed(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 412 || err.name === 'PreconditionFailed');
}

/** Writes an object once; an existing object with the same sha256 (a retry) is accepted. */
async function putOnce(s3: S3Client, bucket: string, key: string, body: Buffer, metadata: Record<string, string>): Promise<{ sha256: string; versionId?: string }> {
  const sha256 = createHash('sha256').update(body).digest('hex');
  try {
    const out = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        IfNoneMatch: '*',
        ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
        Metadata: { ...metadata, sha256 },
      }),
    );
    return { sha256, versionId: out.VersionId };
  } catch (err) {
    if (!isPreconditionFailed(err)) throw err;
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    if (head.Metadata?.sha256 === sha256) return { sha256, versionId: head.VersionId };
    throw new Error(`s3://${bucket}/${key} already exists with different content (sha256 ${head.Metadata?.sha256 ?? 'unknown'}, this release ${sha256})`);
  }
}

export async function recordRelease(deps: RecorderDeps, settings: RecorderSettings, input: RecorderInput): Promise<{ summary: string; outputVariables: Record<string, string> }> {
  let version: string;
  try {
    version = normalizeVersion(input.version);
  } catch (err) {
    throw step('parameters', err);
  }
  if (!/^[0-9a-f]{7,40}$/.test(input.commit)) throw step('parameters', new Error(`commit "${input.commit}" is not a git SHA`));
  if (!input.executionId) throw step('parameters', new Error('executionId is empty'));
  const tag = `v${version}`;
  const releasedAt = deps.now().toISOString();
  const repoUrl = `https://github.com/${settings.owner}/${settings.repo}`;

  // A version another execution released is refused before anything is tagged or archived.
  try {
    const existing = await deps.ledger.getRelease(version);
    if (existing && existing.pipelineExecutionId !== input.executionId) {
      throw new Error(`version ${version} is already released by execution ${existing.pipelineExecutionId} (${existing.releasedAt}); nothing was tagged or archived`);
    }
  } catch (err) {
    throw step('ledger', err);
  }

  let facts: ExecutionFacts;
  try {
    facts = await executionFacts(deps.codepipeline, settings.pipelineName, input.executionId);
  } catch (err) {
    throw step('execution history', err);
  }

  let github: GitHub;
  try {
    const token = await gitToken(deps.secrets, settings.gitTokenSecretName);
    github = new GitHub({ baseUrl: settings.githubApiUrl, token, owner: settings.owner, repo: settings.repo });
  } catch (err) {
    throw step('git token', err);
  }

  // Changes since the previous release's tag; the build's summary when GitHub cannot list them.
  const previous = (await deps.ledger.listReleases()).find((r) => r.version !== version);
  let commits: CommitSummary[] | undefined;
  if (previous) {
    try {
      commits = await github.commitsBetween(`v${previous.version}`, input.commit);
    } catch {
      commits = undefined;
    }
  }

  const prefix = archivePrefix(version);
  const assemblyKey = `${prefix}${ASSEMBLY_FILE}`;
  let archived: { sha256: string; versionId?: string };
  try {
    const object = await deps.artifactS3.send(new GetObjectCommand({ Bucket: input.artifact.bucketName, Key: input.artifact.objectKey }));
    if (!object.Body) throw new Error(`pipeline artifact s3://${input.artifact.bucketName}/${input.artifact.objectKey} is empty`);
    const body = Buffer.from(await object.Body.transformToByteArray());
    archived = await putOnce(deps.archiveS3, settings.archiveBucket, assemblyKey, body, { version, commit: input.commit, 'pipeline-execution-id': input.executionId });
  } catch (err) {
    throw step('archive', err);
  }

  // The plan the approvers saw goes beside the assembly, checked against the hash its step reported.
  let planKey: string | undefined;
  if (input.plan) {
    try {
      const object = await deps.artifactS3.send(new GetObjectCommand({ Bucket: input.plan.bucketName, Key: input.plan.objectKey }));
      if (!object.Body) throw new Error(`pipeline artifact s3://${input.plan.bucketName}/${input.plan.objectKey} is empty`);
      const files = unzipSync(await object.Body.transformToByteArray());
      const markdown = files[PLAN_FILES.markdown];
      const json = files[PLAN_FILES.json];
      if (!markdown || !json) throw new Error(`the plan artifact has no ${!markdown ? PLAN_FILES.markdown : PLAN_FILES.json}`);
      const jsonSha = createHash('sha256').update(json).digest('hex');
      if (facts.planSha256 && jsonSha !== facts.planSha256) {
        throw new Error(`the plan artifact's ${PLAN_FILES.json} has sha256 ${jsonSha}, but the Plan step reported ${facts.planSha256}`);
      }
      facts.planSha256 = jsonSha;
      const meta = { version, commit: input.commit, 'pipeline-execution-id': input.executionId };
      planKey = `${prefix}${PLAN_FILES.markdown}`;
      await putOnce(deps.archiveS3, settings.archiveBucket, planKey, Buffer.from(markdown), meta);
      await putOnce(deps.archiveS3, settings.archiveBucket, `${prefix}${PLAN_FILES.json}`, Buffer.from(json), meta);
    } catch (err) {
      throw step('plan', err);
    }
  }

  const notes = renderReleaseNotes({
    version,
    releasedAt,
    commit: input.commit,
    repoUrl,
    pullRequestUrl: facts.pullRequestUrl,
    pullRequestApprovers: facts.pullRequestApprovers,
    knownIssues: facts.knownIssues,
    previousVersion: previous?.version,
    commits,
    changeSummary: facts.changeSummary,
    pipelineName: settings.pipelineName,
    pipelineExecutionId: input.executionId,
    approvals: facts.approvals,
    smokeResults: facts.smokeResults,
    trafficShifts: facts.trafficShifts,
    archive: { bucket: settings.archiveBucket, key: assemblyKey, ...archived },
    ...(facts.planSummary ? { plan: { summary: facts.planSummary, ...(planKey ? { key: planKey } : {}), ...(facts.planSha256 ? { sha256: facts.planSha256 } : {}) } } : {}),
  });
  const notesKey = `${prefix}${NOTES_FILE}`;
  try {
    await deps.archiveS3.send(new PutObjectCommand({ Bucket: settings.archiveBucket, Key: notesKey, Body: notes, ContentType: 'text/markdown; charset=utf-8' }));
  } catch (err) {
    throw step('release notes', err);
  }

  let tagOutcome: string;
  try {
    tagOutcome = await github.createTag(tag, input.commit);
  } catch (err) {
    throw step('tag', err);
  }
  let releaseUrl: string | undefined;
  try {
    releaseUrl = (await github.createRelease(tag, input.commit, notes)).url;
  } catch (err) {
    throw step('GitHub release', err);
  }

  try {
    await deps.ledger.recordRelease({
      version,
      commit: input.commit,
      releasedAt,
      pipelineName: settings.pipelineName,
      pipelineExecutionId: input.executionId,
      artifact: { bucket: settings.archiveBucket, key: assemblyKey, sha256: archived.sha256, ...(archived.versionId ? { versionId: archived.versionId } : {}) },
      approvers: facts.approvals.map((a) => a.approver),
      changeSummary: commits && commits.length > 0 ? commits.map((c) => c.subject).join('; ') : facts.changeSummary,
      ...(facts.pullRequestUrl ? { pullRequestUrl: facts.pullRequestUrl } : {}),
      ...(facts.pullRequestApprovers ? { pullRequestApprovers: facts.pullRequestApprovers } : {}),
      ...(facts.knownIssues.length ? { knownIssues: facts.knownIssues } : {}),
      smokeSummary: facts.smokeResults.map((s) => `${s.stage}: ${s.summary}`).join(' | '),
      ...(facts.planSummary ? { planSummary: facts.planSummary } : {}),
      ...(facts.planSha256 ? { planSha256: facts.planSha256 } : {}),
      ...(facts.commitTimes ? { commitTimes: facts.commitTimes } : {}),
      ...(facts.trafficShifts.length > 0 ? { trafficShifts: facts.trafficShifts } : {}),
    });
  } catch (err) {
    throw step('ledger', err);
  }

  return {
    summary: `released ${tag} (${input.commit.slice(0, 12)}): tag ${tagOutcome}, assembly archived at s3://${settings.archiveBucket}/${assemblyKey}, ledger recorded`,
    outputVariables: { TAG: tag, ARCHIVE_KEY: assemblyKey, NOTES_KEY: notesKey, SHA256: archived.sha256, RELEASE_URL: releaseUrl ?? repoUrl },
  };
}
