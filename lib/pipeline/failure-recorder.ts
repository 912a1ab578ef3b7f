import { Arn, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ServiceFunction } from '../constructs/service-function';

/** The EventBridge detail type of stage state changes (CodePipeline event reference). */
export const STAGE_STATE_CHANGE = 'CodePipeline Stage Execution State Change';

export interface FailureRecorderProps {
  /** The release and hotfix pipelines: their prod attempts that do not become releases are recorded. */
  readonly pipelines: { pipeline: codepipeline.IPipeline; pipelineName: string }[];
  /** The prod stage name (the same in both pipelines). */
  readonly prodStageName: string;
  readonly ledgerTable: dynamodb.ITable;
}

/**
 * `lambda/failure-recorder`, fed by one EventBridge rule per pipeline: every end (FAILED or
 * SUCCEEDED) of the prod stage, in standard and in rollback executions. The function decides which
 * are failed attempts. Its role may read those pipelines' executions and state, and put (never
 * update or delete), read and query ledger items; nothing else.
 */
export class FailureRecorder extends Construct {
  readonly function: lambda.IFunction;
  readonly role: iam.IRole;
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: FailureRecorderProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const fn = new ServiceFunction(this, 'Recorder', {
      entry: 'lambda/failure-recorder/index.ts',
      description: `Records failed prod attempts of ${props.pipelines.map((p) => p.pipelineName).join(' and ')} in the release ledger`,
      // A failed standard execution waits up to ROLLBACK_WAIT_SECONDS for its stage rollback to start.
      timeout: Duration.minutes(4),
      memorySize: 256,
      logRetention: logs.RetentionDays.ONE_YEAR,
      logRemovalPolicy: RemovalPolicy.RETAIN,
      environment: {
        PIPELINE_NAMES: props.pipelines.map((p) => p.pipelineName).join(','),
        PROD_STAGE: props.prodStageName,
        LEDGER_TABLE: props.ledgerTable.tableName,
        ROLLBACK_WAIT_SECONDS: '120',
      },
    });
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadReleasePipelineExecutions',
        actions: ['codepipeline:GetPipelineExecution', 'codepipeline:ListPipelineExecutions', 'codepipeline:ListActionExecutions', 'codepipeline:GetPipelineState'],
        resources: props.pipelines.map((p) => Arn.format({ service: 'codepipeline', resource: p.pipelineName }, stack)),
      }),
    );
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AppendFailedAttemptsToLedger',
        // No UpdateItem/DeleteItem: ledger entries are written once (conditional put) and never changed.
        actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query'],
        resources: [props.ledgerTable.tableArn],
      }),
    );
    for (const { pipeline, pipelineName } of props.pipelines) {
      this.rules.push(
        pipeline.onEvent(`RecordFailedProdAttempt-${pipelineName}`, {
          description: `Sends the ends of ${pipelineName}'s ${props.prodStageName} stage (standard and rollback executions) to the failure recorder`,
          eventPattern: {
            detailType: [STAGE_STATE_CHANGE],
            detail: { stage: [props.prodStageName], state: ['FAILED', 'SUCCEEDED'] },
          },
          target: new targets.LambdaFunction(fn.function, { retryAttempts: 4, maxEventAge: Duration.hours(6) }),
        }),
      );
    }
    this.function = fn.function;
    this.role = fn.role;
  }
}
