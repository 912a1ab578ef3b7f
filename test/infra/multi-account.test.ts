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
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: `notes-${env}-smoke-test-eu-west-1` });
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
            Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${account}:role/notes-${env}-smoke-test-eu-west-1` } },
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
