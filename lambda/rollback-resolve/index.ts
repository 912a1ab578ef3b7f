/**
 * Rollback pipeline step "Resolve" (Lambda invoke action). UserParameters:
 * `{"executionId":"#{codepipeline.PipelineExecutionId}"}`; the operator's free-text variables
 * (TARGET_VERSION, REASON) are read from the execution, so no value can break the JSON.
 * Environment: PIPELINE_NAME, ARCHIVE_BUCKET, LEDGER_TABLE, optional DYNAMODB_ENDPOINT.
 * Reports the job exactly once; on success exports the Resolve variables.
 */
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { jobOf, parseJsonParameters, runJob } from '../../lib/release/job';
import { ReleaseLedger } from '../../lib/release/ledger';
import { resolveRollback } from './resolve';

const codepipeline = new CodePipelineClient({});
const s3 = new S3Client({});

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`rollback: resolve: setup: environment variable ${name} is not set`);
  return value;
}

export async function handler(event: unknown): Promise<void> {
  const job = jobOf(event);
  if (!job) throw new Error('rollback-resolve: not a CodePipeline job event');
  await runJob(codepipeline, job.id, async () => {
    const params = parseJsonParameters(job.userParameters, 'rollback: resolve: parameters');
    const ddb = new DynamoDBClient(process.env.DYNAMODB_ENDPOINT ? { endpoint: process.env.DYNAMODB_ENDPOINT } : {});
    try {
      const ledger = new ReleaseLedger(DynamoDBDocumentClient.from(ddb), required('LEDGER_TABLE'));
      return await resolveRollback(
        { codepipeline, s3, ledger },
        { pipelineName: required('PIPELINE_NAME'), archiveBucket: required('ARCHIVE_BUCKET') },
        String(params.executionId ?? ''),
      );
    } finally {
      ddb.destroy();
    }
  });
}
