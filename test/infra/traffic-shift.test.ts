/**
 * Template facts of the traffic shift (#13): the live alias API Gateway invokes, one CodeDeploy
 * deployment group per environment with its configuration (prod canary, dev all at once) behind a
 * parameter a rollback overrides, the alarms on the new version only, the pre-traffic hook and
 * the least privilege of the hook and of CodeDeploy's role.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../lib/config';
import { ALL_AT_ONCE_CONFIG, DEPLOYMENT_CONFIG_PARAMETER, deploymentConfigFor } from '../../lib/traffic-shift';
import { buildTestApp, repoConfig, TestApp } from './fixture';
import { actionsOf, functionNamed, onlyResource, resources, roleOfFunction, roleStatements } from './template-helpers';

let testApp: TestApp;
let dev: Template;
let prod: Template;

beforeAll(() => {
  testApp = buildTestApp();
  dev = testApp.template('dev');
  prod = testApp.template('prod');
});

const ref = (id: string) => ({ Ref: id });

describe('live alias', () => {
  test('the notes-api function publishes a version and a live alias points at it', () => {
    const [versionId, version] = onlyResource(prod, 'AWS::Lambda::Version');
    const [fnId] = functionNamed(prod, 'notes-prod-api');
    const [, alias] = onlyResource(prod, 'AWS::Lambda::Alias');
    expect(version.Properties.FunctionName).toEqual(ref(fnId));
    expect(alias.Properties).toMatchObject({ Name: 'live', FunctionName: ref(fnId), FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] } });
  });

  test('every API method integrates with the alias, and API Gateway may invoke the alias only', () => {
    const [aliasId] = onlyResource(prod, 'AWS::Lambda::Alias');
    const methods = Object.values(resources(prod, 'AWS::ApiGateway::Method')).filter((m) => m.Properties.HttpMethod !== 'OPTIONS');
    expect(methods.length).toBeGreaterThan(0);
    for (const m of methods) expect(JSON.stringify(m.Properties.Integration)).toContain(`"${aliasId}"`);
    const permissions = Object.values(resources(prod, 'AWS::Lambda::Permission')).filter((p) => p.Properties.Principal === 'apigateway.amazonaws.com');
    expect(permissions.map((p) => p.Properties.FunctionName)).toEqual([ref(aliasId)]);
  });
});

describe('deployment group', () => {
  test.each([
    ['prod', 'CodeDeployDefault.LambdaCanary10Percent5Minutes'],
    ['dev', 'CodeDeployDefault.LambdaAllAtOnce'],
  ])('%s shifts through its own deployment group with the configuration of its strategy, rolling back on failure, stop and alarm', (env, config) => {
    const t = env === 'prod' ? prod : dev;
    const [, group] = onlyResource(t, 'AWS::CodeDeploy::DeploymentGroup');
    const [, alias] = onlyResource(t, 'AWS::Lambda::Alias');
    const [groupId] = onlyResource(t, 'AWS::CodeDeploy::DeploymentGroup');
    expect(group.Properties.DeploymentGroupName).toBe(`notes-${env}-api-live`);
    expect(group.Properties.DeploymentConfigName).toEqual(ref(DEPLOYMENT_CONFIG_PARAMETER));
    expect(t.toJSON().Parameters[DEPLOYMENT_CONFIG_PARAMETER].Default).toBe(config);
    expect(group.Properties.AutoRollbackConfiguration).toEqual({
      Enabled: true,
      Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
    });
    expect((alias as unknown as { UpdatePolicy: { CodeDeployLambdaAliasUpdate: { DeploymentGroupName: unknown } } }).UpdatePolicy.CodeDeployLambdaAliasUpdate.DeploymentGroupName).toEqual(ref(groupId));
  });

  test('the DeploymentConfig parameter allows the strategy and all at once, nothing else (a typo in a rollback fails validation)', () => {
    expect(prod.toJSON().Parameters[DEPLOYMENT_CONFIG_PARAMETER].AllowedValues).toEqual([
      'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      ALL_AT_ONCE_CONFIG,
    ]);
    expect(dev.toJSON().Parameters[DEPLOYMENT_CONFIG_PARAMETER].AllowedValues).toEqual([ALL_AT_ONCE_CONFIG]);
  });

  test('a strategy CodeDeploy has no predefined configuration for gets its own, named after the environment', () => {
    const notes = repoConfig();
    const custom = {
      ...notes,
      environments: notes.environments.map((e) => (e.kind === 'production' ? { ...e, deploymentStrategy: { type: 'linear', percent: 25, minutes: 2 } } : e)),
    };
    const t = buildTestApp({ notes: custom }).template('prod');
    t.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      DeploymentConfigName: 'notes-prod-linear-25pct-2min',
      ComputePlatform: 'Lambda',
      TrafficRoutingConfig: { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearInterval: 2, LinearPercentage: 25 } },
    });
    expect(t.toJSON().Parameters[DEPLOYMENT_CONFIG_PARAMETER].Default).toBe('notes-prod-linear-25pct-2min');
  });
});

describe('alarms on the new version', () => {
  const newVersionAlarms = (t: Template) =>
    Object.entries(resources(t, 'AWS::CloudWatch::Alarm')).filter(([, a]) => String(a.Properties.AlarmName).startsWith('notes-prod-new-version-'));

  test('CodeDeploy watches exactly the three new-version alarms: error rate, throttles, p99 duration', () => {
    const [, group] = onlyResource(prod, 'AWS::CodeDeploy::DeploymentGroup');
    const alarms = newVersionAlarms(prod);
    expect(alarms.map(([, a]) => a.Properties.AlarmName).sort()).toEqual(
      ['notes-prod-new-version-duration-p99', 'notes-prod-new-version-error-rate', 'notes-prod-new-version-throttles'],
    );
    expect(group.Properties.AlarmConfiguration).toEqual({ Enabled: true, Alarms: alarms.map(([id]) => ({ Name: ref(id) })) });
  });

  test('every metric is of the version this deploy published, invoked through the live alias (ExecutedVersion)', () => {
    const [versionId] = onlyResource(prod, 'AWS::Lambda::Version');
    const [fnId] = functionNamed(prod, 'notes-prod-api');
    for (const [, alarm] of newVersionAlarms(prod)) {
      const metrics = alarm.Properties.Metrics
        ? (alarm.Properties.Metrics as Array<{ MetricStat?: { Metric: { Dimensions: unknown } } }>).filter((m) => m.MetricStat).map((m) => m.MetricStat!.Metric.Dimensions)
        : [alarm.Properties.Dimensions];
      expect(metrics.length).toBeGreaterThan(0);
      for (const dims of metrics) {
        expect(dims).toEqual(
          expect.arrayContaining([
            { Name: 'FunctionName', Value: ref(fnId) },
            { Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [versionId, 'Version'] } },
            { Name: 'Resource', Value: { 'Fn::Join': ['', [ref(fnId), ':live']] } },
          ]),
        );
      }
      expect(alarm.Properties).toMatchObject({ EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: 'notBreaching' });
    }
  });

  test('the error rate is errors over invocations, so one error in ten requests fires it', () => {
    const [, alarm] = newVersionAlarms(prod).find(([, a]) => a.Properties.AlarmName === 'notes-prod-new-version-error-rate')!;
    const expr = (alarm.Properties.Metrics as Array<{ Expression?: string }>).find((m) => m.Expression)!.Expression;
    expect(expr).toBe('IF(invocations > 0, 100 * errors / invocations, 0)');
    expect(alarm.Properties).toMatchObject({ Threshold: 10, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });

  test('the service-health alarm still watches the whole function after the shift', () => {
    const [, composite] = onlyResource(prod, 'AWS::CloudWatch::CompositeAlarm');
    expect(JSON.stringify(composite.Properties.AlarmRule)).not.toContain('new-version');
  });
});

describe('pre-traffic hook', () => {
  test('the alias update runs the hook before traffic moves; the hook knows the version under test', () => {
    const [hookId, hook] = functionNamed(prod, 'notes-prod-pre-traffic-hook');
    const [versionId] = onlyResource(prod, 'AWS::Lambda::Version');
    const [, alias] = onlyResource(prod, 'AWS::Lambda::Alias');
    expect((alias as unknown as { UpdatePolicy: { CodeDeployLambdaAliasUpdate: Record<string, unknown> } }).UpdatePolicy.CodeDeployLambdaAliasUpdate.BeforeAllowTrafficHook).toEqual(ref(hookId));
    expect(hook.Properties.Environment).toMatchObject({
      Variables: { NOTES_FUNCTION_VERSION: { 'Fn::GetAtt': [versionId, 'Version'] }, EXPECTED_VERSION: '1.2.3' },
    });
    prod.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: ref(hookId), MaximumRetryAttempts: 0 });
  });

  test('the hook may invoke only the new version, read the smoke user secret and report its hook status', () => {
    const [, hook] = functionNamed(prod, 'notes-prod-pre-traffic-hook');
    const [versionId] = onlyResource(prod, 'AWS::Lambda::Version');
    const [secretId] = onlyResource(prod, 'AWS::SecretsManager::Secret');
    const [groupId] = onlyResource(prod, 'AWS::CodeDeploy::DeploymentGroup');
    const statements = roleStatements(prod, roleOfFunction(hook)).filter((s) => !actionsOf(s).every((a) => a.startsWith('logs:')));
    expect(statements.map((s) => [actionsOf(s), s.Resource])).toEqual([
      [['lambda:InvokeFunction'], ref(versionId)],
      [['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], ref(secretId)],
      // The grant that takes effect: the action has no resource type, so IAM evaluates only "*".
      [['codedeploy:PutLifecycleEventHookExecutionStatus'], '*'],
      [['codedeploy:PutLifecycleEventHookExecutionStatus'], expect.objectContaining({ 'Fn::Join': expect.arrayContaining([expect.arrayContaining([ref(groupId)])]) })],
    ]);
  });

  test("CodeDeploy's role may move this alias, read the new-version alarms and invoke the hook; no managed policy", () => {
    const [, group] = onlyResource(prod, 'AWS::CodeDeploy::DeploymentGroup');
    const roleId = (group.Properties.ServiceRoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const [fnId] = functionNamed(prod, 'notes-prod-api');
    const [hookId] = functionNamed(prod, 'notes-prod-pre-traffic-hook');
    expect(resources(prod, 'AWS::IAM::Role')[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    const statements = roleStatements(prod, roleId);
    expect(statements.map((s) => actionsOf(s))).toEqual([
      ['lambda:GetAlias', 'lambda:GetProvisionedConcurrencyConfig', 'lambda:UpdateAlias'],
      ['cloudwatch:DescribeAlarms'],
      ['lambda:InvokeFunction'],
    ]);
    expect(statements[0].Resource).toEqual([{ 'Fn::GetAtt': [fnId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fnId, 'Arn'] }, ':live']] }]);
    expect(JSON.stringify(statements[1].Resource)).not.toContain('"*"');
    expect(statements[2].Resource).toEqual({ 'Fn::GetAtt': [hookId, 'Arn'] });
  });
});

describe('configuration', () => {
  const base = () => repoConfig();
  const withProd = (strategy: unknown) => ({
    ...base(),
    environments: base().environments.map((e) => (e.kind === 'production' ? { ...e, deploymentStrategy: strategy } : e)),
  });

  test('an environment without a strategy gets its kind default: prod canary 10% for 5 minutes, dev all at once', () => {
    const cfg = parseConfig({ ...base(), environments: base().environments.map(({ deploymentStrategy: _omit, ...e }) => e) });
    expect(cfg.environments.map((e) => [e.name, e.deploymentStrategy])).toEqual([
      ['dev', { type: 'all-at-once' }],
      ['prod', { type: 'canary', percent: 10, minutes: 5 }],
    ]);
  });

  test.each([
    [{ type: 'canary', percent: 0, minutes: 5 }, 'deploymentStrategy.percent'],
    [{ type: 'canary', percent: 100, minutes: 5 }, 'deploymentStrategy.percent'],
    [{ type: 'linear', percent: 10, minutes: 0 }, 'deploymentStrategy.minutes'],
    [{ type: 'blue-green' }, 'deploymentStrategy'],
    [{ type: 'linear', percent: 1, minutes: 60 }, 'longer than 2880 minutes'],
    [{ type: 'all-at-once', percent: 10 }, 'deploymentStrategy'],
  ])('a bad strategy %j stops the synth naming %s', (strategy, expected) => {
    expect(() => parseConfig(withProd(strategy))).toThrow(expected);
  });

  test('predefined configurations are used where CodeDeploy has one', () => {
    expect(deploymentConfigFor('notes-prod', { type: 'canary', percent: 10, minutes: 30 }).name).toBe('CodeDeployDefault.LambdaCanary10Percent30Minutes');
    expect(deploymentConfigFor('notes-prod', { type: 'linear', percent: 10, minutes: 1 }).name).toBe('CodeDeployDefault.LambdaLinear10PercentEvery1Minute');
    expect(deploymentConfigFor('notes-prod', { type: 'canary', percent: 20, minutes: 5 })).toEqual({ name: 'notes-prod-canary-20pct-5min', predefined: false });
  });
});
