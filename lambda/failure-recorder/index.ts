/**
 * The failure recorder: EventBridge "CodePipeline Stage Execution State Change" events of the
 * release and hotfix pipelines' prod stage (record.ts says which count). Writes one FAILED ledger
 * entry per failed prod attempt. A thrown error lets Lambda retry the asynchronous event.
 * Environment: PIPELINE_NAMES (comma-separated), PROD_STAGE, LEDGER_TABLE, optional
 * ROLLBACK_WAIT_SECONDS (default 120) and DYNAMODB_ENDPOINT.
 */
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ReleaseLedger } from '../../lib/release/ledger';
import { FailureRecorderSettings, recordFromEvent, StageEvent } from './record';

const codepipeline = new CodePipelineClient({});
/** Seconds between looks for the stage rollback after a standard execution's prod stage failed. */
const POLL_SECONDS = 15;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`failure recorder: setup: environment variable ${name} is not set`);
  return value;
}

export async function handler(event: StageEvent): Promise<void> {
  const waitSeconds = Number(process.env.ROLLBACK_WAIT_SECONDS ?? '120');
  const settings: FailureRecorderSettings = {
    pipelines: required('PIPELINE_NAMES').split(',').map((p) => p.trim()).filter(Boolean),
    prodStage: required('PROD_STAGE'),
    rollbackWait: { attempts: Math.max(1, Math.floor(waitSeconds / POLL_SECONDS) + 1), intervalMs: POLL_SECONDS * 1000 },
  };
  const ddb = new DynamoDBClient(process.env.DYNAMODB_ENDPOINT ? { endpoint: process.env.DYNAMODB_ENDPOINT } : {});
  try {
    const ledger = new ReleaseLedger(DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), required('LEDGER_TABLE'));
    const result = await recordFromEvent({ codepipeline, ledger, now: () => new Date(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) }, settings, event);
    const { detail } = event;
    console.log(
      JSON.stringify({
        message: `failure recorder: ${result.outcome}`,
        pipeline: detail?.pipeline,
        executionId: detail?.['execution-id'],
        stage: detail?.stage,
        state: detail?.state,
        ...('record' in result ? { attempt: result.record.pipelineExecutionId, version: result.record.version, failedAction: result.record.failedAction } : { reason: result.reason }),
      }),
    );
  } finally {
    ddb.destroy();
  }
}
