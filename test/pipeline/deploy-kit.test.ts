/**
 * The deploy kit (lib/release/deploy-kit/, lib/pipeline/deploy-kit.ts): every deploy step of the
 * release, hotfix and rollback pipelines runs it and nothing of the commit (#11), and its step
 * scripts run for real here (bash, the bundled scripts, deploy-parameters.js) with the CDK CLI and
 * the AWS-facing bundles replaced by recorders.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { DEPLOY_KIT_DIR, KIT_SCRIPTS, kitContents } from '../../lib/pipeline/deploy-kit';
import { buildTestApp } from '../infra/fixture';

type Json = Record<string, unknown>;
interface CfnResource {
  Type: string;
  Properties: Json;
}
interface Action {
  Name: string;
  ActionTypeId: { Category: string; Provider: string };
  Configuration?: Record<string, unknown>;
  InputArtifacts?: { Name: string }[];
  OutputArtifacts?: { Name: string }[];
}
interface Statement {
  Action: string | string[];
}
interface BuildSpec {
  phases: Record<string, { commands?: string[] }>;
}

const { built } = buildTestApp();
const stack = built.pipelineStack;
const resources = Template.fromStack(stack).toJSON().Resources as Record<string, CfnResource>;

const pipelines = Object.values(resources).filter((r) => r.Type === 'AWS::CodePipeline::Pipeline');
const projectOf = (a: Action) => resources[(a.Configuration!.ProjectName as { Ref: string }).Ref];
const buildSpecOf = (project: CfnResource) => JSON.parse(String((project.Properties.Source as Json).BuildSpec)) as BuildSpec;
const roleStatements = (project: CfnResource): Statement[] => {
  const roleId = (project.Properties.ServiceRole as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
};
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

/** Every CodeBuild action of every pipeline, with its pipeline's name. */
const codeBuildActions = pipelines.flatMap((p) =>
  (p.Properties.Stages as { Name: string; Actions: Action[] }[]).flatMap((s) =>
    s.Actions.filter((a) => a.ActionTypeId.Provider === 'CodeBuild').map((a) => ({ pipeline: String(p.Properties.Name), stage: s.Name, action: a })),
  ),
);
const deploySteps = codeBuildActions.filter((c) => c.action.Name !== 'Build');

/** Kit script text, continuation lines joined. */
const kitScript = (file: string) => readFileSync(join(DEPLOY_KIT_DIR, file), 'utf8').replace(/\s*\\\n\s*/g, ' ');

/**
 * What in a deploy step would run code of the commit: its inputs (anything but the kit and the
 * assembly), its install (npm ci without --ignore-scripts, anything but npm ci in the kit), its
 * commands (anything but a kit script and sourcing that script's variable files) and the kit
 * scripts those run (a path into the repository, tsx, an install, the primary source dir).
 */
function commitCodeIn(spec: BuildSpec, inputs: string[], kitFiles: Record<string, string>): string[] {
  const found: string[] = [];
  if (inputs[0] !== 'DeployKit') found.push(`primary input is ${inputs[0] ?? 'nothing'}, not the DeployKit artifact`);
  for (const extra of inputs.slice(1)) if (extra !== 'Assembly' && extra !== 'Plan') found.push(`extra input ${extra} (only the Assembly and the Plan are data)`);
  for (const [phase, { commands = [] }] of Object.entries(spec.phases)) {
    for (const c of commands) {
      if (/\bnpx tsx\b|\blib\/|\bbin\/|\bnpm (run|test|install|exec)\b|\bgit\b|\bcd\b|\$CODEBUILD_SRC_DIR(?!_)/.test(c)) found.push(`${phase}: \`${c}\` runs something from the checkout`);
      if (/\bnpm ci\b/.test(c) && !/--ignore-scripts\b/.test(c)) found.push(`${phase}: \`${c}\` runs the dependencies' install scripts`);
      if (phase === 'build') {
        const kit = /^bash ([\w-]+\.sh)$/.exec(c)?.[1];
        if (kit === undefined && !/^\. \.\/\.pipeline\/[\w./-]+\.env$/.test(c)) found.push(`build: \`${c}\` is not a deploy kit script`);
        if (kit !== undefined && kitFiles[kit] === undefined) found.push(`build: \`${c}\`: the kit has no ${kit}`);
      }
      if (phase === 'install' && c !== 'node --version' && !/^npm ci\b/.test(c)) found.push(`install: \`${c}\` is not npm ci in the kit`);
    }
    const kits = commands.map((c) => /^bash ([\w-]+\.sh)$/.exec(c)?.[1]).filter((f): f is string => f !== undefined && kitFiles[f] !== undefined);
    for (const file of kits) {
      for (const line of kitFiles[file].split('\n').filter((l) => !/^\s*#/.test(l))) {
        if (/\bnpx tsx\b|\blib\/|\bnpm (ci|install|run|exec)\b|\bgit\b|\$\{?CODEBUILD_SRC_DIR(?!_)/.test(line)) found.push(`${file}: \`${line.trim()}\` reaches outside the kit`);
      }
    }
  }
  return found;
}

const kitFiles = Object.fromEntries(readdirSync(DEPLOY_KIT_DIR).filter((f) => f.endsWith('.sh')).map((f) => [f, kitScript(f)]));

describe('no deploy step runs code of the commit', () => {
  test('the deploy steps are every CodeBuild step but the build: the release and hotfix pipelines\' and the rollback\'s', () => {
    expect(deploySteps.map((s) => `${s.pipeline} ${s.stage}/${s.action.Name}`).sort()).toEqual(
      [
        'notes-release UpdatePipeline/SelfUpdate',
        ...['notes-release', 'notes-hotfix'].flatMap((p) => [`${p} Dev/Deploy`, `${p} PlanProd/Plan`, `${p} Prod/RecoverFailedCreate`, `${p} Prod/Deploy`]),
        'notes-rollback Plan/Plan',
        'notes-rollback Deploy/Deploy',
      ].sort(),
    );
  });

  test.each(deploySteps.map((s) => [`${s.pipeline} ${s.stage}/${s.action.Name}`, s] as const))('%s gets the kit and the assembly only, installs without scripts and runs only kit scripts', (_name, step) => {
    // Act
    const project = projectOf(step.action);
    const found = commitCodeIn(buildSpecOf(project), (step.action.InputArtifacts ?? []).map((i) => i.Name), kitFiles);

    // Assert
    expect(found).toEqual([]);
    expect(buildSpecOf(project).phases.install.commands).toEqual(expect.arrayContaining(['npm ci --ignore-scripts --no-audit --no-fund']));
    // No checkout, so no grant to clone one.
    expect(actionsOf(roleStatements(project)).filter((a) => /^(codeconnections|codestar-connections):/.test(a))).toEqual([]);
  });

  test.each(['notes-release', 'notes-hotfix', 'notes-rollback'])('%s reads the kit from one S3 object of the pipeline stack, with no trigger and no polling', (name) => {
    // Arrange
    const pipeline = pipelines.find((p) => p.Properties.Name === name)!;
    const source = (pipeline.Properties.Stages as { Name: string; Actions: Action[] }[]).find((s) => s.Name === 'Source')!;
    const kit = source.Actions.find((a) => a.OutputArtifacts?.some((o) => o.Name === 'DeployKit'))!;

    // Assert
    expect(kit.ActionTypeId).toMatchObject({ Category: 'Source', Provider: 'S3' });
    expect(kit.Configuration).toMatchObject({ S3ObjectKey: stack.resolve(stack.deployKit.s3ObjectKey), PollForSourceChanges: false });
    expect(JSON.stringify(kit.Configuration!.S3Bucket)).toContain('cdk-hnb659fds-assets-');
    if (name !== 'notes-rollback') {
      // The repository stays the trigger; the kit is read at the start of each execution.
      expect((pipeline.Properties.Triggers as { GitConfiguration: { SourceActionName: string } }[]).map((t) => t.GitConfiguration.SourceActionName)).toEqual(['Source']);
    }
  });

  test('only the Build step reads the Source checkout, and its role can assume nothing', () => {
    const readers = codeBuildActions.filter((c) => (c.action.InputArtifacts ?? []).some((i) => i.Name === 'Source'));
    expect(readers.map((r) => `${r.pipeline} ${r.action.Name}`).sort()).toEqual(['notes-hotfix Build', 'notes-release Build']);
    for (const r of readers) expect(actionsOf(roleStatements(projectOf(r.action))).filter((a) => a.startsWith('sts:'))).toEqual([]);
  });

  test.each([
    ['a tsx script of the checkout', { phases: { build: { commands: ['npx tsx lib/release/scripts/render-plan.ts --stack X'] } } }, ['DeployKit', 'Assembly'], 'runs something from the checkout'],
    ['npm ci with install scripts', { phases: { install: { commands: ['npm ci --no-audit'] } } }, ['DeployKit'], "runs the dependencies' install scripts"],
    ['the Source checkout as primary input', { phases: { build: { commands: ['bash plan.sh'] } } }, ['Source', 'Assembly'], 'primary input is Source'],
    ['a kit script that is not in the kit', { phases: { build: { commands: ['bash nope.sh'] } } }, ['DeployKit'], 'the kit has no nope.sh'],
    ['a kit script that runs the checkout', { phases: { build: { commands: ['bash evil.sh'] } } }, ['DeployKit'], 'reaches outside the kit'],
  ] as const)('the check finds %s', (_what, spec, inputs, problem) => {
    const found = commitCodeIn(spec as unknown as BuildSpec, [...inputs], { ...kitFiles, 'evil.sh': 'cd "$CODEBUILD_SRC_DIR" && npx tsx lib/x.ts' });
    expect(found).toEqual(expect.arrayContaining([expect.stringContaining(problem)]));
  });
});

describe('the kit', () => {
  test('every bundled script runs on its own (only its own main: one usage line, exit 2)', () => {
    const dir = kitContents();
    for (const script of KIT_SCRIPTS) {
      const run = spawnSync(process.execPath, [join(dir, 'bin', `${script}.js`)], { encoding: 'utf8', cwd: dir, env: { PATH: process.env.PATH } });
      expect({ script, status: run.status, stdout: run.stdout }).toEqual({ script, status: 2, stdout: '' });
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining(`usage: ${script} `)]);
    }
    expect(existsSync(join(dir, 'db.json.gz'))).toBe(true);
  });

  test.each([
    ['deploy.sh', 'deploy', 'STACK_NAME TARGET_REGION PIPELINE_NAME PIPELINE_EXECUTION_ID LOOKUP_ROLE_ARN CODEBUILD_SRC_DIR_Assembly'],
    ['prod-deploy.sh', 'prod deploy', 'STACK_NAME TARGET_REGION PIPELINE_NAME PIPELINE_EXECUTION_ID PLAN_CHANGE_SET DEPLOY_ROLE_ARN LOOKUP_ROLE_ARN CODEBUILD_SRC_DIR_Assembly'],
    ['plan.sh', 'plan', 'STACK_NAME TARGET_REGION PLAN_ROLE_ARN PIPELINE_EXECUTION_ID ALLOW_STATEFUL_CHANGE CODEBUILD_SRC_DIR_Assembly'],
    ['recover-failed-create.sh', 'recover failed create', 'STACK_NAME TARGET_REGION DEPLOY_ROLE_ARN'],
    ['self-update.sh', 'self-update', 'STACK_NAME CODEBUILD_SRC_DIR_Assembly'],
    ['rollback-plan.sh', 'rollback: plan', 'TARGET_VERSION ARTIFACT_BUCKET ARTIFACT_KEY ARTIFACT_VERSION_ID ARTIFACT_SHA256 STACK_NAME TARGET_REGION PLAN_ROLE_ARN EXECUTION_ID'],
    ['rollback-deploy.sh', 'rollback: deploy', 'STACK_NAME TARGET_REGION DEPLOY_ROLE_ARN EXECUTION_ID TARGET_VERSION'],
  ])('%s stops before doing anything, naming every variable that is missing', (file, step, names) => {
    // Act: only PATH set, and one variable given (it must not be named)
    const run = spawnSync('bash', [join(DEPLOY_KIT_DIR, file)], { encoding: 'utf8', env: { PATH: process.env.PATH, STACK_NAME: 'NotesStack-prod' } });

    // Assert
    const missing = names.split(' ').filter((n) => n !== 'STACK_NAME');
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`${step}: ${missing.join(' ')} not set (see lib/release/deploy-kit/README.md for where each comes from); nothing was done\n`);
  });

  test('every step script the pipelines run is in the kit, and every kit script is run by a step', () => {
    const run = new Set(
      codeBuildActions.flatMap((c) => (buildSpecOf(projectOf(c.action)).phases.build.commands ?? []).map((cmd) => /^bash ([\w-]+\.sh)$/.exec(cmd)?.[1]).filter(Boolean)),
    );
    expect([...run].sort()).toEqual(Object.keys(kitFiles).filter((f) => f !== 'require-env.sh').sort());
  });
});

describe('the kit\'s deploy scripts, run for real', () => {
  let work: string;
  let assembly: string;
  const prodRole = 'arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-eu-west-1';
  const lookupRole = 'arn:aws:iam::123456789012:role/cdk-hnb659fds-lookup-role-123456789012-eu-west-1';
  const planRole = 'arn:aws:iam::123456789012:role/notes-release-plan-eu-west-1';

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'deploy-kit-'));
    assembly = join(work, 'assembly');
    buildTestApp({ outdir: assembly }).app.synth();
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /**
   * Runs a kit script from a copy of the bundled kit. `npx` records its arguments (and writes an
   * outputs file when asked for one, as cdk deploy does); deploy-mode and execute-change-set,
   * which call AWS, are recorders that answer `mode`; stack-outputs, shift-outcome and
   * deploy-parameters.js are the real ones.
   */
  function runKit(script: string, mode: 'release' | 'rollback', stackName: string, options: { planMode?: 'change-set' | 'create'; planChangeSet?: string; planDir?: string; realRenderPlan?: boolean } = {}) {
    const run = mkdtempSync(join(work, 'run-'));
    const kit = join(run, 'kit');
    cpSync(kitContents(), kit, { recursive: true });
    const bin = join(run, 'path');
    mkdirSync(bin);
    const outputs = JSON.stringify({ [stackName]: { ApiUrl: 'https://x/', UserPoolId: 'p', UserPoolClientId: 'c', TableName: 't', SmokeClientId: 's', SmokeTestFunctionName: 'f', ServiceHealthAlarmName: 'a' } });
    const recorder = (name: string, extra = '') =>
      `const fs = require('fs'); fs.appendFileSync(${JSON.stringify(join(run, 'calls'))}, ${JSON.stringify(name)} + ' ' + process.argv.slice(2).join(' ') + '\\n');${extra}\n`;
    const writeOutputs = `const i = process.argv.indexOf('--outputs-file'); if (i > 0) fs.writeFileSync(process.argv[i + 1], ${JSON.stringify(outputs)});`;
    writeFileSync(join(kit, 'bin', 'deploy-mode.js'), recorder('deploy-mode', `process.stdout.write(${JSON.stringify(mode)} + '\\n');`));
    writeFileSync(join(kit, 'bin', 'execute-change-set.js'), recorder('execute-change-set', writeOutputs));
    if (!options.realRenderPlan) writeFileSync(join(kit, 'bin', 'render-plan.js'), recorder('render-plan'));
    writeFileSync(join(kit, 'bin', 'plan-mode.js'), recorder('plan-mode', `process.stdout.write(${JSON.stringify(options.planMode ?? 'change-set')} + '\\n');`));
    writeFileSync(join(bin, 'npx'), `#!/usr/bin/env node\n${recorder('npx', writeOutputs)}`);
    chmodSync(join(bin, 'npx'), 0o755);
    const res = spawnSync('bash', [script], {
      cwd: kit,
      encoding: 'utf8',
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        STACK_NAME: stackName,
        TARGET_REGION: 'eu-west-1',
        PIPELINE_NAME: 'notes-release',
        PIPELINE_EXECUTION_ID: 'exec-1',
        DEPLOY_ROLE_ARN: prodRole,
        LOOKUP_ROLE_ARN: lookupRole,
        PLAN_ROLE_ARN: planRole,
        ALLOW_STATEFUL_CHANGE: 'false',
        PLAN_CHANGE_SET: options.planChangeSet ?? 'notes-plan-exec-1',
        ...(options.planDir ? { CODEBUILD_SRC_DIR_Plan: options.planDir } : {}),
        CODEBUILD_SRC_DIR_Assembly: assembly,
      },
    });
    const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
    return { kit, status: res.status, stderr: res.stderr + res.stdout, calls: read(join(run, 'calls')).trim().split('\n'), outputsEnv: read(join(kit, '.pipeline', 'outputs.env')), shiftEnv: read(join(kit, '.pipeline', 'shift.env')) };
  }

  test.each([
    ['release', 'CodeDeployDefault.LambdaCanary10Percent5Minutes'],
    ['rollback', 'CodeDeployDefault.LambdaAllAtOnce'],
  ] as const)('deploy.sh in a %s prints the diff, deploys the stack from the assembly with its strategy and exports the outputs', (mode, strategy) => {
    // Act: on the stack whose strategy is a canary (dev's own is all at once), so the two differ
    const res = runKit('deploy.sh', mode, 'NotesStack-prod');

    // Assert
    expect(res.stderr).not.toContain('not set');
    expect(res.status).toBe(0);
    const parameters = `--parameters NotesStack-prod:DeploymentConfig=${strategy}`;
    expect(res.calls).toEqual([
      'deploy-mode --pipeline notes-release --execution exec-1',
      `npx --no-install cdk diff --app ${assembly} NotesStack-prod --exclusively ${parameters}`,
      expect.stringMatching(new RegExp(`^npx --no-install cdk deploy --app ${assembly} NotesStack-prod --exclusively --require-approval never --outputs-file \\S+/\\.pipeline/outputs\\.json ${parameters.replace(/\./g, '\\.')}$`)),
    ]);
    expect(res.outputsEnv).toContain('export ApiUrl=');
    expect(res.outputsEnv).toContain('export STACK_NAME=');
    // No deployment group in these outputs: the shift is NONE, read without any AWS call.
    expect(res.shiftEnv).toContain('export CODEDEPLOY_OUTCOME=');
    expect(res.shiftEnv).toContain('NONE');
  });

  test('prod-deploy.sh in a release executes this execution\'s reviewed change set through the deploy role, and prepares none', () => {
    const res = runKit('prod-deploy.sh', 'release', 'NotesStack-prod');
    expect(res.status).toBe(0);
    expect(res.calls).toEqual([
      'deploy-mode --pipeline notes-release --execution exec-1',
      expect.stringMatching(new RegExp(`^execute-change-set --stack NotesStack-prod --change-set notes-plan-exec-1 --region eu-west-1 --role-arn ${prodRole} --outputs-file \\S+/outputs\\.json$`)),
    ]);
    expect(res.outputsEnv).toContain('export TableName=');
  });

  test('plan.sh prepares the change set with the CLI on a copy of the assembly that names only the plan role, and renders it through that role', () => {
    // Act
    const res = runKit('plan.sh', 'release', 'NotesStack-prod');

    // Assert
    expect(res.stderr).toContain('planned through');
    expect(res.status).toBe(0);
    const [mode, deploy, render] = res.calls;
    expect(mode).toBe(`plan-mode --stack NotesStack-prod --region eu-west-1 --role-arn ${planRole}`);
    const app = /^npx --no-install cdk deploy --app (\S+) NotesStack-prod --exclusively --require-approval never --no-execute --force --change-set-name notes-plan-exec-1 --parameters NotesStack-prod:DeploymentConfig=CodeDeployDefault\.LambdaCanary10Percent5Minutes$/.exec(deploy)?.[1];
    expect(app).toBeDefined();
    expect(app).not.toBe(assembly);
    expect(render).toBe(`render-plan --stack NotesStack-prod --change-set notes-plan-exec-1 --region eu-west-1 --assembly ${app} --role-arn ${planRole} --allow false --out-dir ${res.kit}/.pipeline/plan`);
    // The copy the CLI read: every role it assumes for the prod stack is the plan role.
    const prod = new cxapi.CloudAssembly(app!).getStackByName('NotesStack-prod');
    expect(prod.assumeRoleArn).toBe(planRole);
    const assets = JSON.parse(readFileSync(join(app!, 'NotesStack-prod.assets.json'), 'utf8')) as { files: Record<string, { destinations: Record<string, { assumeRoleArn: string }> }> };
    expect(new Set(Object.values(assets.files).flatMap((f) => Object.values(f.destinations).map((d) => d.assumeRoleArn)))).toEqual(new Set([planRole]));
    expect(res.calls).toHaveLength(3);
  });

  test('plan.sh on a stack whose first create failed plans its creation from the template: no CLI, no change set, CHANGE_SET_NAME=create', () => {
    // Act: plan-mode answers `create`; the real render-plan bundle (no AWS call in this mode)
    const res = runKit('plan.sh', 'release', 'NotesStack-prod', { planMode: 'create', realRenderPlan: true });

    // Assert
    expect(res.status).toBe(0);
    expect(res.calls).toEqual([`plan-mode --stack NotesStack-prod --region eu-west-1 --role-arn ${planRole}`]);
    const plan = JSON.parse(readFileSync(join(res.kit, '.pipeline', 'plan', 'plan.json'), 'utf8')) as { changeSetName: string; counts: { added: number; modified: number }; templateSha256: string };
    const template = JSON.parse(readFileSync(join(assembly, 'NotesStack-prod.template.json'), 'utf8')) as { Resources: Record<string, unknown> };
    expect(plan).toMatchObject({ changeSetName: 'create', counts: { added: Object.keys(template.Resources).length, modified: 0 } });
    expect(readFileSync(join(res.kit, '.pipeline', 'plan', 'plan.env'), 'utf8')).toContain("export CHANGE_SET_NAME='create'");
    expect(plan.templateSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test('prod-deploy.sh with an approved create plan checks the template against it and creates the stack with cdk deploy; a different template deploys nothing', () => {
    // Arrange: the create plan, as the Plan step made it
    const planned = runKit('plan.sh', 'release', 'NotesStack-prod', { planMode: 'create', realRenderPlan: true });
    const planDir = join(planned.kit, '.pipeline', 'plan');

    // Act
    const res = runKit('prod-deploy.sh', 'release', 'NotesStack-prod', { planChangeSet: 'create', planDir });
    const tampered = join(planned.kit, 'tampered');
    mkdirSync(tampered);
    const plan = JSON.parse(readFileSync(join(planDir, 'plan.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(tampered, 'plan.json'), JSON.stringify({ ...plan, templateSha256: '0'.repeat(64) }));
    const refused = runKit('prod-deploy.sh', 'release', 'NotesStack-prod', { planChangeSet: 'create', planDir: tampered });

    // Assert
    expect(res.status).toBe(0);
    expect(res.calls).toEqual([
      'deploy-mode --pipeline notes-release --execution exec-1',
      expect.stringMatching(new RegExp(`^npx --no-install cdk deploy --app ${assembly} NotesStack-prod --exclusively --require-approval never --outputs-file \\S+ --parameters NotesStack-prod:DeploymentConfig=CodeDeployDefault\\.LambdaCanary10Percent5Minutes$`)),
    ]);
    expect(res.stderr).toContain('is the one the approved plan creates');
    expect(refused.status).toBe(1);
    expect(refused.calls).toEqual(['deploy-mode --pipeline notes-release --execution exec-1']);
    expect(refused.stderr).toContain('nothing was deployed');
  });

  test('prod-deploy.sh in a stage rollback deploys the previous release\'s assembly directly, all at once', () => {
    const res = runKit('prod-deploy.sh', 'rollback', 'NotesStack-prod');
    expect(res.status).toBe(0);
    expect(res.calls).toEqual([
      'deploy-mode --pipeline notes-release --execution exec-1',
      expect.stringMatching(/^npx --no-install cdk deploy --app \S+ NotesStack-prod --exclusively --require-approval never --outputs-file \S+ --parameters NotesStack-prod:DeploymentConfig=CodeDeployDefault\.LambdaAllAtOnce$/),
    ]);
  });
});
