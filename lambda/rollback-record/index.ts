/**
 * Rollback pipeline step "Record". Two kinds of events:
 * - the CodePipeline job of the Record action (UserParameters
 *   `{"executionId":"#{codepipeline.PipelineExecutionId}"}`): reported exactly once;
 * - an EventBridge "CodePipeline Pipeline Execution State Change" of the rollback pipeline with
 *   state FAILED or STOPPED: records the outcome; a thrown error lets Lambda retry the async event.
 * Environment: PIPELINE_NAME, RELEASE_PIPELINE_NAME, LEDGER_TABLE, TOPIC_ARN, AWS_REGION,
 * optional DYNAMODB_ENDPOINT.
 */
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { jobOf, parseJsonParameters, runJob } from '../../lib/release/job';
import { ReleaseLedger } from '../../lib/release/ledger';
import { recordRollback, RecordResult, RecordSettings, RecordTrigger } from './record';

const codepipeline = new CodePipelineClient({});
const sns = new SNSClient({});

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`rollback: record: setup: environment variable ${name} is not set`);
  return value;
}

/** Execution states after which the pipeline never reaches its Record action. */
const ENDED_WITHOUT_RECORD = ['FAILED', 'STOPPED'];

interface ExecutionStateChange {
  source?: string;
  'detail-type'?: string;
  detail?: { pipeline?: string; 'execution-id'?: string; state?: string };
}

async function run(executionId: string, trigger: RecordTrigger): Promise<RecordResult> {
  const settings: RecordSettings = {
    pipelineName: required('PIPELINE_NAME'),
    releasePipelineName: required('RELEASE_PIPELINE_NAME'),
    topicArn: required('TOPIC_ARN'),
    region: process.env.AWS_REGION ?? 'us-east-1',
  };
  const ddb = new DynamoDBClient(process.env.DYNAMODB_ENDPOINT ? { endpoint: process.env.DYNAMODB_ENDPOINT } : {});
  try {
    const ledger = new ReleaseLedger(DynamoDBDocumentClient.from(ddb), required('LEDGER_TABLE'));
    return await recordRollback({ codepipeline, sns, ledger, now: () => new Date() }, settings, executionId, trigger);
  } finally {
    ddb.destroy();
  }
}

export async function handler(event: unknown): Promise<void> {
  const job = jobOf(event);
  if (job) {
    await runJob(codepipeline, job.id, async () => {
      const params = parseJsonParameters(job.userParameters, 'rollback: record: parameters');
      const { summary } = await run(String(params.executionId ?? ''), 'pipeline-action');
      return { summary };
    });
    return;
  }
  const change = event as ExecutionStateChange;
  if (change?.source !== 'aws.codepipeline' || change['detail-type'] !== 'CodePipeline Pipeline Execution State Change') {
    throw new Error('rollback-record: neither a CodePipeline job nor an execution state change event');
  }
  const { pipeline, state } = change.detail ?? {};
  if (pipeline !== process.env.PIPELINE_NAME || !state || !ENDED_WITHOUT_RECORD.includes(state)) {
    console.log(JSON.stringify({ message: 'ignored execution state change', pipeline, state }));
    return;
  }
  const result = await run(change.detail?.['execution-id'] ?? '', 'execution-ended');
  console.log(JSON.stringify({ message: 'rollback execution recorded', state, summary: result.summary }));
}
