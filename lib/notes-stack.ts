import { CfnOutput, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AppConfig, EnvironmentConfig, ownsApiGatewayAccountSettings, ReleaseInfo, resourcePrefix } from './config';
import { NotesApi } from './constructs/notes-api';
import { NotesAuth } from './constructs/notes-auth';
import { NotesTable } from './constructs/notes-table';
import { Observability } from './constructs/observability';
import { SmokeTestFunction } from './constructs/smoke-test-function';
import { SmokeUser } from './constructs/smoke-user';

export interface NotesStackProps extends StackProps {
  readonly config: AppConfig;
  readonly environment: EnvironmentConfig;
  readonly release: ReleaseInfo;
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
    output('DashboardName', this.observability.dashboard.dashboardName, 'CloudWatch dashboard of the service');
    if (this.api.domainName) {
      output('ApiCustomDomainUrl', `https://${env.domain!.domainName}/`, 'Custom domain URL of the API');
      output('ApiCustomDomainTarget', this.api.domainName.domainNameAliasDomainName, 'Point a DNS alias/CNAME of the custom domain here');
    }
  }
}
