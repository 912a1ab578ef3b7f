/**
 * The synthesized rollback pipeline: stages in order, no automatic start of any kind, the variables,
 * what each step is given, least privilege for each role, and cdk-nag clean. Built in a stack of its
 * own (test/rollback/stack.ts) shaped like NotesPipelineStack.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPLOY_KIT_DIR } from '../../lib/pipeline/deploy-kit';
import { REPO_ROOT, repoConfig } from '../infra/fixture';
import { rollbackTestStack } from './stack';

type Json = Record<string, unknown>;
interface CfnResource {
  Type: string;
  Properties: Json;
}
interface Action {
  Name: string;
  ActionTypeId: { Category: string; Provider: string };
  Configuration?: Record<string, unknown>;
  Namespace?: string;
}
interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
}

const built = rollbackTestStack();
const template = built.template();
const resources = template.toJSON().Resources as Record<string, CfnResource>;
const logicalIdOf = (c: { node: { defaultChild?: unknown } }) => built.stack.getLogicalId(c.node.defaultChild as never);

function pipelineProps(): Json {
  return Object.values(resources).find((r) => r.Type === 'AWS::CodePipeline::Pipeline')!.Properties;
}
const stages = () => pipelineProps().Stages as { Name: string; Actions: Action[] }[];
const action = (stageName: string) => stages().find((s) => s.Name === stageName)!.Actions[0];

function statementsOfRole(roleLogicalId: string): Statement[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleLogicalId }]))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
/** The distinct actions of the statements (CDK's Lambda invoke action adds the job-reporting grant a second time). */
const actionsOf = (statements: Statement[]) => [...new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])))].sort();
const archiveAssemblies = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalIdOf(built.stack.node.findChild('ArchiveBucket')), 'Arn'] }, '/releases/*/cloud-assembly.zip']] };

describe('rollback pipeline structure', () => {
  test('is a V2 pipeline named notes-rollback that runs one execution at a time', () => {
    expect(pipelineProps()).toMatchObject({ Name: 'notes-rollback', PipelineType: 'V2', ExecutionMode: 'QUEUED', RestartExecutionOnUpdate: false });
  });

  test('has the stages Source, Resolve, Plan, Approve, Deploy, Verify, Record in that order', () => {
    expect(stages().map((s) => `${s.Name}/${s.Actions.map((a) => `${a.Name}:${a.ActionTypeId.Provider}`).join(',')}`)).toEqual([
      'Source/DeployKit:S3',
      'Resolve/Resolve:Lambda',
      'Plan/Plan:CodeBuild',
      'Approve/OpsOwnerApproval:Manual',
      'Deploy/Deploy:CodeBuild',
      'Verify/SmokeTest:Lambda',
      'Record/Record:Lambda',
    ]);
  });

  test('never starts by itself: no triggers, no polling, no source event rule', () => {
    expect(pipelineProps().Triggers).toBeUndefined();
    expect(action('Source').Configuration).toMatchObject({ PollForSourceChanges: false });
    const rules = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule');
    // The only rule listens to the pipeline's own execution results (to record failures), not to sources.
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.EventPattern).toMatchObject({
      source: ['aws.codepipeline'],
      'detail-type': ['CodePipeline Pipeline Execution State Change'],
      detail: { state: ['FAILED', 'STOPPED'] },
    });
  });

  test('declares TARGET_VERSION (default previous), REASON and REQUESTED_BY', () => {
    expect((pipelineProps().Variables as { Name: string; DefaultValue: string }[]).map((v) => [v.Name, v.DefaultValue])).toEqual([
      ['TARGET_VERSION', 'previous'],
      ['REASON', 'none given'],
      ['REQUESTED_BY', 'unknown'],
    ]);
  });

  test('Resolve gets only the execution id and exports its variables in the Resolve namespace', () => {
    expect(action('Resolve')).toMatchObject({
      Namespace: 'Resolve',
      Configuration: { UserParameters: '{"executionId":"#{codepipeline.PipelineExecutionId}"}' },
    });
  });

  test('the approval goes to the ops owner topic and shows from, to, reason and requester', () => {
    const config = action('Approve').Configuration!;
    expect(config.NotificationArn).toEqual({ Ref: logicalIdOf(built.rollback.topic) });
    expect(config.CustomData).toContain('from v#{Resolve.FROM_VERSION} to v#{Resolve.TARGET_VERSION}');
    expect(config.CustomData).toContain('Reason: #{variables.REASON}');
    expect(config.CustomData).toContain('Requested by: #{variables.REQUESTED_BY}');
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: repoConfig().pipeline.opsOwnerEmails[0] });
  });

  const projectOf = (p: { node: { defaultChild?: unknown } }) => {
    const props = resources[logicalIdOf(p)].Properties as { Source: { BuildSpec: string | { 'Fn::Join': [string, unknown[]] } }; Environment: { EnvironmentVariables: { Name: string; Value: unknown }[] } };
    const raw = props.Source.BuildSpec;
    const text = typeof raw === 'string' ? raw : raw['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<ref>')).join('');
    return { spec: JSON.parse(text) as { env?: Json; artifacts?: Json; phases: Record<string, { commands: string[] }> }, env: props.Environment.EnvironmentVariables.map((e) => e.Name) };
  };
  const actionEnv = (stageName: string) =>
    Object.fromEntries((JSON.parse(String(action(stageName).Configuration!.EnvironmentVariables)) as { name: string; value: string }[]).map((e) => [e.name, e.value]));

  test('Plan prepares the change set from the archived assembly Resolve chose, named after the execution, and renders it', () => {
    expect(actionEnv('Plan')).toEqual({
      TARGET_VERSION: '#{Resolve.TARGET_VERSION}',
      ARTIFACT_BUCKET: '#{Resolve.ARTIFACT_BUCKET}',
      ARTIFACT_KEY: '#{Resolve.ARTIFACT_KEY}',
      ARTIFACT_VERSION_ID: '#{Resolve.ARTIFACT_VERSION_ID}',
      ARTIFACT_SHA256: '#{Resolve.ARTIFACT_SHA256}',
      EXECUTION_ID: '#{codepipeline.PipelineExecutionId}',
    });
    expect(action('Plan').Namespace).toBe('Plan');
    const { spec, env } = projectOf(built.rollback.planProject);
    expect(spec.phases.install.commands).toEqual(['npm ci --ignore-scripts --no-audit --no-fund']);
    expect(spec.phases.build.commands).toEqual(['bash rollback-plan.sh', '. ./.pipeline/plan/plan.env']);
    expect(spec.env).toEqual({ 'exported-variables': ['PLAN_SUMMARY', 'PLAN_SHA256', 'CHANGE_SET_NAME', 'CHANGE_SET_URL', 'PLAN_URL'] });
    expect(spec.artifacts).toEqual({ 'base-directory': '.pipeline/plan', files: ['plan.md', 'plan.json'] });
    expect(env).toEqual(['STACK_NAME', 'TARGET_REGION', 'PLAN_ROLE_ARN']);
    const script = readFileSync(join(DEPLOY_KIT_DIR, 'rollback-plan.sh'), 'utf8');
    expect(script).toContain('sha256sum');
    expect(script).toContain('change_set="notes-rollback-$EXECUTION_ID"');
    expect(script).toContain('--no-execute --force --change-set-name "$change_set"');
    expect(script).toContain('node "$kit/bin/render-plan.js"');
    expect(script).not.toMatch(/npm (run )?test|cdk synth/);
  });

  test('the approval shows the plan summary and links to the plan and the change set', () => {
    const info = String(action('Approve').Configuration!.CustomData);
    for (const part of ['#{Plan.PLAN_SUMMARY}', '#{Plan.PLAN_URL}', '#{Plan.CHANGE_SET_URL}']) expect(info).toContain(part);
  });

  test('Deploy executes that change set by name and prepares none of its own (no build, no tests)', () => {
    expect(actionEnv('Deploy')).toEqual({ TARGET_VERSION: '#{Resolve.TARGET_VERSION}', EXECUTION_ID: '#{codepipeline.PipelineExecutionId}' });
    const { spec } = projectOf(built.rollback.deployProject);
    expect(spec.phases.build.commands).toEqual(['bash rollback-deploy.sh']);
    const script = readFileSync(join(DEPLOY_KIT_DIR, 'rollback-deploy.sh'), 'utf8');
    expect(script).toContain('node "$kit/bin/execute-change-set.js" --stack "$STACK_NAME" --change-set "notes-rollback-$EXECUTION_ID"');
    expect(script).not.toMatch(/cdk deploy|cdk synth|npm (run )?test/);
  });

  test('the kit pins the same CDK CLI version as the repository', () => {
    const kit = JSON.parse(readFileSync(join(DEPLOY_KIT_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const repo = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const lock = JSON.parse(readFileSync(join(DEPLOY_KIT_DIR, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    expect(kit.dependencies['aws-cdk']).toBe(repo.devDependencies['aws-cdk']);
    expect(lock.packages['node_modules/aws-cdk'].version).toBe(repo.devDependencies['aws-cdk']);
  });

  test('Verify invokes the prod smoke-test Lambda by name, expecting the target version', () => {
    expect(action('Verify').Configuration).toEqual({ FunctionName: 'notes-prod-smoke-test', UserParameters: '{"expectedVersion":"#{Resolve.TARGET_VERSION}"}' });
  });

  test('without rollbackApproval in context there is no Approve stage', () => {
    const config = repoConfig();
    const noApproval = rollbackTestStack({ config: { ...config, pipeline: { ...config.pipeline, rollbackApproval: false } } });
    const pipeline = Object.values(noApproval.template().toJSON().Resources as Record<string, CfnResource>).find((r) => r.Type === 'AWS::CodePipeline::Pipeline')!;
    expect((pipeline.Properties.Stages as { Name: string }[]).map((s) => s.Name)).toEqual(['Source', 'Resolve', 'Plan', 'Deploy', 'Verify', 'Record']);
  });
});

describe('rollback pipeline least privilege', () => {
  const ledgerArn = { 'Fn::GetAtt': [logicalIdOf(built.stack.node.findChild('ReleaseLedger')), 'Arn'] };

  test('Resolve reads the ledger, archived assemblies and its own executions, and reports its job', () => {
    const statements = statementsOfRole(logicalIdOf(built.rollback.resolveFunction.role!));
    expect(actionsOf(statements).filter((a) => !a.startsWith('logs:'))).toEqual(
      [
        'codepipeline:GetPipelineExecution',
        'codepipeline:ListActionExecutions',
        'codepipeline:PutJobFailureResult',
        'codepipeline:PutJobSuccessResult',
        'dynamodb:GetItem',
        'dynamodb:Query',
        's3:GetObject',
        's3:GetObjectVersion',
      ].sort(),
    );
    expect(statements.find((s) => s.Sid === 'ReadReleaseLedger')!.Resource).toEqual(ledgerArn);
    expect(statements.find((s) => s.Sid === 'ReadArchivedAssemblies')!.Resource).toEqual(archiveAssemblies);
    expect(JSON.stringify(statements.find((s) => s.Sid === 'ReadOwnExecutions')!.Resource)).toContain(':notes-rollback');
  });

  test('Record may only append to the ledger (PutItem, no update or delete), publish to its topic and read its executions', () => {
    const statements = statementsOfRole(logicalIdOf(built.rollback.recordFunction.role!));
    const actions = actionsOf(statements).filter((a) => !a.startsWith('logs:'));
    expect(actions).toEqual(
      [
        'codepipeline:GetPipelineExecution',
        'codepipeline:ListActionExecutions',
        'codepipeline:PutJobFailureResult',
        'codepipeline:PutJobSuccessResult',
        'dynamodb:PutItem',
        'kms:Decrypt',
        'kms:GenerateDataKey*',
        'sns:Publish',
      ].sort(),
    );
    expect(statements.find((s) => s.Sid === 'AppendToReleaseLedger')!.Resource).toEqual(ledgerArn);
  });

  const assumesOnlyBootstrapRoles = (statements: Statement[]) => {
    const assume = statements.find((s) => s.Sid === 'AssumeCdkBootstrapDeployRoles')!;
    expect(assume.Action).toBe('sts:AssumeRole');
    expect(JSON.stringify(assume.Resource)).toContain('cdk-hnb659fds-deploy-role-');
    expect(JSON.stringify(assume.Resource)).toContain('cdk-hnb659fds-file-publishing-role-');
    expect((assume.Resource as unknown[]).length).toBe(2);
    expect(actionsOf(statements)).not.toContain('cloudformation:*');
    expect(actionsOf(statements).filter((a) => a.startsWith('dynamodb:') || a.startsWith('iam:'))).toEqual([]);
  };

  test('the Plan project may assume only the prod plan role and read archived assemblies', () => {
    const statements = statementsOfRole(logicalIdOf(built.rollback.planProject.role!));
    const assume = statements.filter((s) => actionsOf([s]).includes('sts:AssumeRole'));
    expect(assume.map((s) => [s.Sid, JSON.stringify(s.Resource)])).toEqual([
      ['AssumeProdPlanRole', JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/notes-release-plan-eu-west-1']] })],
    ]);
    expect(actionsOf(statements).filter((a) => a.startsWith('cloudformation:') || a.startsWith('dynamodb:') || a.startsWith('iam:'))).toEqual([]);
    expect(statements.find((s) => s.Sid === 'ReadArchivedAssemblies')!.Resource).toEqual(archiveAssemblies);
  });

  test('the Deploy project may assume only the prod bootstrap deploy roles, and reads no archive (the change set holds the plan)', () => {
    const statements = statementsOfRole(logicalIdOf(built.rollback.deployProject.role!));
    assumesOnlyBootstrapRoles(statements);
    expect(statements.find((s) => s.Sid === 'ReadArchivedAssemblies')).toBeUndefined();
  });
});

describe('cdk-nag', () => {
  test('the rollback pipeline has no unacknowledged AwsSolutions finding', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'notes-rollback-nag-'));
    try {
      const nagged = rollbackTestStack({ nagChecks: true, outdir });
      let error: string | undefined;
      try {
        nagged.app.synth();
      } catch (e) {
        error = (e as Error).message;
      }
      const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
      };
      const findings = report.pluginReports.flatMap((p) => p.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`)));
      expect(findings).toEqual([]);
      expect(error).toBeUndefined();
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
