import { CfnOutput, CfnParameter, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AppConfig, EnvironmentConfig, ownsApiGatewayAccountSettings, ReleaseInfo, resourcePrefix } from './config';
import { CostBudget } from './constructs/cost-budget';
import { NotesApi } from './constructs/notes-api';
import { NotesAuth } from './constructs/notes-auth';
import { NotesTable } from './constructs/notes-table';
import { Observability } from './constructs/observability';
import { SmokeTestFunction, SmokeTestFunctionProps } from './constructs/smoke-test-function';
import { SmokeUser } from './constructs/smoke-user';
import { TrafficShift } from './constructs/traffic-shift';
import { isCrossAccount, jobReporterRoleName, permissionsBoundaryName, roleArn, smokeInvokeRoleName, smokeTestRoleName } from './target-account';
import { ALL_AT_ONCE_CONFIG, DEPLOYMENT_CONFIG_PARAMETER, deploymentConfigFor, describeStrategy } from './traffic-shift';

export interface NotesStackProps extends StackProps {
  readonly config: AppConfig;
  readonly environment: EnvironmentConfig;
  readonly release: ReleaseInfo;
}

/**
 * Where the smoke test reports its job: the pipeline's region, and for an environment outside the
 * pipeline's account the pipeline account's job reporter role that trusts exactly this
 * environment's smoke-test role (lib/target-account.ts).
 */
function pipelineReporting(config: AppConfig, env: EnvironmentConfig, partition: string): SmokeTestFunctionProps['pipeline'] {
  const { pipeline } = config;
  if (!isCrossAccount(env, pipeline.account)) return { region: pipeline.region };
  return {
    region: pipeline.region,
    reporterRoleArn: roleArn(pipeline.account!, jobReporterRoleName(config.service, env.name), partition),
    roleName: smokeTestRoleName(env.name),
    invoker: { account: pipeline.account!, roleName: smokeInvokeRoleName(env.name) },
  };
}

/**
 * One environment of the notes service: table, user pool, API, smoke test, alarms. Built from
 * small constructs; the stack only wires them together and publishes the outputs the release
 * pipeline and the README rely on.
 */
export class NotesStack extends Stack {
  readonly table: NotesTable;
  readonly auth: NotesAuth;
  readonly api: NotesApi;
  readonly observability: Observability;
  /** The environment's monthly AWS Budgets cost budget (amount and scope from cdk.json). */
  readonly budget: CostBudget;
  readonly trafficShift: TrafficShift;

  constructor(scope: Construct, id: string, props: NotesStackProps) {
    const env = props.environment;
    super(scope, id, {
      description: `Serverless Personal Notes: API, users and notes table (${env.name})`,
      terminationProtection: env.kind === 'production',
      ...props,
    });
    const prefix = resourcePrefix(props.config, env);
    const removalPolicy = env.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = env.logRetentionDays as logs.RetentionDays;
    // Every role of this stack (its own, CDK's custom-resource and log-retention roles) carries the
    // account's permissions boundary, created by the baseline stack (lib/baseline-stack.ts).
    iam.PermissionsBoundary.of(this).apply(iam.ManagedPolicy.fromManagedPolicyName(this, 'PermissionsBoundary', permissionsBoundaryName(props.config.service, env.region)));

    this.table = new NotesTable(this, 'Notes', {
      removalPolicy,
      deletionProtection: env.deletionProtection,
      pitrRecoveryPeriodDays: env.pitrRecoveryPeriodDays,
    });
    this.auth = new NotesAuth(this, 'Auth', { namePrefix: prefix, removalPolicy, deletionProtection: env.deletionProtection });
    this.api = new NotesApi(this, 'Api', {
      namePrefix: prefix,
      table: this.table,
      auth: this.auth,
      release: props.release,
      throttle: env.throttle,
      corsAllowOrigins: env.corsAllowOrigins,
      maxBodyBytes: env.maxBodyBytes,
      logRetention,
      logRemovalPolicy: removalPolicy,
      domain: env.domain,
      ownsAccountSettings: ownsApiGatewayAccountSettings(props.config, env),
    });
    const smokeUser = new SmokeUser(this, 'SmokeUser', { namePrefix: prefix, auth: this.auth, logRetention, logRemovalPolicy: removalPolicy });
    const smokeTest = new SmokeTestFunction(this, 'SmokeTest', {
      namePrefix: prefix,
      apiUrl: this.api.url,
      auth: this.auth,
      smokeUser,
      expectedVersion: props.release.version,
      healthSlaMs: env.healthSlaMs,
      logRetention,
      logRemovalPolicy: removalPolicy,
      pipeline: pipelineReporting(props.config, env, this.partition),
    });
    // The one knob a rollback turns: deploy with DeploymentConfig=CodeDeployDefault.LambdaAllAtOnce
    // and the previous version serves everything at once (see the decision log, #13).
    const strategyConfig = deploymentConfigFor(prefix, env.deploymentStrategy).name;
    const deploymentConfig = new CfnParameter(this, DEPLOYMENT_CONFIG_PARAMETER, {
      type: 'String',
      default: strategyConfig,
      allowedValues: [...new Set([strategyConfig, ALL_AT_ONCE_CONFIG])],
      description: `CodeDeploy configuration of the notes API's live alias: ${describeStrategy(env.deploymentStrategy)} by default; rollbacks pass ${ALL_AT_ONCE_CONFIG}`,
    });
    this.trafficShift = new TrafficShift(this, 'TrafficShift', {
      namePrefix: prefix,
      function: this.api.handler,
      version: this.api.version,
      alias: this.api.alias,
      strategy: env.deploymentStrategy,
      deploymentConfigName: deploymentConfig.valueAsString,
      smokeUser,
      expectedVersion: props.release.version,
      healthSlaMs: env.healthSlaMs,
      logRetention,
      logRemovalPolicy: removalPolicy,
    });
    this.observability = new Observability(this, 'Observability', {
      namePrefix: prefix,
      api: this.api.restApi,
      apiHandler: this.api.handler,
      table: this.table,
      healthSlaMs: env.healthSlaMs,
      alarmEmails: env.alarmEmails,
      removalPolicy,
    });

    this.budget = new CostBudget(this, 'CostBudget', {
      budgetName: `${prefix}-monthly-cost`,
      monthlyUsd: env.budget.monthlyUsd,
      emails: env.alarmEmails,
      tag: env.budget.scope === 'environment-tag' ? { key: 'notes:environment', value: env.name } : undefined,
    });

    const output = (name: string, value: string, description: string) => new CfnOutput(this, name, { value, description });
    output('ApiUrl', this.api.url, 'Base URL of the notes API (execute-api, stage included)');
    output('UserPoolId', this.auth.userPool.userPoolId, 'Cognito user pool of the notes users');
    output('UserPoolClientId', this.auth.webClient.userPoolClientId, 'Public app client (SRP sign-in) for end users');
    output('TableName', this.table.table.tableName, 'DynamoDB notes table');
    output('SmokeClientId', this.auth.smokeClient.userPoolClientId, 'App client the smoke test signs in with (admin auth only)');
    output('SmokeTestFunctionName', smokeTest.function.functionName, 'Lambda the release pipeline invokes to smoke-test this environment');
    output('ServiceHealthAlarmName', this.observability.serviceHealth.alarmName, 'Composite of the metric alarms the release pipeline watches after a deploy');
    output('SmokeUserSecretName', smokeUser.secret.secretName, 'Secrets Manager secret with the smoke user credentials');
    output('AlarmTopicArn', this.observability.topic.topicArn, 'SNS topic that receives the service-health alarm');
    output('DeploymentGroupName', this.trafficShift.deploymentGroup.deploymentGroupName, 'CodeDeploy deployment group that shifts the live alias');
    output('CodeDeployApplicationName', this.trafficShift.deploymentGroup.application.applicationName, 'CodeDeploy application of the notes API');
    output('ApiFunctionName', this.api.handler.functionName, 'The notes API function (its live alias serves the API)');
    output('DashboardName', this.observability.dashboard.dashboardName, 'CloudWatch dashboard of the service');
    if (this.api.domainName) {
      output('ApiCustomDomainUrl', `https://${env.domain!.domainName}/`, 'Custom domain URL of the API');
      output('ApiCustomDomainTarget', this.api.domainName.domainNameAliasDomainName, 'Point a DNS alias/CNAME of the custom domain here');
    }
  }
}
