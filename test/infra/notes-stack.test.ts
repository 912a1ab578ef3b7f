/**
 * Facts about the synthesized NotesStack templates that a user or operator would notice if they
 * broke: data kept and recoverable, endpoints protected, least privilege, limits and logs, the
 * outputs the pipeline reads, the alarm it watches. One app (dev + prod) is synthesized for the file.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { LOCAL_PASSWORD_POLICY } from '../../lib/local/pool';
import { notesTableCreateInput } from '../../lib/notes-table-schema';
import { normalizeTemplate } from '../support/normalize-template';
import { buildTestApp, repoConfig, TEST_RELEASE, TestApp } from './fixture';
import {
  actionsOf,
  apiMethods,
  functionNamed,
  onlyResource,
  resources,
  roleOfFunction,
  roleStatements,
  statementsOf,
} from './template-helpers';

let testApp: TestApp;
let dev: Template;
let prod: Template;

beforeAll(() => {
  testApp = buildTestApp();
  dev = testApp.template('dev');
  prod = testApp.template('prod');
});

const envConfig = (name: string) => repoConfig().environments.find((e) => e.name === name)!;

describe('stacks', () => {
  test('one NotesStack-<env> per configured environment', () => {
    // Act
    const names = testApp.built.notesStacks.map((s) => s.stackName);

    // Assert
    expect(names).toEqual(repoConfig().environments.map((e) => `NotesStack-${e.name}`));
  });

  test('the prod stack has termination protection and dev does not', () => {
    const [devStack, prodStack] = testApp.built.notesStacks;
    expect(prodStack.terminationProtection).toBe(true);
    expect(devStack.terminationProtection).toBe(false);
  });
});

describe('notes table', () => {
  test('point-in-time recovery is on with the configured 35-day window', () => {
    for (const template of [dev, prod]) {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 },
      });
    }
  });

  test('has the key schema and attribute types of the shared table definition (same as local mode)', () => {
    // Arrange
    const shared = notesTableCreateInput('ignored');

    // Act
    const [, table] = onlyResource(dev, 'AWS::DynamoDB::Table');

    // Assert
    expect(table.Properties.KeySchema).toEqual(shared.KeySchema);
    expect(table.Properties.AttributeDefinitions).toEqual(shared.AttributeDefinitions);
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
  });

  test('is encrypted at rest', () => {
    dev.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true } });
  });

  test('prod keeps the table: deletion protection on and Retain on delete and replace', () => {
    prod.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
  });

  test('prod keeps the user pool: deletion protection on and Retain', () => {
    prod.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtection: 'ACTIVE' }),
    });
  });

  test('dev is destroyable: table and user pool are deleted with the stack', () => {
    dev.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
    dev.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtection: 'INACTIVE' }),
    });
  });
});

describe('API authorization', () => {
  test('every /notes method except the CORS preflight requires a Cognito user pool token', () => {
    // Act
    const notesMethods = apiMethods(dev).filter((m) => m.path.startsWith('/notes') && m.httpMethod !== 'OPTIONS');

    // Assert
    expect(notesMethods.map((m) => `${m.httpMethod} ${m.path}`).sort()).toEqual(
      ['ANY /notes', 'GET /notes', 'POST /notes', 'ANY /notes/{id}', 'GET /notes/{id}', 'PUT /notes/{id}', 'DELETE /notes/{id}'].sort(),
    );
    for (const m of notesMethods) {
      expect({ method: `${m.httpMethod} ${m.path}`, type: m.authorizationType }).toEqual({ method: `${m.httpMethod} ${m.path}`, type: 'COGNITO_USER_POOLS' });
      expect(m.authorizerId).toEqual({ Ref: expect.stringMatching(/Authorizer/) });
    }
  });

  test('the authorizer trusts exactly this stack\'s user pool', () => {
    dev.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      IdentitySource: 'method.request.header.Authorization',
      ProviderARNs: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^AuthUserPool'), 'Arn'] }],
    });
  });

  test('/health is open (authorization NONE) for GET and for undeclared methods', () => {
    const health = apiMethods(dev).filter((m) => m.path === '/health');
    expect(health.map((m) => [m.httpMethod, m.authorizationType]).sort()).toEqual(
      [['ANY', 'NONE'], ['GET', 'NONE'], ['OPTIONS', 'NONE']].sort(),
    );
  });

  test('undeclared methods on known paths reach the handler (ANY) so it can answer 405', () => {
    const anyPaths = apiMethods(dev).filter((m) => m.httpMethod === 'ANY').map((m) => m.path).sort();
    expect(anyPaths).toEqual(['/health', '/notes', '/notes/{id}']);
  });

  test('CORS preflight answers for the configured origin on /notes', () => {
    dev.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      AuthorizationType: 'NONE',
      Integration: Match.objectLike({
        Type: 'MOCK',
        IntegrationResponses: Match.arrayWith([
          Match.objectLike({
            ResponseParameters: Match.objectLike({
              'method.response.header.Access-Control-Allow-Origin': `'${envConfig('dev').corsAllowOrigins[0]}'`,
            }),
          }),
        ]),
      }),
    });
  });

  test('API Gateway\'s own 4xx and 5xx answers carry the CORS origin header', () => {
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      prod.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ResponseParameters: Match.objectLike({
          'gatewayresponse.header.Access-Control-Allow-Origin': `'${envConfig('prod').corsAllowOrigins[0]}'`,
        }),
      });
    }
  });
});

describe('API stage', () => {
  test('stage throttling uses the environment\'s rate and burst limits', () => {
    for (const [name, template] of [['dev', dev], ['prod', prod]] as const) {
      const { rateLimit, burstLimit } = envConfig(name).throttle;
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        MethodSettings: Match.arrayWith([
          Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit }),
        ]),
      });
    }
  });

  test('access logs are JSON, go to a log group with the environment\'s retention', () => {
    // Arrange
    const [, stage] = onlyResource(prod, 'AWS::ApiGateway::Stage');
    const setting = stage.Properties.AccessLogSetting as { DestinationArn: unknown; Format: string };

    // Act
    const format = JSON.parse(setting.Format) as Record<string, string>;
    const logGroupRef = JSON.stringify(setting.DestinationArn).match(/"Ref":"(ApiAccessLogs[A-Z0-9]+)"/)?.[1];

    // Assert
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', userSub: '$context.authorizer.claims.sub' });
    expect(logGroupRef).toBeDefined();
    expect(prod.toJSON().Resources[logGroupRef!].Properties.RetentionInDays).toBe(envConfig('prod').logRetentionDays);
  });

  test('a request validator is attached to every non-preflight method', () => {
    const methods = Object.values(resources(dev, 'AWS::ApiGateway::Method')).filter((m) => m.Properties.HttpMethod !== 'OPTIONS');
    dev.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
    for (const m of methods) expect(m.Properties.RequestValidatorId).toEqual({ Ref: expect.stringMatching(/Validator/) });
  });
});

describe('Lambda functions', () => {
  test('every log group has the environment\'s retention and every function logs to its own group', () => {
    for (const [name, template] of [['dev', dev], ['prod', prod]] as const) {
      const groups = resources(template, 'AWS::Logs::LogGroup');
      for (const g of Object.values(groups)) expect(g.Properties.RetentionInDays).toBe(envConfig(name).logRetentionDays);
      for (const fn of Object.values(resources(template, 'AWS::Lambda::Function'))) {
        const ref = (fn.Properties.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup?.Ref;
        expect(ref && groups[ref]).toBeTruthy();
      }
    }
  });

  test('the notes API function: Node 22 on arm64, source maps on, the documented environment', () => {
    const [, fn] = functionNamed(prod, 'notes-prod-api');
    const prodEnv = envConfig('prod');
    expect(fn.Properties.Runtime).toBe('nodejs22.x');
    expect(fn.Properties.Architectures).toEqual(['arm64']);
    expect(fn.Properties.Environment).toEqual({
      Variables: {
        TABLE_NAME: { Ref: expect.stringMatching(/^NotesTable/) },
        RELEASE_VERSION: TEST_RELEASE.version,
        COMMIT_SHA: TEST_RELEASE.commit,
        MAX_BODY_BYTES: String(prodEnv.maxBodyBytes),
        CORS_ALLOW_ORIGINS: prodEnv.corsAllowOrigins.join(','),
        POWERTOOLS_SERVICE_NAME: 'notes-api',
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
  });

  test('the notes API function may run exactly GetItem, PutItem, UpdateItem, DeleteItem and Query on the table, nothing else', () => {
    // Arrange
    const [, fn] = functionNamed(dev, 'notes-dev-api');
    const [tableId] = onlyResource(dev, 'AWS::DynamoDB::Table');

    // Act
    const statements = roleStatements(dev, roleOfFunction(fn));
    const nonLogging = statements.filter((s) => !actionsOf(s).every((a) => a.startsWith('logs:')));

    // Assert
    expect(nonLogging).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
      },
    ]);
  });

  test('no policy in either stack grants a wildcard action or dynamodb Scan/Batch on the table', () => {
    for (const template of [dev, prod]) {
      const [tableId] = onlyResource(template, 'AWS::DynamoDB::Table');
      const onTable = Object.values(resources(template, 'AWS::IAM::Policy'))
        .flatMap(statementsOf)
        .filter((s) => JSON.stringify(s.Resource).includes(`"${tableId}"`));
      expect(onTable.length).toBeGreaterThan(0);
      for (const s of onTable) {
        for (const action of actionsOf(s)) {
          expect(action).not.toContain('*');
          expect(action).not.toMatch(/^dynamodb:(Scan|Batch)/);
        }
      }
    }
  });

  test('no Lambda role uses an AWS managed policy', () => {
    for (const role of Object.values(resources(prod, 'AWS::IAM::Role'))) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe('smoke test', () => {
  test('the smoke-test function is named notes-<env>-smoke-test and knows where and what to test', () => {
    const [, fn] = functionNamed(dev, 'notes-dev-smoke-test');
    expect(fn.Properties.Environment).toEqual({
      Variables: expect.objectContaining({
        API_URL: expect.anything(),
        USER_POOL_ID: { Ref: expect.stringMatching(/^AuthUserPool/) },
        SMOKE_CLIENT_ID: { Ref: expect.stringMatching(/^AuthUserPoolSmokeClient/) },
        SMOKE_SECRET_ARN: { Ref: expect.stringMatching(/^SmokeUserSecret/) },
        EXPECTED_VERSION: TEST_RELEASE.version,
        HEALTH_SLA_MS: String(envConfig('dev').healthSlaMs),
      }),
    });
  });

  test('a failed smoke run is not retried by Lambda (the job is reported once, by the first run)', () => {
    const [fnId] = functionNamed(dev, 'notes-dev-smoke-test');
    dev.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId },
      MaximumRetryAttempts: 0,
    });
  });

  test('the smoke-test function may read its secret, sign in on its pool and report pipeline jobs, nothing more', () => {
    // Arrange
    const [, fn] = functionNamed(dev, 'notes-dev-smoke-test');
    const [poolId] = onlyResource(dev, 'AWS::Cognito::UserPool');
    const [secretId] = onlyResource(dev, 'AWS::SecretsManager::Secret');

    // Act
    const statements = roleStatements(dev, roleOfFunction(fn)).filter((s) => !actionsOf(s).every((a) => a.startsWith('logs:')));

    // Assert
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: { Ref: secretId } },
      { Effect: 'Allow', Action: 'cognito-idp:AdminInitiateAuth', Resource: { 'Fn::GetAtt': [poolId, 'Arn'] } },
      {
        Sid: 'ReportPipelineJobResult',
        Effect: 'Allow',
        Action: ['codepipeline:PutJobFailureResult', 'codepipeline:PutJobSuccessResult'],
        Resource: '*',
      },
    ]);
  });

  test('the smoke user secret is generated by Secrets Manager under notes-<env>/smoke-user', () => {
    dev.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'notes-dev/smoke-user',
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: JSON.stringify({ username: 'smoke-test@notes.invalid' }),
        GenerateStringKey: 'password',
      }),
    });
  });

  test('a custom resource creates the smoke user in this pool from this secret', () => {
    dev.hasResourceProperties('Custom::NotesSmokeUser', {
      UserPoolId: { Ref: Match.stringLikeRegexp('^AuthUserPool') },
      SecretArn: { Ref: Match.stringLikeRegexp('^SmokeUserSecret') },
    });
  });

  test('the smoke-user function may read the secret and manage users of this pool only', () => {
    const fnId = Object.entries(resources(dev, 'AWS::Lambda::Function')).find(([id]) => id.startsWith('SmokeUserSync'))!;
    const [poolId] = onlyResource(dev, 'AWS::Cognito::UserPool');
    const [secretId] = onlyResource(dev, 'AWS::SecretsManager::Secret');
    const statements = roleStatements(dev, roleOfFunction(fnId[1])).filter((s) => !actionsOf(s).every((a) => a.startsWith('logs:')));
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: { Ref: secretId } },
      {
        Effect: 'Allow',
        Action: ['cognito-idp:AdminCreateUser', 'cognito-idp:AdminDeleteUser', 'cognito-idp:AdminSetUserPassword'],
        Resource: { 'Fn::GetAtt': [poolId, 'Arn'] },
      },
    ]);
  });
});

describe('Cognito', () => {
  test('users sign in with a verified email; optional TOTP MFA, no SMS', () => {
    dev.hasResourceProperties('AWS::Cognito::UserPool', {
      UsernameAttributes: ['email'],
      AutoVerifiedAttributes: ['email'],
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
  });

  test('the deployed password policy is the one the local mode enforces', () => {
    const [, pool] = onlyResource(dev, 'AWS::Cognito::UserPool');
    expect((pool.Properties.Policies as { PasswordPolicy: unknown }).PasswordPolicy).toEqual(LOCAL_PASSWORD_POLICY);
  });

  test('the web client is public and allows only SRP sign-in and refresh', () => {
    dev.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ClientName: 'notes-dev-web',
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    });
  });

  test('the smoke client allows only admin user-password auth and refresh', () => {
    dev.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ClientName: 'notes-dev-smoke',
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    });
  });
});

describe('observability', () => {
  test('a composite alarm notes-<env>-service-health combines the five alarms and notifies the alarm topic', () => {
    // Arrange
    const alarms = resources(dev, 'AWS::CloudWatch::Alarm');
    const [topicId] = onlyResource(dev, 'AWS::SNS::Topic');

    // Act
    const [, composite] = onlyResource(dev, 'AWS::CloudWatch::CompositeAlarm');
    const rule = JSON.stringify(composite.Properties.AlarmRule);

    // Assert
    expect(composite.Properties.AlarmName).toBe('notes-dev-service-health');
    expect(composite.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    expect(Object.keys(alarms)).toHaveLength(5);
    for (const id of Object.keys(alarms)) expect(rule).toContain(`"${id}"`);
  });

  test('the alarms watch API 5xx rate, p99 latency at the SLA, Lambda errors and throttles, DynamoDB throttles', () => {
    const names = Object.values(resources(dev, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName).sort();
    expect(names).toEqual(
      ['notes-dev-api-5xx-rate', 'notes-dev-api-latency-p99', 'notes-dev-api-lambda-errors', 'notes-dev-api-lambda-throttles', 'notes-dev-table-throttles'].sort(),
    );
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'notes-dev-api-latency-p99',
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Threshold: envConfig('dev').healthSlaMs,
    });
  });

  test('the alarm topic is KMS-encrypted, refuses non-TLS publishing and subscribes the configured emails', () => {
    prod.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    prod.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      }),
    });
    const emails = Object.values(resources(prod, 'AWS::SNS::Subscription')).map((s) => s.Properties.Endpoint);
    expect(emails).toEqual(envConfig('prod').alarmEmails);
    expect(Object.keys(resources(dev, 'AWS::SNS::Subscription'))).toHaveLength(envConfig('dev').alarmEmails.length);
  });

  test('a dashboard named after the environment', () => {
    dev.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'notes-dev' });
  });
});

describe('outputs', () => {
  test('each stack publishes the outputs the pipeline and the README rely on', () => {
    for (const template of [dev, prod]) {
      const outputs = Object.keys(template.toJSON().Outputs as object);
      expect(outputs).toEqual(
        expect.arrayContaining(['ApiUrl', 'UserPoolId', 'UserPoolClientId', 'TableName', 'SmokeClientId', 'SmokeTestFunctionName', 'ServiceHealthAlarmName']),
      );
    }
  });

  test('the outputs name the deterministic smoke function and alarm', () => {
    const outputs = prod.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.SmokeTestFunctionName.Value)).toContain('SmokeTestSmokeFunction');
    expect(outputs.ServiceHealthAlarmName.Value).toEqual({ Ref: expect.stringMatching(/^ObservabilityServiceHealth/) });
    prod.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'notes-prod-smoke-test' });
  });
});

describe('snapshots', () => {
  test.each(['dev', 'prod'])('NotesStack-%s matches its normalized snapshot', (name) => {
    expect(normalizeTemplate(testApp.template(name).toJSON())).toMatchSnapshot();
  });
});

describe('API Gateway account settings (the CloudWatch Logs role access logs need)', () => {
  const accountSettings = (t: Template) => Object.entries(resources(t, 'AWS::ApiGateway::Account'));
  const raw = (t: Template) => t.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; DependsOn?: string[] }>;

  test('dev, the first stack deployed in the shared account and region, sets the role; prod there does not fight over it', () => {
    // Act
    const devSettings = accountSettings(dev);

    // Assert
    expect(devSettings).toHaveLength(1);
    expect(accountSettings(prod)).toHaveLength(0);
  });

  test('the role may be assumed by API Gateway only, pushes to CloudWatch Logs, and both it and the setting outlive the stack', () => {
    // Arrange
    const all = raw(dev);
    const [settingsId] = accountSettings(dev)[0];
    const roleId = (all[settingsId].Properties.CloudWatchRoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const role = all[roleId];

    // Assert
    expect(all[settingsId].DeletionPolicy).toBe('Retain');
    expect(role.DeletionPolicy).toBe('Retain');
    expect(role.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' } }],
    });
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('service-role/AmazonAPIGatewayPushToCloudWatchLogs');
  });

  test('the stage with access logging is created only after the account setting', () => {
    const all = raw(dev);
    const [settingsId] = accountSettings(dev)[0];
    const stageEntry = Object.entries(all).find(([, r]) => r.Type === 'AWS::ApiGateway::Stage')!;
    expect(stageEntry[1].Properties.AccessLogSetting).toBeDefined();
    expect(stageEntry[1].DependsOn).toContain(settingsId);
  });

  test('an environment in another region (or account) sets the role there itself', () => {
    // Arrange: prod moved to us-east-1, then into its own account
    const cfg = repoConfig();
    const pipeline = { ...cfg.pipeline, account: '123456789012' };
    const inRegion = { ...cfg, pipeline, environments: cfg.environments.map((e) => (e.name === 'prod' ? { ...e, region: 'us-east-1' } : e)) };
    const inAccount = { ...cfg, pipeline, environments: cfg.environments.map((e) => (e.name === 'prod' ? { ...e, account: '210987654321' } : e)) };

    // Act
    const regional = buildTestApp({ notes: inRegion });
    const separate = buildTestApp({ notes: inAccount });

    // Assert
    for (const app of [regional, separate]) {
      expect(accountSettings(app.template('dev'))).toHaveLength(1);
      expect(accountSettings(app.template('prod'))).toHaveLength(1);
    }
  });
});
