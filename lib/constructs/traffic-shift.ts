import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DeploymentStrategy } from '../config';
import { deploymentConfigFor } from '../traffic-shift';
import { ServiceFunction } from './service-function';
import { SmokeUser } from './smoke-user';
import { acknowledgeLifecycleHookFunction } from './serverless-nag';

/**
 * The alarms CodeDeploy watches while traffic shifts. They look at the NEW version only (its
 * invocations through the alias, dimension ExecutedVersion), one-minute periods, and fire on the
 * first bad minute: during a canary there is no time for "3 of 5".
 */
export const NEW_VERSION_ALARMS = {
  /** Percent of the new version's invocations that failed; 10 means one error in ten requests fires. */
  errorRatePercent: 10,
  throttles: 1,
  period: Duration.minutes(1),
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
} as const;

/** The pre-traffic hook's Lambda timeout; its own deadline reports a failure before it. */
export const HOOK_TIMEOUT = Duration.minutes(2);

export interface TrafficShiftProps {
  readonly namePrefix: string;
  /** The notes-api function, its version of this deploy and the `live` alias API Gateway invokes. */
  readonly function: lambda.IFunction;
  readonly version: lambda.Version;
  readonly alias: lambda.Alias;
  /** The environment's strategy (what the parameter defaults to). */
  readonly strategy: DeploymentStrategy;
  /** The deployment configuration in force: the stack's `DeploymentConfig` parameter. */
  readonly deploymentConfigName: string;
  readonly smokeUser: SmokeUser;
  /** The release version the new version must report on /health. */
  readonly expectedVersion: string;
  /** p99 duration of the new version at or above this (ms) fails the shift. */
  readonly healthSlaMs: number;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * Moves the `live` alias to each new version through CodeDeploy: first the pre-traffic hook
 * (`lambda/pre-traffic-hook`) runs the smoke checks against the new version itself, then traffic
 * shifts by the deployment configuration while three alarms watch that version (error rate,
 * throttles, p99 duration). A failed hook, an alarm or a failed deployment puts the alias back on
 * the previous version at once.
 */
export class TrafficShift extends Construct {
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  readonly hook: lambda.IFunction;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: TrafficShiftProps) {
    super(scope, id);
    const prefix = props.namePrefix;
    const a = NEW_VERSION_ALARMS;
    const fnName = props.function.functionName;
    // Invocations through the alias, split by the version that ran them: the new version alone.
    const dimensionsMap = { FunctionName: fnName, Resource: `${fnName}:${props.alias.aliasName}`, ExecutedVersion: props.version.version };
    const metric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, dimensionsMap, statistic, period: a.period });
    const errorRate = new cloudwatch.MathExpression({
      label: 'New version error rate (%)',
      expression: 'IF(invocations > 0, 100 * errors / invocations, 0)',
      usingMetrics: { invocations: metric('Invocations', 'Sum'), errors: metric('Errors', 'Sum') },
      period: a.period,
    });
    const alarm = (alarmId: string, name: string, m: cloudwatch.IMetric, threshold: number, description: string) =>
      new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${prefix}-new-version-${name}`,
        alarmDescription: `${description}. CodeDeploy watches it while traffic shifts and puts the live alias back on the previous version when it fires.`,
        metric: m,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: a.evaluationPeriods,
        datapointsToAlarm: a.datapointsToAlarm,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.alarms = [
      alarm('ErrorRate', 'error-rate', errorRate, a.errorRatePercent, `At least ${a.errorRatePercent}% of the new version's invocations failed`),
      alarm('Throttles', 'throttles', metric('Throttles', 'Sum'), a.throttles, 'The new version was throttled'),
      alarm('DurationP99', 'duration-p99', metric('Duration', 'p99'), props.healthSlaMs, `The new version's p99 duration is at or above the ${props.healthSlaMs} ms SLA`),
    ];

    const hook = new ServiceFunction(this, 'PreTrafficHook', {
      entry: 'lambda/pre-traffic-hook/index.ts',
      functionName: `${prefix}-pre-traffic-hook`,
      description: `Checks each new ${prefix} notes API version before CodeDeploy moves traffic to it`,
      memorySize: 256,
      timeout: HOOK_TIMEOUT,
      // CodeDeploy invokes it asynchronously; it reports once, and a retry would report a second time.
      retryAttempts: 0,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      environment: {
        NOTES_FUNCTION_NAME: fnName,
        NOTES_FUNCTION_VERSION: props.version.version,
        EXPECTED_VERSION: props.expectedVersion,
        SMOKE_SECRET_ARN: props.smokeUser.secret.secretArn,
      },
    });
    acknowledgeLifecycleHookFunction(hook);
    // Exactly the version under test: not the alias (real users' traffic), not $LATEST.
    hook.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'InvokeTheNewVersion', actions: ['lambda:InvokeFunction'], resources: [props.version.functionArn] }),
    );
    props.smokeUser.grantRead(hook.function);
    // The hook's one CodeDeploy call. IAM knows no resource type for it (the Service Authorization
    // Reference lists none, so only "*" matches); the deployment group's own grant (CDK, on the
    // group's ARN) would never match, and the hook could not report.
    hook.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ReportHookStatus', actions: ['codedeploy:PutLifecycleEventHookExecutionStatus'], resources: ['*'] }),
    );
    Validations.of(hook.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'codedeploy:PutLifecycleEventHookExecutionStatus has no resource-level permissions (the service authorization reference lists no resource type for it), so the resource must be "*"; the statement allows only that action, and a hook can only report for a deployment whose event it was given.',
    });
    this.hook = hook.function;

    const choice = deploymentConfigFor(prefix, props.strategy);
    let custom: codedeploy.LambdaDeploymentConfig | undefined;
    if (!choice.predefined && props.strategy.type !== 'all-at-once') {
      const interval = Duration.minutes(props.strategy.minutes);
      custom = new codedeploy.LambdaDeploymentConfig(this, 'Config', {
        deploymentConfigName: choice.name,
        trafficRouting:
          props.strategy.type === 'canary'
            ? codedeploy.TrafficRouting.timeBasedCanary({ interval, percentage: props.strategy.percent })
            : codedeploy.TrafficRouting.timeBasedLinear({ interval, percentage: props.strategy.percent }),
      });
    }

    // CodeDeploy's role, our own: CDK would attach AWSCodeDeployRoleForLambdaLimited (UpdateAlias on
    // every function). This one may move this alias, read these alarms and invoke this hook; the
    // role is handed over without policy updates so CDK adds nothing to it.
    const deployRole = new iam.Role(this, 'DeployRole', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      description: `CodeDeploy shifts the ${prefix} notes API live alias`,
    });
    deployRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ShiftTheLiveAlias',
        actions: ['lambda:GetAlias', 'lambda:UpdateAlias', 'lambda:GetProvisionedConcurrencyConfig'],
        resources: [props.function.functionArn, `${props.function.functionArn}:${props.alias.aliasName}`],
      }),
    );
    deployRole.addToPolicy(
      new iam.PolicyStatement({ sid: 'ReadTheNewVersionAlarms', actions: ['cloudwatch:DescribeAlarms'], resources: this.alarms.map((x) => x.alarmArn) }),
    );
    deployRole.addToPolicy(
      new iam.PolicyStatement({ sid: 'InvokeThePreTrafficHook', actions: ['lambda:InvokeFunction'], resources: [hook.function.functionArn] }),
    );

    const application = new codedeploy.LambdaApplication(this, 'Application', { applicationName: `${prefix}-api` });
    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'DeploymentGroup', {
      application,
      deploymentGroupName: `${prefix}-api-live`,
      alias: props.alias,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.fromLambdaDeploymentConfigName(this, 'InForce', props.deploymentConfigName),
      alarms: this.alarms,
      preHook: hook.function,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      role: deployRole.withoutPolicyUpdates(),
    });
    // The alias update starts the deployment: CodeDeploy's permissions must be in place before it.
    props.alias.node.addDependency(deployRole);
    if (custom) this.deploymentGroup.node.addDependency(custom);
  }
}
