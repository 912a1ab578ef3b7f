/**
 * Pipeline step "release" (Lambda invoke action of the Release stage). UserParameters:
 * `{"version":"#{Build.VERSION}","commit":"#{Build.COMMIT}","executionId":"#{codepipeline.PipelineExecutionId}"}`
 * (only values that can never break the JSON; free text comes from the execution history).
 * Input artifacts: the cloud assembly (`Assembly`) and the prod plan (`Plan`: plan.md, plan.json). Environment: PIPELINE_NAME, ARCHIVE_BUCKET, LEDGER_TABLE,
 * GIT_TOKEN_SECRET_NAME, REPO_OWNER, REPO_NAME, optional GITHUB_API_URL and DYNAMODB_ENDPOINT.
 */
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { jobOf, parseJsonParameters, runJob } from '../../lib/release/job';
import { ReleaseLedger } from '../../lib/release/ledger';
import { recordRelease, RecorderSettings } from './record';

const codepipeline = new CodePipelineClient({});
const archiveS3 = new S3Client({});
const secrets = new SecretsManagerClient({});

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`release: setup: environment variable ${name} is not set`);
  return value;
}

export async function handler(event: unknown): Promise<void> {
  const job = jobOf(event);
  if (!job) throw new Error('release-recorder: not a CodePipeline job event');
  await runJob(codepipeline, job.id, async () => {
    const env = process.env;
    const settings: RecorderSettings = {
      pipelineName: required(env, 'PIPELINE_NAME'),
      archiveBucket: required(env, 'ARCHIVE_BUCKET'),
      gitTokenSecretName: required(env, 'GIT_TOKEN_SECRET_NAME'),
      owner: required(env, 'REPO_OWNER'),
      repo: required(env, 'REPO_NAME'),
      githubApiUrl: env.GITHUB_API_URL || 'https://api.github.com',
    };
    const params = parseJsonParameters(job.userParameters, 'release: parameters');
    const artifact = (job.inputArtifacts.find((a) => a.name === 'Assembly') ?? job.inputArtifacts[0])?.location;
    if (!artifact) throw new Error('release: parameters: the action has no input artifact (the cloud assembly)');
    const plan = job.inputArtifacts.find((a) => a.name === 'Plan')?.location;
    const creds = job.artifactCredentials;
    const artifactS3 = new S3Client(creds ? { credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken } } : {});
    const ddb = new DynamoDBClient(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {});
    const ledger = new ReleaseLedger(DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), required(env, 'LEDGER_TABLE'));
    try {
      return await recordRelease(
        { codepipeline, artifactS3, archiveS3, secrets, ledger, now: () => new Date() },
        settings,
        { version: String(params.version ?? ''), commit: String(params.commit ?? ''), executionId: String(params.executionId ?? ''), artifact, ...(plan ? { plan } : {}) },
      );
    } finally {
      ddb.destroy();
      artifactS3.destroy();
    }
  });
}
