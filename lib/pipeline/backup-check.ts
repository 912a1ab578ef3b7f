import { Arn, ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ServiceFunction } from '../constructs/service-function';
import { DeployTarget } from './bootstrap';
import { allowJobReporting } from './job-permissions';
import { acknowledgeWildcardResource } from './nag';

export interface BackupCheckStepProps {
  /** The production stack whose table is checked, e.g. `NotesStack-prod`. */
  readonly stackName: string;
  readonly target: DeployTarget;
  /** The newest restorable point may be at most this old (default 15 minutes). */
  readonly maxAge?: Duration;
  /** Prod in another account than the pipeline: its read-only release role, which the check assumes for its reads. */
  readonly readerRoleArn?: string;
}

/**
 * The "backups validated" step of the prod stage (`lambda/backup-check`): a Lambda that may read
 * the prod stack's outputs and the continuous-backup state of that stack's tables, and report the
 * pipeline job. `action()` gives the pipeline action that runs it.
 */
export class BackupCheckStep extends Construct {
  readonly function: lambda.IFunction;
  private readonly props: BackupCheckStepProps;

  constructor(scope: Construct, id: string, props: BackupCheckStepProps) {
    super(scope, id);
    this.props = props;
    const fn = new ServiceFunction(this, 'Check', {
      entry: 'lambda/backup-check/index.ts',
      description: `Release pipeline: checks point-in-time recovery of ${props.stackName} before prod is deployed`,
      timeout: Duration.seconds(30),
      memorySize: 256,
      logRetention: logs.RetentionDays.ONE_YEAR,
      logRemovalPolicy: RemovalPolicy.RETAIN,
    });
    const stack = Stack.of(this);
    const account = props.target.account ?? stack.account;
    const stackArn = Arn.format(
      { service: 'cloudformation', resource: 'stack', resourceName: `${props.stackName}/*`, region: props.target.region, account, arnFormat: ArnFormat.SLASH_RESOURCE_NAME },
      stack,
    );
    // CloudFormation names the (unnamed) notes table "<stack name>-<logical id>-<suffix>".
    const tableArn = Arn.format({ service: 'dynamodb', resource: 'table', resourceName: `${props.stackName}-*`, region: props.target.region, account }, stack);
    if (props.readerRoleArn) {
      // Another account: the reads are made as prod's read-only release role (its baseline stack).
      fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'AssumeProdReaderRole', actions: ['sts:AssumeRole'], resources: [props.readerRoleArn] }));
      allowJobReporting(fn.role);
      this.function = fn.function;
      return;
    }
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadProdStackOutputs', actions: ['cloudformation:DescribeStacks'], resources: [stackArn] }));
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadProdTableBackupState', actions: ['dynamodb:DescribeContinuousBackups'], resources: [tableArn] }));
    acknowledgeWildcardResource(
      fn.role,
      stackArn,
      'A CloudFormation stack ARN ends in a unique id assigned at creation, so the prod stack is matched by name with "/*"; the only action is DescribeStacks, to read its TableName output.',
    );
    acknowledgeWildcardResource(
      fn.role,
      tableArn,
      'The notes table has no fixed physical name (CloudFormation names it "<stack>-<logical id>-<suffix>"), so tables of the prod stack are matched by that prefix; the only action is the read-only DescribeContinuousBackups.',
    );
    allowJobReporting(fn.role);
    this.function = fn.function;
  }

  action(runOrder: number): actions.LambdaInvokeAction {
    return new actions.LambdaInvokeAction({
      actionName: 'BackupsValidated',
      lambda: this.function,
      runOrder,
      variablesNamespace: 'BackupCheck',
      userParameters: {
        stackName: this.props.stackName,
        region: this.props.target.region,
        maxAgeMinutes: (this.props.maxAge ?? Duration.minutes(15)).toMinutes(),
        ...(this.props.readerRoleArn ? { roleArn: this.props.readerRoleArn } : {}),
      },
    });
  }
}
