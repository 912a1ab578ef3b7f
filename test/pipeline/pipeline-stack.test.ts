/**
 * The synthesized NotesPipeline stack: the release and hotfix pipelines' structure, their gates,
 * and least privilege for every role. Built the way bin/app.ts builds it (test/infra/fixture).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEPLOY_KIT_DIR } from '../../lib/pipeline/deploy-kit';
import { buildTestApp } from '../infra/fixture';

type Json = Record<string, unknown>;
interface CfnResource {
  Type: string;
  Properties: Json;
}
interface Action {
  Name: string;
  ActionTypeId: { Category: string; Provider: string };
  RunOrder?: number;
  Configuration?: Record<string, string>;
  RoleArn?: unknown;
  Namespace?: string;
}
interface StageDecl {
  Name: string;
  Actions: Action[];
  OnFailure?: Json;
  OnSuccess?: Json;
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const { app, built } = buildTestApp();
const stack = built.pipelineStack;
const template = Template.fromStack(stack);
const resources = template.toJSON().Resources as Record<string, CfnResource>;

function pipelineNamed(name: string): Json {
  const found = Object.values(resources).find((r) => r.Type === 'AWS::CodePipeline::Pipeline' && r.Properties.Name === name);
  if (!found) throw new Error(`no pipeline ${name}`);
  return found.Properties;
}
const stagesOf = (name: string) => pipelineNamed(name).Stages as StageDecl[];
const stage = (pipeline: string, stageName: string) => stagesOf(pipeline).find((s) => s.Name === stageName)!;
const logicalIdOf = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

/** Every statement of every policy attached to the role with this logical id. */
function statementsOfRole(roleLogicalId: string): Statement[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleLogicalId }]))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
const roleIdOfProject = (p: { role?: { node: { defaultChild?: unknown } } }) => logicalIdOf(p.role!);
/** The logical id of the role CDK made for one pipeline action (`RoleArn: {Fn::GetAtt: [id, Arn]}`). */
function actionRoleId(pipeline: string, stageName: string, actionName: string): string {
  const action = stage(pipeline, stageName).Actions.find((a) => a.Name === actionName)!;
  return (action.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
}

/** Evaluates the intrinsic functions CDK uses to take a name out of an ARN (account id as 123456789012). */
function evaluate(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v.Ref === 'AWS::AccountId') return '123456789012';
  if (v['Fn::Join']) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(evaluate).join(sep);
  }
  if (v['Fn::Select']) {
    const [index, list] = v['Fn::Select'] as [number, { 'Fn::Split': [string, unknown] }];
    const [sep, text] = list['Fn::Split'];
    return evaluate(text).split(sep)[index];
  }
  throw new Error(`cannot evaluate ${JSON.stringify(value)}`);
}

/** An ARN with its Fn::Join flattened, intrinsics shown as JSON. */
const render = (r: unknown): string =>
  typeof r === 'string' ? r : (r as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'] ? (r as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('') : JSON.stringify(r);

/** A project's plain-text environment variables, intrinsics rendered as JSON. */
function envOf(p: { node: { defaultChild?: unknown } }): Record<string, string> {
  const vars = (resources[logicalIdOf(p)].Properties.Environment as { EnvironmentVariables: { Name: string; Value: unknown }[] }).EnvironmentVariables;
  return Object.fromEntries(vars.map((v) => [v.Name, render(v.Value)]));
}
/** A deploy kit script, continuation lines joined. */
const kitScript = (name: string) => readFileSync(join(DEPLOY_KIT_DIR, name), 'utf8').replace(/\s*\\\n\s*/g, ' ');

describe('release pipeline structure', () => {
  test('is a V2 pipeline in QUEUED mode named notes-release', () => {
    expect(pipelineNamed('notes-release')).toMatchObject({ PipelineType: 'V2', ExecutionMode: 'QUEUED' });
  });

  test('stages run Source, Build, Dev, PlanProd, ApproveProd, UpdatePipeline, Prod, Release in that order', () => {
    expect(stagesOf('notes-release').map((s) => s.Name)).toEqual(['Source', 'Build', 'Dev', 'PlanProd', 'ApproveProd', 'UpdatePipeline', 'Prod', 'Release']);
  });

  test('starts on pushes to main through the CodeConnections source', () => {
    const p = pipelineNamed('notes-release');
    expect(p.Triggers).toEqual([
      { ProviderType: 'CodeStarSourceConnection', GitConfiguration: { SourceActionName: 'Source', Push: [{ Branches: { Includes: ['main'] } }] } },
    ]);
    const source = stage('notes-release', 'Source').Actions[0];
    expect(source.ActionTypeId.Provider).toBe('CodeStarSourceConnection');
    expect(source.Configuration).toMatchObject({
      FullRepositoryId: 'example-org/serverless-personal-notes',
      BranchName: 'main',
      OutputArtifactFormat: 'CODEBUILD_CLONE_REF',
    });
  });

  test('declares ALLOW_STATEFUL_CHANGE defaulting to false, and the build exports VERSION, COMMIT, CHANGE_SUMMARY, PR_URL, PR_APPROVERS, KNOWN_ISSUES, COMMIT_TIMES', () => {
    expect(pipelineNamed('notes-release').Variables).toEqual([expect.objectContaining({ Name: 'ALLOW_STATEFUL_CHANGE', DefaultValue: 'false' })]);
    const build = stage('notes-release', 'Build').Actions.find((a) => a.Name === 'Build')!;
    expect(build.Namespace).toBe('Build');
    const source = resources[logicalIdOf(stack.releasePipeline.buildProject)].Properties.Source as Json;
    const spec = JSON.parse(String(source.BuildSpec));
    expect(spec.env['exported-variables']).toEqual(['VERSION', 'COMMIT', 'CHANGE_SUMMARY', 'PR_URL', 'PR_APPROVERS', 'KNOWN_ISSUES', 'COMMIT_TIMES']);
  });

  test("the build's approvals gate gets its rules from the pipeline definition and the read-only token's secret by name", () => {
    for (const p of [stack.releasePipeline.buildProject, stack.hotfixPipeline.buildProject]) {
      const vars = (resources[logicalIdOf(p)].Properties.Environment as { EnvironmentVariables: { Name: string; Type: string; Value: string }[] }).EnvironmentVariables;
      const byName = Object.fromEntries(vars.map((v) => [v.Name, v]));
      // The name only: the script reads the value through the SDK, so no build command's environment holds the token.
      expect(byName.GIT_READ_TOKEN_SECRET_NAME).toEqual({ Name: 'GIT_READ_TOKEN_SECRET_NAME', Type: 'PLAINTEXT', Value: 'notes/release/git-read-token' });
      expect(vars.filter((v) => v.Type !== 'PLAINTEXT')).toEqual([]);
      expect(JSON.parse(byName.PR_APPROVALS_POLICY.Value)).toEqual({
        releaseBranch: 'main',
        securityPaths: expect.arrayContaining(['lib/pipeline/', 'lib/constructs/', 'cdk.json', '.github/CODEOWNERS']),
        securityReviewers: { team: 'example-org/security' },
        architecturePaths: ['lib/constructs/', 'lib/pipeline/', 'lib/*-stack.ts', 'lib/app.ts'],
      });
    }
  });

  test('the build checks the version first, then lints, tests, audits and synthesizes with the release identity', () => {
    const source = resources[logicalIdOf(stack.releasePipeline.buildProject)].Properties.Source as Json;
    const commands = JSON.parse(String(source.BuildSpec)).phases.build.commands as string[];
    expect(commands[0]).toMatch(/^npx tsx lib\/release\/scripts\/release-version.ts --kind release --out .pipeline\/vars.env --summary-max \d+$/);
    expect(commands).toEqual(
      expect.arrayContaining([
        'npm run lint',
        'npm run typecheck',
        'npx jest --ci',
        'npm run test:iam',
        'npm audit --audit-level=high',
        'CDK_VALIDATION=true npx cdk synth --quiet -c releaseVersion="$VERSION" -c commitSha="$COMMIT"',
      ]),
    );
  });

  test('the self-update step runs only after the approval and deploys only the NotesPipeline stack; the pipeline restarts on update', () => {
    const names = stagesOf('notes-release').map((s) => s.Name);
    expect(names.indexOf('UpdatePipeline')).toBe(names.indexOf('ApproveProd') + 1);
    expect(stage('notes-release', 'UpdatePipeline').Actions.map((a) => [a.Name, a.RunOrder])).toEqual([['SelfUpdate', 1]]);
    expect(stage('notes-release', 'Build').Actions.map((a) => a.Name)).toEqual(['Build']);
    // The hotfix pipeline never updates the pipelines.
    expect(stagesOf('notes-hotfix').map((s) => s.Name)).not.toContain('UpdatePipeline');
    const source = resources[logicalIdOf(stack.releasePipeline.selfUpdateProject!)].Properties.Source as Json;
    expect(JSON.parse(String(source.BuildSpec)).phases.build.commands).toEqual(['bash self-update.sh']);
    expect(envOf(stack.releasePipeline.selfUpdateProject!)).toEqual({ STACK_NAME: 'NotesPipeline' });
    expect(kitScript('self-update.sh')).toContain('npx --no-install cdk deploy --app "$CODEBUILD_SRC_DIR_Assembly" "$STACK_NAME" --exclusively --require-approval never');
    expect(pipelineNamed('notes-release').RestartExecutionOnUpdate).toBe(true);
  });

  test('every deploy is followed by a smoke test of that environment expecting the built version', () => {
    for (const name of ['Dev', 'Prod']) {
      const actions = stage('notes-release', name).Actions;
      const deploy = actions.find((a) => a.Name === 'Deploy')!;
      const smoke = actions.find((a) => a.Name === 'SmokeTest')!;
      expect(smoke.RunOrder).toBe(deploy.RunOrder! + 1);
      expect(smoke.ActionTypeId).toMatchObject({ Category: 'Invoke', Provider: 'Lambda' });
      expect(evaluate(smoke.Configuration!.FunctionName)).toBe(`notes-${name.toLowerCase()}-smoke-test`);
      expect(smoke.Configuration!.UserParameters).toBe('{"expectedVersion":"#{Build.VERSION}"}');
    }
  });

  test('deploys run cdk deploy of the one stack from the assembly and export its outputs', () => {
    const source = resources[logicalIdOf(stack.releasePipeline.deployProjects.dev)].Properties.Source as Json;
    const spec = JSON.parse(String(source.BuildSpec));
    expect(spec.phases.build.commands).toEqual(['bash deploy.sh', '. ./.pipeline/outputs.env', '. ./.pipeline/shift.env']);
    expect(envOf(stack.releasePipeline.deployProjects.dev)).toMatchObject({ STACK_NAME: 'NotesStack-dev', TARGET_REGION: 'eu-west-1', PIPELINE_NAME: 'notes-release' });
    expect(kitScript('deploy.sh')).toContain(
      'npx --no-install cdk deploy --app "$assembly" "$STACK_NAME" --exclusively --require-approval never --outputs-file "$kit/.pipeline/outputs.json" "${parameter_args[@]}"',
    );
    expect(spec.env['exported-variables']).toEqual(expect.arrayContaining(['ApiUrl', 'TableName', 'SmokeTestFunctionName', 'STACK_NAME']));
  });

  test('prod is reached only through the approval stage, whose text carries version, commit, changes and the dev smoke result', () => {
    const names = stagesOf('notes-release').map((s) => s.Name);
    // Between them only UpdatePipeline, which deploys NotesPipeline and nothing of prod.
    expect(names.slice(names.indexOf('ApproveProd') + 1, names.indexOf('Prod'))).toEqual(['UpdatePipeline']);
    const [approval] = stage('notes-release', 'ApproveProd').Actions;
    expect(approval.ActionTypeId).toMatchObject({ Category: 'Approval', Provider: 'Manual' });
    const info = approval.Configuration!.CustomData;
    for (const part of ['#{Build.VERSION}', '#{Build.COMMIT}', '#{Build.CHANGE_SUMMARY}', '#{Build.PR_URL}', '#{Build.PR_APPROVERS}', '#{Build.KNOWN_ISSUES}', '#{SmokeDev.SMOKE_SUMMARY}', '#{DeployDev.ApiUrl}']) {
      expect(info).toContain(part);
    }
    expect(info).toContain('approved by #{Build.PR_APPROVERS}. Known issues: #{Build.KNOWN_ISSUES}.');
    // The review link opens the plan (the Plan step's log), which links the change set.
    expect(approval.Configuration!.ExternalEntityLink).toBe('#{Plan.PLAN_URL}');
    expect(approval.Configuration!.NotificationArn).toBeDefined();
  });

  test('approvers are notified through an encrypted topic', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'release-approvers@example.com' });
    template.allResourcesProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  test('prod first clears a failed first create, then checks backups before it executes the plan, then smoke tests', () => {
    expect(stage('notes-release', 'Prod').Actions.map((a) => [a.Name, a.RunOrder])).toEqual([
      ['RecoverFailedCreate', 1],
      ['BackupsValidated', 2],
      ['Deploy', 3],
      ['SmokeTest', 4],
    ]);
    const backups = stage('notes-release', 'Prod').Actions.find((a) => a.Name === 'BackupsValidated')!;
    expect(JSON.parse(backups.Configuration!.UserParameters)).toEqual({ stackName: 'NotesStack-prod', region: 'eu-west-1', maxAgeMinutes: 15 });
  });

  /** A project's buildspec; CloudFormation references in it (role ARNs) read as `<ref>`. */
  const buildCommands = (p: { node: { defaultChild?: unknown } }) => {
    const spec = (resources[logicalIdOf(p)].Properties.Source as Json).BuildSpec as string | { 'Fn::Join': [string, unknown[]] };
    const text = typeof spec === 'string' ? spec : spec['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<ref>')).join('');
    return JSON.parse(text) as { phases: { build: { commands: string[] } }; artifacts?: Json; env?: Json };
  };

  test('the plan is made before the approval: its own stage prepares the prod change set, named after the execution, and judges it', () => {
    const names = stagesOf('notes-release').map((s) => s.Name);
    expect(names.indexOf('PlanProd')).toBe(names.indexOf('ApproveProd') - 1);
    // Nothing in PlanProd changes prod: a failed first create is cleared after the approval.
    expect(stage('notes-release', 'PlanProd').Actions.map((a) => [a.Name, a.RunOrder])).toEqual([['Plan', 1]]);
    const plan = stage('notes-release', 'PlanProd').Actions.find((a) => a.Name === 'Plan')!;
    expect(plan).toMatchObject({ Name: 'Plan', Namespace: 'Plan', ActionTypeId: { Category: 'Build', Provider: 'CodeBuild' } });
    expect(JSON.parse(plan.Configuration!.EnvironmentVariables)).toEqual([
      { name: 'ALLOW_STATEFUL_CHANGE', type: 'PLAINTEXT', value: '#{variables.ALLOW_STATEFUL_CHANGE}' },
      { name: 'PIPELINE_EXECUTION_ID', type: 'PLAINTEXT', value: '#{codepipeline.PipelineExecutionId}' },
    ]);
    const spec = buildCommands(stack.releasePipeline.planProject);
    expect(spec.phases.build.commands).toEqual(['bash plan.sh', '. ./.pipeline/plan/plan.env']);
    expect(envOf(stack.releasePipeline.planProject)).toMatchObject({ STACK_NAME: 'NotesStack-prod', TARGET_REGION: 'eu-west-1' });
    const script = kitScript('plan.sh');
    expect(script).toContain('change_set="notes-plan-$PIPELINE_EXECUTION_ID"');
    // The change set carries the environment's traffic-shifting strategy (#13).
    expect(script).toContain('parameters="$(node "$kit/deploy-parameters.js" "$assembly" "$STACK_NAME" release)"');
    expect(script).toMatch(/npx --no-install cdk deploy --app "\$\w+" "\$STACK_NAME" --exclusively --require-approval never --no-execute --force --change-set-name "\$change_set" "\$\{parameter_args\[@\]\}"/);
    expect(script).toContain('--allow "$ALLOW_STATEFUL_CHANGE"');
    expect(spec.artifacts).toEqual({ 'base-directory': '.pipeline/plan', files: ['plan.md', 'plan.json'] });
    expect(spec.env).toEqual({ 'exported-variables': ['PLAN_SUMMARY', 'PLAN_SHA256', 'CHANGE_SET_NAME', 'CHANGE_SET_URL', 'PLAN_URL'] });
  });

  test('the approval carries the plan summary, and its review link is the plan (which links the change set)', () => {
    for (const approval of [...stage('notes-release', 'ApproveProd').Actions, ...stage('notes-hotfix', 'ApproveProd').Actions]) {
      expect(approval.Configuration!.CustomData).toContain('Prod #{Plan.PLAN_SUMMARY}');
      expect(approval.Configuration!.ExternalEntityLink).toBe('#{Plan.PLAN_URL}');
    }
  });

  test('prod executes that change set by name and never prepares one of its own', () => {
    const deploy = stage('notes-release', 'Prod').Actions.find((a) => a.Name === 'Deploy')!;
    expect(JSON.parse(deploy.Configuration!.EnvironmentVariables)).toEqual([
      { name: 'PIPELINE_EXECUTION_ID', type: 'PLAINTEXT', value: '#{codepipeline.PipelineExecutionId}' },
      { name: 'PLAN_CHANGE_SET', type: 'PLAINTEXT', value: '#{Plan.CHANGE_SET_NAME}' },
    ]);
    // The plan is its third input: a plan that creates the whole stack is checked against the assembly.
    expect((deploy as unknown as { InputArtifacts: { Name: string }[] }).InputArtifacts.map((i) => i.Name)).toEqual(['DeployKit', 'Assembly', 'Plan']);
    expect(buildCommands(stack.releasePipeline.deployProjects.prod).phases.build.commands).toEqual(['bash prod-deploy.sh', '. ./.pipeline/outputs.env', '. ./.pipeline/shift.env']);
    expect(envOf(stack.releasePipeline.deployProjects.prod)).toMatchObject({ STACK_NAME: 'NotesStack-prod', PIPELINE_NAME: 'notes-release' });
    const commands = kitScript('prod-deploy.sh');
    expect(commands).toContain('node "$kit/bin/execute-change-set.js" --stack "$STACK_NAME" --change-set "notes-plan-$PIPELINE_EXECUTION_ID"');
    // The only direct cdk deploys are the stage rollback's (the previous, released assembly) and the
    // approved creation of a stack whose first create failed.
    expect(commands.match(/npx --no-install cdk deploy/g)).toHaveLength(2);
    expect(commands).toMatch(/if \[ "\$mode" = rollback \]; then[^]*deploy-parameters\.js" "\$assembly" "\$STACK_NAME" rollback\)"[^]*npx --no-install cdk deploy --app[^]*else/);
    // ... and the creation the approved plan describes when the first create failed (checked first).
    expect(commands).toMatch(/elif \[ "\$PLAN_CHANGE_SET" = create \]; then[^]*node "\$kit\/plan-template\.js" "\$assembly" "\$STACK_NAME" "\$CODEBUILD_SRC_DIR_Plan\/plan\.json"[^]*npx --no-install cdk deploy --app "\$assembly"[^]*else/);
    expect(commands).not.toContain('--no-execute');
    expect(commands).not.toContain('change-set-name');
  });

  test('dev prints its plan in the build log before it deploys', () => {
    const commands = kitScript('deploy.sh').split('\n');
    const diff = commands.findIndex((c) => c.startsWith('npx --no-install cdk diff --app "$assembly" "$STACK_NAME"'));
    const deploy = commands.findIndex((c) => c.startsWith('npx --no-install cdk deploy --app "$assembly" "$STACK_NAME"'));
    expect(diff).toBeGreaterThan(-1);
    expect(diff).toBeLessThan(deploy);
  });

  test('prod rolls back on failure and when a service-health metric alarm fires after the deploy', () => {
    const prod = stage('notes-release', 'Prod');
    expect(prod.OnFailure).toEqual({ Result: 'ROLLBACK' });
    const rule = (name: string, alarm: string) => ({
      Name: name,
      Region: 'eu-west-1',
      RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'CloudWatchAlarm', Version: '1' },
      Configuration: { AlarmName: alarm, AlarmStates: 'ALARM', WaitTime: '10' },
    });
    expect(prod.OnSuccess).toEqual({
      Conditions: [
        {
          Result: 'ROLLBACK',
          Rules: [
            rule('ProdApi5xxRate', 'notes-prod-api-5xx-rate'),
            rule('ProdApiLatencyP99', 'notes-prod-api-latency-p99'),
            rule('ProdApiLambdaErrors', 'notes-prod-api-lambda-errors'),
            rule('ProdApiLambdaThrottles', 'notes-prod-api-lambda-throttles'),
            rule('ProdTableThrottles', 'notes-prod-table-throttles'),
          ],
        },
      ],
    });
    expect(stage('notes-release', 'Dev').OnFailure).toBeUndefined();
  });

  test('the alarm rules watch exactly the metric alarms NotesStack-prod defines, never a composite alarm, and the pipeline role may read just those', () => {
    // Arrange: the alarms the prod stack really creates
    const prodResources = Object.values(buildTestApp().template('prod').toJSON().Resources as Record<string, CfnResource>);
    // The new-version alarms of the canary are CodeDeploy's to watch (#13), during the shift; the rest are the service's health.
    const metricAlarms = prodResources
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => r.Properties.AlarmName as string)
      .filter((name) => !name.includes('-new-version-'));
    const compositeAlarms = prodResources.filter((r) => r.Type === 'AWS::CloudWatch::CompositeAlarm').map((r) => r.Properties.AlarmName);

    // Act
    const watched = (stage('notes-release', 'Prod').OnSuccess as { Conditions: { Rules: { Configuration: { AlarmName: string } }[] }[] }).Conditions[0].Rules.map(
      (r) => r.Configuration.AlarmName,
    );
    const pipelineRole = (pipelineNamed('notes-release').RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const readable = statementsOfRole(pipelineRole)
      .filter((st) => actionsOf([st]).includes('cloudwatch:DescribeAlarms'))
      .flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map(render));

    // Assert
    expect([...watched].sort()).toEqual([...metricAlarms].sort());
    expect(watched.filter((name) => compositeAlarms.includes(name))).toEqual([]);
    expect(watched.length).toBeLessThanOrEqual(5);
    expect([...readable].sort()).toEqual(watched.map((name) => `arn:aws:cloudwatch:eu-west-1:{"Ref":"AWS::AccountId"}:alarm:${name}`).sort());
  });

  test('the failed-create step runs the script on the prod stack through the prod deploy role, which is all its role may assume', () => {
    // Arrange
    const project = stack.releasePipeline.failedCreateProject;
    const spec = buildCommands(project);
    const assume = statementsOfRole(roleIdOfProject(project)).filter((st) => actionsOf([st]).includes('sts:AssumeRole'));

    // Assert
    expect(spec.phases.build.commands).toEqual(['bash recover-failed-create.sh']);
    expect(kitScript('recover-failed-create.sh')).toContain('node "$kit/bin/failed-create.js" --stack "$STACK_NAME" --region "$TARGET_REGION" --role-arn "$DEPLOY_ROLE_ARN"');
    expect(envOf(project)).toEqual({
      STACK_NAME: 'NotesStack-prod',
      TARGET_REGION: 'eu-west-1',
      DEPLOY_ROLE_ARN: 'arn:{"Ref":"AWS::Partition"}:iam::{"Ref":"AWS::AccountId"}:role/cdk-hnb659fds-deploy-role-{"Ref":"AWS::AccountId"}-eu-west-1',
    });
    expect(assume).toHaveLength(1);
    expect((assume[0].Resource as unknown[]).map(render)).toEqual([
      'arn:{"Ref":"AWS::Partition"}:iam::{"Ref":"AWS::AccountId"}:role/cdk-hnb659fds-deploy-role-{"Ref":"AWS::AccountId"}-eu-west-1',
      'arn:{"Ref":"AWS::Partition"}:iam::{"Ref":"AWS::AccountId"}:role/cdk-hnb659fds-file-publishing-role-{"Ref":"AWS::AccountId"}-eu-west-1',
    ]);
    expect(stack.hotfixPipeline.failedCreateProject).toBeDefined();
  });

  test('the release stage records the release from the assembly with parameters that cannot break JSON', () => {
    const [record] = stage('notes-release', 'Release').Actions;
    expect(record.Name).toBe('RecordRelease');
    // The assembly to archive, and the plan the approvers saw.
    expect((record as unknown as { InputArtifacts: { Name: string }[] }).InputArtifacts).toEqual([{ Name: 'Assembly' }, { Name: 'Plan' }]);
    expect(JSON.parse(record.Configuration!.UserParameters)).toEqual({
      version: '#{Build.VERSION}',
      commit: '#{Build.COMMIT}',
      executionId: '#{codepipeline.PipelineExecutionId}',
    });
  });
});

describe('hotfix pipeline', () => {
  test('is a second V2 QUEUED pipeline started by pushes to hotfix/** and never restarted by self-update', () => {
    const p = pipelineNamed('notes-hotfix');
    expect(p).toMatchObject({ PipelineType: 'V2', ExecutionMode: 'QUEUED', RestartExecutionOnUpdate: false });
    expect((p.Triggers as Json[])[0]).toMatchObject({ GitConfiguration: { Push: [{ Branches: { Includes: ['hotfix/**'] } }] } });
  });

  test('has the same stages, a build without self-update, and two approvals before prod', () => {
    expect(stagesOf('notes-hotfix').map((s) => s.Name)).toEqual(['Source', 'Build', 'Dev', 'PlanProd', 'ApproveProd', 'Prod', 'Release']);
    expect(stage('notes-hotfix', 'Build').Actions.map((a) => a.Name)).toEqual(['Build']);
    expect(stage('notes-hotfix', 'ApproveProd').Actions.map((a) => [a.Name, a.RunOrder])).toEqual([
      ['SeniorReview', 1],
      ['OpsOwner', 1],
    ]);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  test('builds with lint and unit tests (no reliability suite) and checks the version as a hotfix', () => {
    const source = resources[logicalIdOf(stack.hotfixPipeline.buildProject)].Properties.Source as Json;
    const commands = JSON.parse(String(source.BuildSpec)).phases.build.commands as string[];
    expect(commands[1]).toContain('--kind hotfix');
    expect(commands).toEqual(expect.arrayContaining(['npm run lint', 'npx jest --ci --testPathIgnorePatterns test/reliability', 'npm run test:iam', 'npm audit --audit-level=high']));
  });

  test('the build first refuses an execution that is not a push to a hotfix branch (the run on creation, a manual start of main)', () => {
    // Arrange
    const source = resources[logicalIdOf(stack.hotfixPipeline.buildProject)].Properties.Source as Json;
    const commands = JSON.parse(String(source.BuildSpec)).phases.build.commands as string[];
    const build = stage('notes-hotfix', 'Build').Actions.find((a) => a.Name === 'Build')!;

    // Assert: the check runs before anything else, with this execution's id and source branch
    expect(commands[0]).toBe(
      `npx tsx lib/release/scripts/hotfix-trigger.ts --pipeline notes-hotfix --execution "$PIPELINE_EXECUTION_ID" --branch "$SOURCE_BRANCH" --pattern 'hotfix/**'`,
    );
    expect(JSON.parse(build.Configuration!.EnvironmentVariables)).toEqual([
      { name: 'PIPELINE_EXECUTION_ID', type: 'PLAINTEXT', value: '#{codepipeline.PipelineExecutionId}' },
      { name: 'SOURCE_BRANCH', type: 'PLAINTEXT', value: '#{Source.BranchName}' },
    ]);
    // and the build role may read this pipeline's executions, and no other's
    const statements = statementsOfRole(roleIdOfProject(stack.hotfixPipeline.buildProject));
    expect(statements.filter((st) => actionsOf([st]).includes('codepipeline:GetPipelineExecution')).map((st) => render(st.Resource))).toEqual([
      'arn:aws:codepipeline:eu-west-1:{"Ref":"AWS::AccountId"}:notes-hotfix',
    ]);
  });

  test('the release build has no such check: its run on creation is the first release (it still waits for the prod approval)', () => {
    const source = resources[logicalIdOf(stack.releasePipeline.buildProject)].Properties.Source as Json;
    expect(String(source.BuildSpec)).not.toContain('hotfix-trigger');
    expect(stage('notes-release', 'Build').Actions.find((a) => a.Name === 'Build')!.Configuration!.EnvironmentVariables).toBeUndefined();
  });

  test('prod has the same gates and rollback as the release pipeline', () => {
    const prod = stage('notes-hotfix', 'Prod');
    expect(prod.Actions.map((a) => a.Name)).toEqual(['RecoverFailedCreate', 'BackupsValidated', 'Deploy', 'SmokeTest']);
    expect(stage('notes-hotfix', 'PlanProd').Actions.map((a) => a.Name)).toEqual(['Plan']);
    expect(prod.OnFailure).toEqual({ Result: 'ROLLBACK' });
    expect(prod.OnSuccess).toEqual(stage('notes-release', 'Prod').OnSuccess);
  });
});

describe('least privilege', () => {
  const bootstrapRole = (kind: string) =>
    `arn:{"Ref":"AWS::Partition"}:iam::{"Ref":"AWS::AccountId"}:role/cdk-hnb659fds-${kind}-role-{"Ref":"AWS::AccountId"}-eu-west-1`;

  test('the build role assumes no role and reads the ledger without writing it', () => {
    const statements = statementsOfRole(roleIdOfProject(stack.releasePipeline.buildProject));
    expect(actionsOf(statements).filter((a) => a.startsWith('sts:'))).toEqual([]);
    expect(actionsOf(statements).filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
  });

  test('the Plan roles may assume only the prod plan role: no bootstrap role, so nothing before the approval can execute or delete in prod', () => {
    for (const p of [stack.releasePipeline.planProject, stack.hotfixPipeline.planProject]) {
      const statements = statementsOfRole(roleIdOfProject(p));
      const assume = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('sts:')));
      expect(assume.map((s) => [s.Action, render(s.Resource)])).toEqual([['sts:AssumeRole', 'arn:{"Ref":"AWS::Partition"}:iam::{"Ref":"AWS::AccountId"}:role/notes-release-plan-eu-west-1']]);
      expect(actionsOf(statements).filter((a) => /^(cloudformation|lambda|dynamodb|iam|codepipeline):/.test(a))).toEqual([]);
      expect(envOf(p).PLAN_ROLE_ARN).toBe('arn:{"Ref":"AWS::Partition"}:iam::{"Ref":"AWS::AccountId"}:role/notes-release-plan-eu-west-1');
      expect(envOf(p).DEPLOY_ROLE_ARN).toBeUndefined();
    }
    // The kit's plan.sh runs the CLI on the copy that names the plan role, and render-plan through it.
    const script = kitScript('plan.sh');
    expect(script).toContain('node "$kit/bin/plan-assembly.js" --assembly "$assembly" --stack "$STACK_NAME" --role-arn "$PLAN_ROLE_ARN" --out "$planned"');
    expect(script).toContain('cdk deploy --app "$planned" "$STACK_NAME"');
    expect(script).toContain('--assembly "$planned" --role-arn "$PLAN_ROLE_ARN"');
  });

  test('deploy, failed-create and self-update roles may assume only the CDK bootstrap deploy and file-publishing roles (deploys also the read-only lookup role)', () => {
    const projects = [
      stack.releasePipeline.deployProjects.dev,
      stack.releasePipeline.deployProjects.prod,
      stack.releasePipeline.failedCreateProject,
      stack.releasePipeline.selfUpdateProject!,
      stack.hotfixPipeline.deployProjects.prod,
    ];
    for (const p of projects) {
      const statements = statementsOfRole(roleIdOfProject(p));
      const assume = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('sts:')) && s.Sid !== 'AssumeCdkLookupRoleToReadTheShift');
      expect(assume).toHaveLength(1);
      expect(assume[0].Action).toBe('sts:AssumeRole');
      expect((assume[0].Resource as unknown[]).map(render)).toEqual([bootstrapRole('deploy'), bootstrapRole('file-publishing')]);
      expect(actionsOf(statements).filter((a) => /^(cloudformation|lambda|dynamodb|iam):/.test(a))).toEqual([]);
    }
    const deploys = [stack.releasePipeline.deployProjects.dev, stack.releasePipeline.deployProjects.prod, stack.hotfixPipeline.deployProjects.prod];
    for (const p of [...projects]) {
      const lookup = statementsOfRole(roleIdOfProject(p)).filter((s) => s.Sid === 'AssumeCdkLookupRoleToReadTheShift');
      expect(lookup.map((s) => render(s.Resource))).toEqual(deploys.includes(p) ? [bootstrapRole('lookup')] : []);
    }
  });

  test('the prod deploy role may read only its own pipeline\'s executions (to tell a stage rollback), nothing else of CodePipeline', () => {
    for (const [p, name] of [[stack.releasePipeline, 'notes-release'], [stack.hotfixPipeline, 'notes-hotfix']] as const) {
      const statements = statementsOfRole(roleIdOfProject(p.deployProjects.prod)).filter((st) => actionsOf([st]).some((a) => a.startsWith('codepipeline:')));
      expect(statements.map((st) => [st.Action, render(st.Resource)])).toEqual([['codepipeline:GetPipelineExecution', `arn:aws:codepipeline:eu-west-1:{"Ref":"AWS::AccountId"}:${name}`]]);
    }
  });

  test('each smoke action may invoke only its environment\'s smoke-test function', () => {
    for (const env of ['dev', 'prod']) {
      const statements = statementsOfRole(actionRoleId('notes-release', env === 'dev' ? 'Dev' : 'Prod', 'SmokeTest'));
      const invoke = statements.filter((s) => actionsOf([s]).includes('lambda:InvokeFunction'));
      expect(invoke).toHaveLength(1);
      const resources = (Array.isArray(invoke[0].Resource) ? invoke[0].Resource : [invoke[0].Resource]).map(render);
      expect(resources).toEqual([
        `arn:aws:lambda:eu-west-1:{"Ref":"AWS::AccountId"}:function:notes-${env}-smoke-test`,
        `arn:aws:lambda:eu-west-1:{"Ref":"AWS::AccountId"}:function:notes-${env}-smoke-test:*`,
      ]);
    }
  });

  test('the recorder may write only the archive prefix, append to the ledger, read its secret and its own pipeline history', () => {
    const fnRole = logicalIdOf(stack.releasePipeline.recorder.function.role!);
    const statements = statementsOfRole(fnRole);
    const byAction = (a: string) => statements.filter((s) => actionsOf([s]).includes(a)).map((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map(render));
    expect(byAction('s3:PutObject')).toEqual([[`{"Fn::GetAtt":["${logicalIdOf(stack.archiveBucket)}","Arn"]}/releases/*`]]);
    expect(byAction('dynamodb:PutItem')).toEqual([[`{"Fn::GetAtt":["${logicalIdOf(stack.ledgerTable)}","Arn"]}`]]);
    expect(actionsOf(statements)).not.toEqual(expect.arrayContaining(['dynamodb:UpdateItem']));
    expect(actionsOf(statements)).not.toEqual(expect.arrayContaining(['dynamodb:DeleteItem']));
    expect(actionsOf(statements)).not.toEqual(expect.arrayContaining(['s3:DeleteObject']));
    expect(byAction('secretsmanager:GetSecretValue')).toEqual([
      ['arn:aws:secretsmanager:eu-west-1:{"Ref":"AWS::AccountId"}:secret:notes/release/git-token-??????'],
    ]);
    expect(byAction('codepipeline:ListActionExecutions')).toEqual([['arn:aws:codepipeline:eu-west-1:{"Ref":"AWS::AccountId"}:notes-release']]);
    expect(actionsOf(statements).filter((a) => a.startsWith('sts:'))).toEqual([]);
  });

  test('the build roles may read only the read-only git token; only the recorder reads the write token', () => {
    const secretArn = (name: string) => `arn:aws:secretsmanager:eu-west-1:{"Ref":"AWS::AccountId"}:secret:${name}-??????`;
    const readers = new Map<string, string[]>();
    for (const r of Object.values(resources).filter((x) => x.Type === 'AWS::IAM::Policy')) {
      for (const s of (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
        if (!actionsOf([s]).some((a) => a.startsWith('secretsmanager:'))) continue;
        const roles = (r.Properties.Roles as { Ref: string }[]).map((x) => x.Ref);
        for (const res of (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map(render)) readers.set(res, [...(readers.get(res) ?? []), ...roles].sort());
      }
    }
    const buildRoles = [stack.releasePipeline.buildProject, stack.hotfixPipeline.buildProject].map(roleIdOfProject);
    const recorderRoles = [stack.releasePipeline.recorder, stack.hotfixPipeline.recorder].map((r) => logicalIdOf(r.function.role!));
    expect(Object.fromEntries(readers)).toEqual({
      [secretArn('notes/release/git-read-token')]: [...buildRoles].sort(),
      [secretArn('notes/release/git-token')]: [...recorderRoles].sort(),
    });
    for (const role of buildRoles) {
      const secretStatements = statementsOfRole(role).filter((s) => actionsOf([s]).some((a) => a.startsWith('secretsmanager:')));
      expect(secretStatements.map((s) => [actionsOf([s]).sort(), render(s.Resource)])).toEqual([
        [['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], secretArn('notes/release/git-read-token')],
      ]);
    }
  });

  test('the backups check may only describe the prod stack and its tables\' backups', () => {
    const statements = statementsOfRole(logicalIdOf(stack.releasePipeline.backupCheck.function.role!));
    const interesting = statements.filter((s) => !actionsOf([s]).some((a) => a.startsWith('logs:') || a.startsWith('codepipeline:PutJob')));
    expect(interesting.map((s) => [s.Action, render(s.Resource)])).toEqual([
      ['cloudformation:DescribeStacks', 'arn:aws:cloudformation:eu-west-1:{"Ref":"AWS::AccountId"}:stack/NotesStack-prod/*'],
      ['dynamodb:DescribeContinuousBackups', 'arn:aws:dynamodb:eu-west-1:{"Ref":"AWS::AccountId"}:table/NotesStack-prod-*'],
    ]);
  });

  test.each(['notes-release', 'notes-hotfix'])('the Source action role of %s may use the connection under the prefix of its ARN (codeconnections)', (name) => {
    // Arrange: the connection ARN from cdk.json is an arn:aws:codeconnections: one
    const connectionArn = built.config.pipeline.source.connectionArn;
    expect(connectionArn.split(':')[2]).toBe('codeconnections');

    // Act
    const statements = statementsOfRole(actionRoleId(name, 'Source', 'Source'));
    const use = (action: string) => statements.filter((st) => actionsOf([st]).includes(action)).map((st) => st.Resource);

    // Assert: IAM matches the action's service prefix to the resource's, so the new prefix must be granted
    expect(use('codeconnections:UseConnection')).toEqual([connectionArn]);
    expect(use('codestar-connections:UseConnection')).toContainEqual(connectionArn);
  });

  test('a custom bootstrap qualifier (cdk.json @aws-cdk/core:bootstrapQualifier) reaches every assume-role grant and the change-set executor', () => {
    // Arrange
    const custom = buildTestApp({ context: { '@aws-cdk/core:bootstrapQualifier': 'notes0001' } });
    const customTemplate = Template.fromStack(custom.built.pipelineStack).toJSON() as { Resources: Record<string, CfnResource> };

    // Act
    const assumed = Object.values(customTemplate.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((st) => actionsOf([st]).includes('sts:AssumeRole'))
      .flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map(render));
    const guardEnv = JSON.stringify((customTemplate.Resources[custom.built.pipelineStack.getLogicalId(custom.built.pipelineStack.releasePipeline.deployProjects.prod.node.defaultChild as never)].Properties.Environment as Json).EnvironmentVariables);

    // Assert: release, hotfix and rollback deploy roles all name the custom qualifier, none the default
    expect(assumed.filter((arn) => arn.includes(':role/cdk-'))).toHaveLength(assumed.filter((arn) => arn.includes('cdk-notes0001-')).length);
    expect(assumed.filter((arn) => arn.includes('cdk-notes0001-deploy-role-')).length).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(customTemplate)).not.toContain('hnb659fds');
    expect(guardEnv).toContain(':role/cdk-notes0001-deploy-role-');
  });

  test('no role allows a wildcard action', () => {
    const all = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => actionsOf((r.Properties.PolicyDocument as { Statement: Statement[] }).Statement));
    expect(all.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
  });
});

describe('artifact encryption: every reader of an artifact may decrypt it', () => {
  const keyArn = () => ({ 'Fn::GetAtt': [logicalIdOf(stack.pipelineKey), 'Arn'] });
  const bucketArn = () => ({ 'Fn::GetAtt': [logicalIdOf(stack.artifactBucket), 'Arn'] });
  const roleIdOf = (arn: unknown) => (arn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  const covers = (granted: string, action: string) =>
    granted === action || (granted.endsWith('*') && action.startsWith(granted.slice(0, -1)));
  /** Whether one of the role's statements allows `action` on exactly `resource`. */
  function allows(roleId: string, action: string, resource: unknown): boolean {
    const wanted = JSON.stringify(resource);
    return statementsOfRole(roleId).some((st) => {
      if (st.Effect !== 'Allow' || !actionsOf([st]).some((a) => covers(a, action))) return false;
      const list = Array.isArray(st.Resource) ? st.Resource : [st.Resource];
      return list.some((r) => JSON.stringify(r) === wanted);
    });
  }
  /** Who reads (and who writes) each artifact: the role CodeBuild runs as, or the action's role (a Lambda reads through its artifactCredentials). */
  function artifactUsers(pipeline: string): { who: string; roleId: string; reads: boolean; writes: boolean }[] {
    const p = pipelineNamed(pipeline);
    const users = [{ who: `${pipeline} pipeline role`, roleId: roleIdOf(p.RoleArn), reads: true, writes: true }];
    for (const st of p.Stages as (StageDecl & { Actions: (Action & { InputArtifacts?: unknown[]; OutputArtifacts?: unknown[] })[] })[]) {
      for (const a of st.Actions) {
        const reads = (a.InputArtifacts ?? []).length > 0;
        const writes = (a.OutputArtifacts ?? []).length > 0;
        if (!reads && !writes) continue;
        const roleId =
          a.ActionTypeId.Provider === 'CodeBuild'
            ? roleIdOf(resources[(a.Configuration!.ProjectName as unknown as { Ref: string }).Ref].Properties.ServiceRole)
            : roleIdOf(a.RoleArn);
        users.push({ who: `${pipeline} ${st.Name}/${a.Name} (${a.ActionTypeId.Provider})`, roleId, reads, writes });
      }
    }
    return users;
  }

  test('the artifact bucket is encrypted with the pipeline key, with an S3 bucket key', () => {
    expect(resources[logicalIdOf(stack.artifactBucket)].Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn() } }],
    });
  });

  test.each(['notes-release', 'notes-hotfix', 'notes-rollback'])('the artifact store of %s names the pipeline key', (name) => {
    expect(pipelineNamed(name).ArtifactStore).toEqual({ Type: 'S3', Location: { Ref: logicalIdOf(stack.artifactBucket) }, EncryptionKey: { Type: 'KMS', Id: keyArn() } });
  });

  test.each(['notes-release', 'notes-hotfix', 'notes-rollback'])('in %s, every role that reads an artifact may get it and kms:Decrypt it; every writer may encrypt', (name) => {
    // Arrange
    const users = artifactUsers(name);
    expect(users.filter((u) => u.reads).length).toBeGreaterThanOrEqual(name === 'notes-rollback' ? 2 : 6);

    // Act: what each user is missing
    const missing = users.flatMap((u) => [
      ...(u.reads && !allows(u.roleId, 's3:GetObject', { 'Fn::Join': ['', [bucketArn(), '/*']] }) ? [`${u.who}: s3:GetObject on the artifact bucket`] : []),
      ...(u.reads && !allows(u.roleId, 'kms:Decrypt', keyArn()) ? [`${u.who}: kms:Decrypt on PipelineKey`] : []),
      ...(u.writes && !allows(u.roleId, 'kms:GenerateDataKey', keyArn()) ? [`${u.who}: kms:GenerateDataKey on PipelineKey`] : []),
    ]);

    // Assert
    expect(missing).toEqual([]);
  });

  test('the release recorder, which reads the cloud assembly after prod is deployed, is among the readers', () => {
    const readers = artifactUsers('notes-release').filter((u) => u.reads).map((u) => u.who);
    expect(readers).toEqual(expect.arrayContaining(['notes-release Release/RecordRelease (Lambda)', 'notes-release Prod/Deploy (CodeBuild)']));
  });
});

describe('archive bucket and ledger table', () => {
  test('the archive bucket is versioned, encrypted, private, SSL-only and logged', () => {
    const bucket = resources[logicalIdOf(stack.archiveBucket)].Properties;
    expect(bucket).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { LogFilePrefix: 'archive/' },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalIdOf(stack.archiveBucket) },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    expect(template.toJSON().Resources[logicalIdOf(stack.archiveBucket)].DeletionPolicy).toBe('Retain');
  });

  test('the ledger table has pk/sk string keys, PITR, encryption and is retained', () => {
    const table = template.toJSON().Resources[logicalIdOf(stack.ledgerTable)];
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  test('the pipeline stack does not change with the release identity (self-update sees only definition changes)', () => {
    const other = buildTestApp({ context: { releaseVersion: '9.9.9', commitSha: 'abcdef1' } });
    expect(Template.fromStack(other.built.pipelineStack).toJSON()).toEqual(template.toJSON());
  });
});

describe('failure notifications', () => {
  test.each([
    ['notes-release', () => stack.releasePipeline],
    ['notes-hotfix', () => stack.hotfixPipeline],
  ])('a failed execution of %s e-mails the approvers and ops owners, naming the execution and where to look', (name, pipelineOf) => {
    // Arrange
    const topicId = logicalIdOf(pipelineOf().failureTopic);
    const rules = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Events::Rule' && JSON.stringify((r.Properties.Targets as { Arn: unknown }[])[0].Arn) === JSON.stringify({ Ref: topicId }),
    );

    // Assert: one rule, on this pipeline's FAILED executions
    expect(rules).toHaveLength(1);
    const rule = rules[0].Properties as { EventPattern: Json; Targets: { InputTransformer: { InputTemplate: string }; RoleArn: unknown }[] };
    expect(rule.EventPattern).toMatchObject({
      source: ['aws.codepipeline'],
      'detail-type': ['CodePipeline Pipeline Execution State Change'],
      detail: { state: ['FAILED'] },
      resources: [{ 'Fn::Join': ['', expect.arrayContaining([{ Ref: logicalIdOf(pipelineOf().pipeline) }])] }],
    });
    expect(rule.Targets[0].InputTransformer.InputTemplate).toContain(`${name} execution <detail-execution-id> FAILED`);
    expect(rule.Targets[0].InputTransformer.InputTemplate).toContain(`/pipelines/${name}/executions/<detail-execution-id>/timeline`);
    // the topic is encrypted and its subscribers are both groups
    expect(resources[topicId].Properties.KmsMasterKeyId).toBeDefined();
    const endpoints = Object.values(resources)
      .filter((r) => r.Type === 'AWS::SNS::Subscription' && JSON.stringify(r.Properties.TopicArn) === JSON.stringify({ Ref: topicId }))
      .map((r) => r.Properties.Endpoint)
      .sort();
    expect(endpoints).toEqual(['ops@example.com', 'release-approvers@example.com']);
    // EventBridge publishes through a role that may publish to this topic only (and use its key)
    const roleId = (rule.Targets[0].RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    expect(statementsOfRole(roleId).map((st) => [st.Action, st.Resource])).toEqual([
      ['sns:Publish', { Ref: topicId }],
      [['kms:Decrypt', 'kms:GenerateDataKey*'], { 'Fn::GetAtt': [logicalIdOf(stack.pipelineKey), 'Arn'] }],
    ]);
  });
});

describe('rollback pipeline in the stack', () => {
  test('the stack holds the release, hotfix and rollback pipelines; only the first two start on pushes', () => {
    const pipelines = Object.values(resources).filter((r) => r.Type === 'AWS::CodePipeline::Pipeline');
    expect(pipelines.map((p) => p.Properties.Name).sort()).toEqual(['notes-hotfix', 'notes-release', 'notes-rollback']);
    const rollback = pipelineNamed('notes-rollback');
    expect(rollback.Triggers ?? []).toEqual([]);
    expect(rollback.RestartExecutionOnUpdate).toBe(false);
    expect((rollback.Variables as { Name: string }[]).map((v) => v.Name)).toEqual(expect.arrayContaining(['TARGET_VERSION', 'REASON']));
  });

  test('the rollback steps read and append to the same ledger and archive the release pipeline writes', () => {
    const env = (fn: { node: { defaultChild?: unknown } }) =>
      (resources[logicalIdOf(fn)].Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const ledger = { Ref: logicalIdOf(stack.ledgerTable) };
    expect(env(stack.rollbackPipeline.resolveFunction)).toMatchObject({ LEDGER_TABLE: ledger, ARCHIVE_BUCKET: { Ref: logicalIdOf(stack.archiveBucket) } });
    expect(env(stack.rollbackPipeline.recordFunction)).toMatchObject({ LEDGER_TABLE: ledger, RELEASE_PIPELINE_NAME: 'notes-release' });
  });

  test('the ledger table name is a stack output, so the operator CLI can find it', () => {
    template.hasOutput('LedgerTableName', { Value: { Ref: logicalIdOf(stack.ledgerTable) } });
  });
});

describe('cdk-nag', () => {
  test('the pipeline stack has no unacknowledged AwsSolutions finding', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'notes-pipeline-nag-'));
    try {
      const { app: nagApp } = buildTestApp({ nagChecks: true, outdir });
      let error: string | undefined;
      try {
        nagApp.synth();
      } catch (e) {
        error = (e as Error).message;
      }
      const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
      };
      const findings = report.pluginReports.flatMap((p) => p.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`)));
      expect(findings.filter((f) => f.includes(' at NotesPipeline/'))).toEqual([]);
      expect(error).toBeUndefined();
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

// keep the app referenced (it owns the stacks the templates came from)
void app;
