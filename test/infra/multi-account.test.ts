/**
 * The three-account layout (cdk.json `notes:three-accounts`: pipeline 111111111111, dev
 * 222222222222, prod 333333333333) as synthesized: what crosses an account boundary, and how.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildTestApp } from './fixture';

const three = buildTestApp({ layout: 'three-accounts' });
const single = buildTestApp();
const pipelineOf = (t: typeof three) => Template.fromStack(t.built.pipelineStack);

describe('smoke tests in other accounts report their jobs through the pipeline account', () => {
  test.each([
    ['dev', '222222222222'],
    ['prod', '333333333333'],
  ])('the %s smoke test has a fixed role name, reports in the pipeline region through its job reporter', (env, account) => {
    const template = three.template(env);
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: `NotesStack-${env}-smoke-test` });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: `notes-${env}-smoke-test`,
      Environment: {
        Variables: Match.objectLike({
          PIPELINE_REGION: 'eu-west-1',
          JOB_REPORTER_ROLE_ARN: `arn:aws:iam::111111111111:role/notes-${env}-job-reporter`,
        }),
      },
    });
    // The pipeline account's role trusts exactly that role of that account.
    pipelineOf(three).hasResourceProperties('AWS::IAM::Role', {
      RoleName: `notes-${env}-job-reporter`,
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${account}:root` },
            Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${account}:role/NotesStack-${env}-smoke-test` } },
          },
        ],
      },
    });
  });

  test('a job reporter may report job results and nothing else', () => {
    const policies = pipelineOf(three).findResources('AWS::IAM::Policy', {
      Properties: { Roles: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^JobReporterprod') }]) },
    });
    const statements = Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement);
    expect(statements).toEqual([{ Sid: 'ReportPipelineJobResult', Effect: 'Allow', Action: ['codepipeline:PutJobFailureResult', 'codepipeline:PutJobSuccessResult'], Resource: '*' }]);
  });

  test('in the single-account layout there is no reporter role and the smoke role keeps its generated name', () => {
    expect(Object.keys(pipelineOf(single).findResources('AWS::IAM::Role', { Properties: { RoleName: Match.stringLikeRegexp('job-reporter') } }))).toEqual([]);
    const vars = Object.values(single.template('prod').findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'notes-prod-smoke-test' } }))[0] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    expect(vars.Properties.Environment.Variables.PIPELINE_REGION).toBe('eu-west-1');
    expect(vars.Properties.Environment.Variables.JOB_REPORTER_ROLE_ARN).toBeUndefined();
    expect(Object.keys(single.template('prod').findResources('AWS::IAM::Role', { Properties: { RoleName: Match.stringLikeRegexp('smoke-test') } }))).toEqual([]);
  });
});

describe('the prod stage reads prod in another account as its read-only release role', () => {
  const reader = 'arn:aws:iam::333333333333:role/notes-release-reader-eu-west-1';
  const pipelineResource = (t: typeof three, name: string) =>
    Object.values(pipelineOf(t).findResources('AWS::CodePipeline::Pipeline', { Properties: { Name: name } }))[0] as {
      Properties: { Stages: { Name: string; Actions: { Name: string; RunOrder: number; Configuration: Record<string, string> }[]; BeforeEntry?: unknown; OnSuccess?: { Conditions: { Rules: unknown[] }[] } }[] };
    };
  const prodStage = (t: typeof three, name = 'notes-release') => pipelineResource(t, name).Properties.Stages.find((s) => s.Name === 'Prod')!;

  test.each(['notes-release', 'notes-hotfix'])('%s: the backups check is given the reader role and may assume only that', (name) => {
    const check = prodStage(three, name).Actions.find((a) => a.Name === 'BackupsValidated')!;
    expect(JSON.parse(check.Configuration.UserParameters)).toMatchObject({ stackName: 'NotesStack-prod', region: 'eu-west-1', roleArn: reader });
    const fnLogicalId = Object.keys(pipelineOf(three).findResources('AWS::Lambda::Function')).find((id) => id.startsWith(name === 'notes-release' ? 'ReleaseBackupCheckStep' : 'HotfixBackupCheckStep'))!;
    const role = (pipelineOf(three).toJSON().Resources[fnLogicalId].Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const statements = Object.values(pipelineOf(three).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } })).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: { Sid?: string; Action: unknown; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement,
    );
    expect(statements.filter((s) => !/logs:|codepipeline:PutJob/.test(JSON.stringify(s.Action)))).toEqual([
      { Sid: 'AssumeProdReaderRole', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: reader },
    ]);
  });

  test('the alarm watch is the last prod action, watching the five metric alarms as the reader role; no CloudWatchAlarm rule', () => {
    const stage = prodStage(three);
    const watch = stage.Actions.find((a) => a.Name === 'WatchAlarms')!;
    expect(watch.RunOrder).toBe(Math.max(...stage.Actions.map((a) => a.RunOrder)));
    expect(JSON.parse(watch.Configuration.UserParameters)).toEqual({
      alarmNames: ['notes-prod-api-5xx-rate', 'notes-prod-api-latency-p99', 'notes-prod-api-lambda-errors', 'notes-prod-api-lambda-throttles', 'notes-prod-table-throttles'],
      region: 'eu-west-1',
      watchMinutes: 10,
      roleArn: reader,
      pipelineName: 'notes-release',
      executionId: '#{codepipeline.PipelineExecutionId}',
    });
    expect(stage.OnSuccess).toBeUndefined();
  });

  test('in the single-account layout the stage keeps its CloudWatchAlarm rules and has no watch step; the backups check reads prod directly', () => {
    const stage = prodStage(single);
    expect(stage.Actions.map((a) => a.Name)).not.toContain('WatchAlarms');
    expect(stage.OnSuccess!.Conditions[0].Rules).toHaveLength(5);
    const check = stage.Actions.find((a) => a.Name === 'BackupsValidated')!;
    expect(JSON.parse(check.Configuration.UserParameters).roleArn).toBeUndefined();
  });
});

describe("the release operator's policy in the three-account layout", () => {
  const statementsOf = (t: typeof three) =>
    (Object.values(pipelineOf(t).findResources('AWS::IAM::ManagedPolicy', { Properties: { ManagedPolicyName: 'notes-release-operator' } }))[0] as {
      Properties: { PolicyDocument: { Statement: { Sid: string; Action: unknown; Resource: unknown }[] } };
    }).Properties.PolicyDocument.Statement;

  test('reads prod only through prod\'s reader role: no direct grant on a prod-account resource', () => {
    const statements = statementsOf(three);
    expect(statements.find((s) => s.Sid === 'ReadProdThroughItsReaderRole')).toMatchObject({ Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::333333333333:role/notes-release-reader-eu-west-1' });
    const prodAccountResources = statements.filter((s) => s.Action !== 'sts:AssumeRole' && JSON.stringify(s.Resource).includes('333333333333'));
    expect(prodAccountResources).toEqual([]);
  });

  test('in the single-account layout it reads the prod stack, its template and the live alias directly, and assumes nothing', () => {
    const statements = statementsOf(single);
    expect(statements.map((s) => s.Sid)).toEqual(expect.arrayContaining(['PlanRollbackFromProdTemplate', 'ReadLiveAlias']));
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('sts:'))).toEqual([]);
  });
});

describe('CodePipeline invokes a smoke test in another account through a role of its NotesStack', () => {
  test.each([
    ['dev', '222222222222'],
    ['prod', '333333333333'],
  ])('%s: NotesStack-%s-smoke-invoke, trusted by the pipeline account, may invoke only that smoke test; every action names it', (env) => {
    const template = three.template(env);
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: `NotesStack-${env}-smoke-invoke`,
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' } }] },
    });
    const roleId = Object.keys(template.findResources('AWS::IAM::Role', { Properties: { RoleName: `NotesStack-${env}-smoke-invoke` } }))[0];
    const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } })).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement,
    );
    const fnId = Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: `notes-${env}-smoke-test` } }))[0];
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: [{ 'Fn::GetAtt': [fnId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fnId, 'Arn'] }, ':*']] }] }),
        expect.objectContaining({ Action: 'lambda:ListFunctions', Resource: '*' }),
      ]),
    );
    expect(statements).toHaveLength(2);
    // The role carries the permissions boundary like every NotesStack role (the execution policy requires it).
    expect(JSON.stringify(template.toJSON().Resources[roleId].Properties.PermissionsBoundary)).toContain('notes-permissions-boundary');
  });

  test('the pipelines name those roles for their smoke actions, so CDK makes no cross-account support stack', () => {
    const assembly = three.app.synth();
    expect(assembly.stacks.map((s) => s.stackName).filter((n) => n.includes('support'))).toEqual([]);
    const smokeRoles = Object.values(pipelineOf(three).findResources('AWS::CodePipeline::Pipeline'))
      .flatMap((p) => (p as { Properties: { Stages: { Actions: { Name: string; RoleArn?: unknown }[] }[] } }).Properties.Stages)
      .flatMap((s) => s.Actions)
      .filter((a) => a.Name === 'SmokeTest')
      .map((a) => a.RoleArn);
    expect([...new Set(smokeRoles)].sort()).toEqual(['arn:aws:iam::222222222222:role/NotesStack-dev-smoke-invoke', 'arn:aws:iam::333333333333:role/NotesStack-prod-smoke-invoke']);
  });
});
