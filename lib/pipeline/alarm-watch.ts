/**
 * The prod alarm watch step for a prod environment in another account than the pipeline
 * (`lambda/alarm-watch`): a Lambda in the pipeline account that reads prod's service-health metric
 * alarms as prod's read-only release role and fails the prod stage (which then rolls back) when one
 * is in ALARM during the watch period. In a single-account layout the stage's CloudWatchAlarm rules
 * do this instead; see the decision log (#11) for why the rule cannot look into another account.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ServiceFunction } from '../constructs/service-function';
import { allowJobReporting } from './job-permissions';

export interface AlarmWatchStepProps {
  readonly alarmNames: string[];
  readonly region: string;
  readonly watchMinutes: number;
  /** Prod's read-only release role, the only thing the function may assume. */
  readonly readerRoleArn: string;
  /** The pipeline whose Prod stage this is: a stage rollback (an execution of it) is not watched. */
  readonly pipelineName: string;
}

export class AlarmWatchStep extends Construct {
  readonly function: lambda.IFunction;
  private readonly props: AlarmWatchStepProps;

  constructor(scope: Construct, id: string, props: AlarmWatchStepProps) {
    super(scope, id);
    this.props = props;
    const fn = new ServiceFunction(this, 'Watch', {
      entry: 'lambda/alarm-watch/index.ts',
      description: `Release pipeline: watches the prod service-health alarms for ${props.watchMinutes} minutes after the deploy (prod in another account)`,
      // Two minutes of checking per invocation (lambda/alarm-watch/index.ts POLL), then the report.
      timeout: Duration.minutes(3),
      memorySize: 256,
      // A retried invocation would report a job that is already reported.
      retryAttempts: 0,
      logRetention: logs.RetentionDays.ONE_YEAR,
      logRemovalPolicy: RemovalPolicy.RETAIN,
    });
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'AssumeProdReaderRole', actions: ['sts:AssumeRole'], resources: [props.readerRoleArn] }));
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadOwnPipelineExecutions',
        actions: ['codepipeline:GetPipelineExecution'],
        resources: [Stack.of(this).formatArn({ service: 'codepipeline', resource: props.pipelineName })],
      }),
    );
    allowJobReporting(fn.role);
    this.function = fn.function;
  }

  action(runOrder: number): actions.LambdaInvokeAction {
    return new actions.LambdaInvokeAction({
      actionName: 'WatchAlarms',
      lambda: this.function,
      runOrder,
      userParameters: {
        alarmNames: this.props.alarmNames,
        region: this.props.region,
        watchMinutes: this.props.watchMinutes,
        roleArn: this.props.readerRoleArn,
        pipelineName: this.props.pipelineName,
        executionId: '#{codepipeline.PipelineExecutionId}',
      },
    });
  }
}
