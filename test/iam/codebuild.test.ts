/**
 * IAM contract of every CodeBuild project, read from its synthesized buildspec:
 * - `npx tsx lib/release/scripts/<name>.ts` (the Build step only): the script's recorded SDK calls,
 *   as the project's role;
 * - `bash <script>.sh` (every deploy step: a script of the deploy kit, lib/release/deploy-kit/),
 *   read line by line with the project's variables put in:
 *   - `node "$kit/bin/<name>.js"`: the bundled script's recorded SDK calls, as the project's role or,
 *     given `--role-arn`, as the role it assumes;
 *   - `cdk deploy|diff`: the CLI assumes the deploy and file-publishing roles the cloud assembly
 *     names for the stack (the bootstrap stack's trust policy, from the pinned CLI's bootstrap
 *     template, must let the project's role in, and the project's role must be allowed to ask);
 *   - `aws <service> <operation>`: that call, as the project's role.
 * Every command of every buildspec, and every program a kit script runs, must be one of these or
 * known to make no AWS call.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { iamRequestsOf, cliCommandOf, IamRequest } from './support/actions';
import { cdkDeployNoExecuteCalls, cliRequests } from './support/cdk-cli';
import { planAssembly } from '../../lib/release/scripts/plan-assembly';
import { BOOTSTRAP_ROLES } from './support/bootstrap';
import { bindCall, ComponentRow, contractSuite, expectAllowed, expectDenied, IamWorld, Principal, PrincipalUse, projectEnv, recorded } from './support/harness';
import { PIPELINE_STACK, pipelineFacts } from './support/deployed';
import { ACCOUNT } from './support/world';
import { KIT_SCRIPTS } from '../../lib/pipeline/deploy-kit';

const REPO = join(__dirname, '..', '..');
const world = new IamWorld();
const stack = world.stack(PIPELINE_STACK);
const facts = pipelineFacts(world);
const assembly = world.app.synth();

interface Project {
  logicalId: string;
  name: string;
  role: Principal;
  env: Record<string, string>;
  commands: string[];
}

const projects: Project[] = stack.ofType('AWS::CodeBuild::Project').map((logicalId) => {
  const p = stack.props(logicalId) as { Source: { BuildSpec: string }; ServiceRole: string };
  const spec = JSON.parse(p.Source.BuildSpec) as { phases: Record<string, { commands?: string[] }> };
  const roleId = stack.ofType('AWS::IAM::Role').find((r) => stack.getAtt(r, 'Arn') === p.ServiceRole)!;
  return {
    logicalId,
    name: stack.ref(logicalId),
    role: world.role(PIPELINE_STACK, roleId),
    env: projectEnv(world, PIPELINE_STACK, logicalId),
    commands: Object.values(spec.phases).flatMap((ph) => ph.commands ?? []),
  };
});

const SCRIPT = /npx tsx lib\/release\/scripts\/([\w-]+)\.ts(.*)$/;
/** A buildspec command that runs a deploy kit script. */
const KIT_COMMAND = /^bash ([\w-]+\.sh)$/;
/** A kit script line that runs a bundled script (`bin/<name>.js`, from lib/release/scripts/<name>.ts). */
const KIT_BIN = /^node "\$kit\/bin\/([\w-]+)\.js"(.*)$/;
/** A kit script line that makes the Plan steps' copy of the assembly (lib/release/scripts/plan-assembly.ts). */
const PLAN_ASSEMBLY = /^node "\$kit\/bin\/plan-assembly\.js" .*--role-arn "\$(\w+)" --out "\$(\w+)"/;
/** A kit script line that calls the AWS CLI. */
const AWS_CLI = /^aws (\S+) (\S+)/;
/** `cdk deploy` (and `cdk diff`, which reads the stack and makes its diff change set as the same deploy role). */
const CDK_DEPLOY = /npx (?:--no-install )?cdk (?:deploy|diff) .*?(?:"[^"]*"|\S+) "?(\$?[\w-]+)"? --exclusively/;
/** Commands that make no AWS call (npm and the build's own checks; cdk synth has no context lookups here). */
const LOCAL = [
  /^node --version$/,
  /^npm ci\b/,
  /^npm run (lint|typecheck|test:iam)$/,
  /^npx jest\b/,
  /^npm audit\b/,
  /^(CDK_VALIDATION=true )?npx cdk synth\b/,
  /^\. \.\/\.pipeline\//,
];
/** Programs a kit script runs that make no AWS call. */
const KIT_LOCAL = [
  // Reads the cloud assembly's template only (plain Node, no SDK).
  /^(?:\w+="\$\()?node "\$kit\/deploy-parameters\.js" /,
  // Compares the assembly's template with the approved plan's hash (plain Node, no SDK).
  /^node "\$kit\/plan-template\.js" /,
];

const KIT_DIR = join(REPO, 'lib', 'release', 'deploy-kit');
/** A kit script's lines: continuation lines joined, comments and blank lines dropped, leading blanks trimmed. */
function kitScriptLines(file: string): string[] {
  return readFileSync(join(KIT_DIR, file), 'utf8')
    .replace(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}
/** `"$NAME"`, `$NAME` and `${NAME}` replaced by the value the project (or `vars`) gives NAME; others stay. */
function expand(line: string, vars: Record<string, string>): string {
  return line.replace(/"?\$(?:\{(\w+)\}|(\w+))"?/g, (m, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    return vars[name] !== undefined ? vars[name] : m;
  });
}
/** The program lines (with the program the step runs: `node`, `npx`, `aws`) of the kit scripts a project runs, raw and expanded. */
function kitProgramLines(commands: string[], env: Record<string, string>): { raw: string; line: string; file: string }[] {
  return commands
    .map((c) => KIT_COMMAND.exec(c)?.[1])
    .filter((f): f is string => f !== undefined)
    .flatMap((file) =>
      kitScriptLines(file)
        .map((raw) => raw.replace(/^(?:\w+=)?"?\$\(/, '').replace(/^(?:if|then|else)\s+/, ''))
        .filter((raw) => /^(node|npx|aws) /.test(raw))
        .map((raw) => ({ raw, line: expand(raw, env), file })),
    );
}

function placeholders(text: string, env: { account: string; region: string }): string {
  return text.replace(/\$\{AWS::AccountId\}/g, env.account).replace(/\$\{AWS::Region\}/g, env.region).replace(/\$\{AWS::Partition\}/g, 'aws');
}

/** The roles `cdk deploy <stack>` assumes, as the cloud assembly names them. */
function deployRolesOf(stackName: string, from: cxapi.CloudAssembly = assembly): { deploy: string; filePublishing: string[] } {
  const artifact = from.getStackByName(stackName);
  const env = { account: ACCOUNT, region: artifact.environment.region === 'unknown-region' ? world.region : artifact.environment.region };
  const filePublishing = new Set<string>();
  for (const dep of artifact.dependencies) {
    if (!(dep instanceof cxapi.AssetManifestArtifact)) continue;
    const manifest = JSON.parse(readFileSync(dep.file, 'utf8')) as { files?: Record<string, { destinations: Record<string, { assumeRoleArn?: string }> }> };
    for (const f of Object.values(manifest.files ?? {})) for (const d of Object.values(f.destinations)) if (d.assumeRoleArn) filePublishing.add(placeholders(d.assumeRoleArn, env));
  }
  return { deploy: placeholders(artifact.assumeRoleArn!, env), filePublishing: [...filePublishing] };
}

const planned = new Map<string, cxapi.CloudAssembly>();
/**
 * The assembly a kit script's `cdk` line reads: the build's, or, when its `--app` is the output of
 * plan-assembly in the same script, that copy, made here by the same code from the build's
 * assembly with the role the project gives (so the roles come from the code, not from this test).
 */
function assemblyOf(env: Record<string, string>, file: string, raw: string, stackName: string, from: cxapi.CloudAssembly = assembly): { assembly: cxapi.CloudAssembly; planRole?: string } {
  const app = /--app "\$(\w+)"/.exec(raw)?.[1];
  const plan = kitScriptLines(file).map((l) => PLAN_ASSEMBLY.exec(l)).find((m) => m !== null && m[2] === app);
  if (!plan) return { assembly: from };
  const roleArn = env[plan[1]];
  const key = `${from.directory}|${stackName}|${roleArn}`;
  if (!planned.has(key)) planned.set(key, new cxapi.CloudAssembly(planAssembly(from.directory, stackName, roleArn, join(mkdtempSync(join(tmpdir(), 'iam-plan-')), 'assembly')).dir));
  return { assembly: planned.get(key)!, planRole: roleArn };
}

function stackNameIn(project: Project, token: string): string {
  return token.startsWith('$') ? project.env[token.slice(1)] : token;
}

describe('buildspecs', () => {
  for (const project of projects) {
    for (const command of project.commands) {
      it(`${project.name}: \`${command.slice(0, 80)}\` is a command the IAM contract understands`, () => {
        const known = SCRIPT.test(command) || CDK_DEPLOY.test(command) || KIT_COMMAND.test(command) || LOCAL.some((r) => r.test(command));
        if (!known) throw new Error(`${project.name} runs \`${command}\`, which test/iam/codebuild.test.ts does not know: say which AWS calls it makes (or add it to LOCAL if none)`);
      });
    }
    for (const { raw, file } of kitProgramLines(project.commands, project.env)) {
      it(`${project.name}: ${file} \`${raw.slice(0, 80)}\` is a program the IAM contract understands`, () => {
        const bin = KIT_BIN.exec(raw)?.[1];
        const known = (bin !== undefined && (KIT_SCRIPTS as readonly string[]).includes(bin)) || CDK_DEPLOY.test(raw) || AWS_CLI.test(raw) || KIT_LOCAL.some((r) => r.test(raw));
        if (!known) throw new Error(`${file} runs \`${raw}\`, which test/iam/codebuild.test.ts does not know (a bin/ script must be in KIT_SCRIPTS, lib/pipeline/deploy-kit.ts)`);
      });
    }
  }
});

describe('cdk deploy through the bootstrap roles', () => {
  for (const project of projects) {
    const deploys = project.commands.filter((c) => CDK_DEPLOY.test(c)).map((c) => ({ stackName: stackNameIn(project, CDK_DEPLOY.exec(c)![1]), from: { assembly } as ReturnType<typeof assemblyOf> }));
    for (const { line, raw, file } of kitProgramLines(project.commands, project.env).filter((l) => CDK_DEPLOY.test(l.line))) {
      const stackName = stackNameIn(project, CDK_DEPLOY.exec(line)![1]);
      deploys.push({ stackName, from: assemblyOf(project.env, file, raw, stackName) });
    }
    for (const { stackName, from } of deploys) {
      const roles = deployRolesOf(stackName, from.assembly);
      const [deployLabel, publishingLabel] = from.planRole ? ['plan (for CloudFormation)', 'plan (for file publishing)'] : ['deploy', 'file-publishing'];
      if (from.planRole) it(`${project.name}: cdk deploy ${stackName} runs on a copy of the assembly that names only the plan role`, () => expect([...new Set([roles.deploy, ...roles.filePublishing])]).toEqual([from.planRole]));
      for (const [label, arn] of [[deployLabel, roles.deploy], ...roles.filePublishing.map((r) => [publishingLabel, r])] as [string, string][]) {
        it(`${project.name}: cdk deploy ${stackName} -> sts:AssumeRole on the ${label} role ${arn} is Allowed`, () =>
          expectAllowed(world, `${project.name} (cdk deploy ${stackName})`, project.role, { action: 'sts:AssumeRole', resource: arn }));
      }
    }
  }
});

describe('cdk deploy with a custom bootstrap qualifier', () => {
  // `cdk bootstrap --qualifier custom1q` and the same context key in cdk.json: every grant must follow.
  const qualifier = 'custom1q';
  const custom = new IamWorld({ context: { '@aws-cdk/core:bootstrapQualifier': qualifier }, bootstrapQualifier: qualifier });
  const customAssembly = custom.app.synth();
  const customStack = custom.stack(PIPELINE_STACK);
  for (const logicalId of customStack.ofType('AWS::CodeBuild::Project')) {
    const p = customStack.props(logicalId) as { Source: { BuildSpec: string }; ServiceRole: string };
    const commands = Object.values((JSON.parse(p.Source.BuildSpec) as { phases: Record<string, { commands?: string[] }> }).phases).flatMap((ph) => ph.commands ?? []);
    const env = projectEnv(custom, PIPELINE_STACK, logicalId);
    const roleId = customStack.ofType('AWS::IAM::Role').find((r) => customStack.getAtt(r, 'Arn') === p.ServiceRole)!;
    const role = custom.role(PIPELINE_STACK, roleId);
    const lines = kitProgramLines(commands, env).filter((l) => CDK_DEPLOY.test(l.line));
    for (const { line, raw, file } of lines) {
      const token = CDK_DEPLOY.exec(line)![1];
      const stackName = token.startsWith('$') ? env[token.slice(1)] : token;
      const from = assemblyOf(env, file, raw, stackName, customAssembly);
      const roles = deployRolesOf(stackName, from.assembly);
      it(`${customStack.ref(logicalId)}: cdk deploy ${stackName} -> sts:AssumeRole on ${roles.deploy} (qualifier ${qualifier}) is Allowed`, () => {
        // The plan role is the target's own (lib/target-account.ts), not a bootstrap role.
        expect(roles.deploy).toContain(from.planRole ? ':role/notes-release-plan-' : `cdk-${qualifier}-deploy-role-`);
        if (!from.planRole) expect(deployRolesOf(stackName, from.assembly).filePublishing.every((r) => r.includes(`cdk-${qualifier}-`))).toBe(true);
        return expectAllowed(custom, `${customStack.ref(logicalId)} (cdk deploy ${stackName})`, role, { action: 'sts:AssumeRole', resource: roles.deploy });
      });
    }
  }
});

describe('the rollback plan (rollback-plan.sh) AWS CLI calls', () => {
  const rollbackProject = projects.find((p) => p.commands.includes('bash rollback-plan.sh'))!;
  // The Resolve step's variables, as they are at run time: the archive bucket and a release's assembly.
  const shellVars: Record<string, string> = {
    ARTIFACT_BUCKET: facts.archiveBucket,
    ARTIFACT_KEY: 'releases/v1.2.3/cloud-assembly.zip',
    ARTIFACT_VERSION_ID: 'v3rs10n',
  };
  const lines = kitScriptLines('rollback-plan.sh').filter((l) => AWS_CLI.test(l));
  it('rollback-plan.sh makes at least one AWS CLI call (the download of the archived assembly)', () => expect(lines.length).toBeGreaterThan(0));
  it('no other kit script calls the AWS CLI (the bundled scripts use the SDK, whose calls are recorded)', () => {
    const others = projects.flatMap((p) => kitProgramLines(p.commands, p.env)).filter((l) => l.file !== 'rollback-plan.sh' && AWS_CLI.test(l.raw));
    expect(others.map((l) => `${l.file}: ${l.raw}`)).toEqual([]);
  });
  for (const line of lines) {
    const [, service, operation] = /aws (\S+) (\S+)/.exec(line)!;
    const flag = () => /--([\w-]+) "\$(\w+)"/g;
    const input: Record<string, unknown> = {};
    for (const m of line.matchAll(flag())) {
      const field = m[1].split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
      input[field] = shellVars[m[2]];
    }
    const command = cliCommandOf(service, operation);
    // "${version_args[@]}" adds --version-id when the ledger recorded one: both forms must work.
    const variants = line.includes('version_args') ? [input, { ...input, VersionId: shellVars.ARTIFACT_VERSION_ID }] : [input];
    for (const v of variants) {
      const requests = iamRequestsOf(command, v, { account: ACCOUNT, region: world.region, topicKey: (a) => world.topicKey(a) });
      it(`${rollbackProject.name}: rollback-plan.sh \`aws ${service} ${operation}\`${v.VersionId ? ' --version-id' : ''} has an IAM mapping`, () => expect(requests).toBeDefined());
      for (const r of requests ?? []) {
        it(`${rollbackProject.name}: rollback-plan.sh aws ${service} ${operation} -> ${r.action} on ${r.resource} is Allowed`, () =>
          expectAllowed(world, `${rollbackProject.name} (rollback-plan.sh)`, rollbackProject.role, r));
      }
    }
  }
});

// --- the scripts' recorded SDK calls ------------------------------------------------------------
function scriptUses(script: string): (PrincipalUse & { project: Project })[] {
  const out: (PrincipalUse & { project: Project })[] = [];
  for (const project of projects) {
    // A buildspec line that runs the script from the checkout (the Build step), or a kit script
    // line that runs its bundle: its arguments, raw (variable names) and with the project's values.
    const invocations = [
      ...project.commands.map((c) => SCRIPT.exec(c)).filter((m): m is RegExpExecArray => m !== null && m[1] === script).map((m) => ({ raw: m[2], args: m[2] })),
      ...kitProgramLines(project.commands, project.env)
        .map((l) => ({ raw: KIT_BIN.exec(l.raw), args: KIT_BIN.exec(l.line) }))
        .filter((m): m is { raw: RegExpExecArray; args: RegExpExecArray } => m.raw !== null && m.args !== null && m.raw[1] === script)
        .map((m) => ({ raw: m.raw[2], args: m.args[2] })),
    ];
    for (const { raw, args } of invocations) {
      const roleVariable = /--role-arn "\$(\w+)"/.exec(raw)?.[1];
      const roleArn = /--role-arn "?([^"\s]+)"?/.exec(args)?.[1];
      const stackName = /--stack "?([\w-]+)"?/.exec(args)?.[1];
      const pipelineName = /--pipeline "?([\w-]+)"?/.exec(args)?.[1];
      // shift-outcome reads CodeDeploy through the bootstrap's read-only lookup role; the stateful
      // guard, the failed-create check and the change-set executor use the deploy role.
      // The plan role's calls are checked in "the prod plan role" below (the baseline stack creates
      // that role; when it is in this world, they are simulated against it there).
      if (roleVariable === 'PLAN_ROLE_ARN') continue;
      // render-plan --create plans from the template alone and makes no AWS call (planCreate).
      if (script === 'render-plan' && /(^|\s)--create(\s|$)/.test(raw)) continue;
      const assumedRole = roleVariable === 'LOOKUP_ROLE_ARN' ? BOOTSTRAP_ROLES.lookup : BOOTSTRAP_ROLES.deploy;
      const assumed = roleArn ? world.role('CDKToolkit', assumedRole) : undefined;
      const viaAssumed = (action: string) => (assumedRole === BOOTSTRAP_ROLES.lookup ? action.startsWith('codedeploy:') : action.startsWith('cloudformation:'));
      out.push({
        project,
        label: project.name,
        principal: project.role,
        env: project.env,
        names: {
          TableName: facts.ledgerTable,
          ...(roleArn ? { RoleArn: roleArn } : {}),
          ...(stackName ? { StackName: stackName } : {}),
          ...(pipelineName ? { pipelineName } : {}),
        },
        // Scripts given --role-arn make their CloudFormation (or CodeDeploy) calls with the
        // credentials of the role they assumed.
        principalsFor: (request) =>
          assumed && viaAssumed(request.action) ? [{ label: `the bootstrap role ${assumed.name} (assumed with --role-arn)`, principal: assumed }] : undefined,
      });
    }
  }
  return out;
}

/** Every script a buildspec (or a kit script) runs that uses the AWS SDK. */
const sdkScripts = [...new Set(projects.flatMap((p) => [...p.commands.map((c) => SCRIPT.exec(c)?.[1]), ...kitProgramLines(p.commands, p.env).map((l) => KIT_BIN.exec(l.raw)?.[1])]).filter((x): x is string => Boolean(x)))]
  .filter((s) => readFileSync(join(REPO, 'lib', 'release', 'scripts', `${s}.ts`), 'utf8').includes("from '@aws-sdk/"))
  .sort();

const scriptRows: ComponentRow[] = sdkScripts.map((script) => ({
  component: `script/${script}`,
  principals: () => scriptUses(script),
  forbidden: () => [
    { action: 'dynamodb:PutItem', resource: facts.ledgerArn, why: 'builds and deploys never write the ledger' },
    { action: 's3:PutObject', resource: `arn:aws:s3:::${facts.archiveBucket}/releases/v9.9.9/cloud-assembly.zip`, why: 'only the release recorder writes the archive' },
  ],
}));
contractSuite(world, scriptRows);

describe('what build and deploy projects must never do', () => {
  for (const project of projects) {
    const forbidden = [
      { action: 's3:PutObject', resource: `arn:aws:s3:::${facts.archiveBucket}/releases/v9.9.9/cloud-assembly.zip`, why: 'only the release recorder writes the archive' },
      { action: 'dynamodb:PutItem', resource: facts.ledgerArn, why: 'only the recorders write the ledger' },
      { action: 'dynamodb:DeleteItem', resource: facts.ledgerArn, why: 'ledger entries are never deleted' },
      { action: 'cloudformation:UpdateStack', resource: `arn:aws:cloudformation:${world.region}:${ACCOUNT}:stack/NotesStack-prod/x`, why: 'stacks change only through the bootstrap deploy role' },
    ];
    for (const f of forbidden) {
      it(`${project.name}: ${f.action} on ${f.resource} is Denied (${f.why})`, () => expectDenied(world, project.name, project.role, f, f.why));
    }
  }

  it('the buildspecs run the scripts that call AWS (release-version, render-plan and execute-change-set at least)', () => {
    expect(sdkScripts).toEqual(expect.arrayContaining(['release-version', 'render-plan', 'execute-change-set', 'deploy-mode', 'shift-outcome', 'failed-create']));
  });
});

// --- the prod plan role ---------------------------------------------------------------------------
/** A role with this ARN in any stack of the world (the target's baseline stack creates the plan role). */
function roleWithArn(arn: string): Principal | undefined {
  for (const st of world.stacks) {
    const id = st.ofType('AWS::IAM::Role').find((r) => st.getAtt(r, 'Arn') === arn);
    if (id) return world.role(st.stackName, id);
  }
  return undefined;
}

/** Every IAM request a Plan project makes through the plan role: its kit script's bundled scripts (recorded) and the CDK CLI (derived from the copy it reads). */
function planRoleRequests(project: Project): IamRequest[] {
  const ctx = { account: ACCOUNT, region: world.region, topicKey: (a: string) => world.topicKey(a) };
  const out: IamRequest[] = [];
  for (const { raw, line } of kitProgramLines(project.commands, project.env)) {
    if (!/"\$PLAN_ROLE_ARN"/.test(raw)) continue;
    const bin = KIT_BIN.exec(raw)?.[1];
    if (bin && bin !== 'plan-assembly') {
      const stackName = /--stack "?([\w-]+)"?/.exec(line)?.[1];
      const use = { label: project.name, principal: project.role, env: project.env, names: { ...(stackName ? { StackName: stackName } : {}) } };
      for (const call of recorded().calls.filter((c) => c.component === `script/${bin}` && c.client === 'CloudFormationClient')) {
        out.push(...(iamRequestsOf(call.command, bindCall(call, use), ctx) ?? []));
      }
    }
  }
  for (const { raw, line, file } of kitProgramLines(project.commands, project.env).filter((l) => CDK_DEPLOY.test(l.line))) {
    const stackName = stackNameIn(project, CDK_DEPLOY.exec(line)![1]);
    const from = assemblyOf(project.env, file, raw, stackName);
    if (!from.planRole) continue;
    const changeSet = /--change-set-name "?([^"\s]+)"?/.exec(line)?.[1] ?? 'x';
    const bucketKey = world.bootstrapOf(world.region).getAtt('FileAssetsBucketEncryptionKey', 'Arn');
    out.push(...cliRequests(cdkDeployNoExecuteCalls(from.assembly.getStackByName(stackName), changeSet, ctx), ctx, bucketKey));
  }
  return out;
}

/** `<action> <resource>`, asset object keys as `*` (each release publishes other objects). */
const requestLine = (r: IamRequest) => `${r.action} ${r.resource.replace(/^(arn:aws:s3:::cdk-[^/]+-assets-[^/]+)\/.+$/, '$1/*')}`;

describe('the prod plan role (the Plan steps, before the approval)', () => {
  const planProjects = projects.filter((p) => p.env.PLAN_ROLE_ARN);
  const stackArn = (name: string) => `arn:aws:cloudformation:${world.region}:${ACCOUNT}:stack/${name}/00000000-1111-4222-8333-444444444444`;
  const bootstrap = `cdk-${world.qualifier}`;
  /**
   * Every call the Plan step makes through the plan role, and so exactly what the baseline stack's
   * plan role must allow (the integrator checks its policy against this list). Nothing here
   * executes a change set, updates or deletes a stack, or writes outside the bootstrap bucket.
   */
  const PLAN_ROLE_CALLS = [
    `cloudformation:CreateChangeSet ${stackArn('NotesStack-prod')}`,
    `cloudformation:DeleteChangeSet ${stackArn('NotesStack-prod')}`,
    `cloudformation:DescribeChangeSet ${stackArn('NotesStack-prod')}`,
    `cloudformation:DescribeStacks ${stackArn('CDKToolkit')}`,
    `cloudformation:DescribeStacks ${stackArn('NotesStack-prod')}`,
    `cloudformation:GetTemplate ${stackArn('NotesStack-prod')}`,
    `cloudformation:UpdateTerminationProtection ${stackArn('NotesStack-prod')}`,
    `iam:PassRole arn:aws:iam::${ACCOUNT}:role/${bootstrap}-cfn-exec-role-${ACCOUNT}-${world.region}`,
    `kms:Decrypt <bootstrap bucket key>`,
    `kms:GenerateDataKey <bootstrap bucket key>`,
    `s3:GetEncryptionConfiguration arn:aws:s3:::${bootstrap}-assets-${ACCOUNT}-${world.region}`,
    `s3:GetObject arn:aws:s3:::${bootstrap}-assets-${ACCOUNT}-${world.region}/*`,
    `s3:ListBucket arn:aws:s3:::${bootstrap}-assets-${ACCOUNT}-${world.region}`,
    `s3:PutObject arn:aws:s3:::${bootstrap}-assets-${ACCOUNT}-${world.region}/*`,
    `ssm:GetParameter arn:aws:ssm:${world.region}:${ACCOUNT}:parameter/cdk-bootstrap/${world.qualifier}/version`,
    `ssm:GetParameters arn:aws:ssm:${world.region}:${ACCOUNT}:parameter/cdk-bootstrap/${world.qualifier}/version`,
  ];

  it('the release, hotfix and rollback Plan steps (and only they) work through the plan role', () => {
    expect(planProjects.map((p) => p.commands.find((c) => KIT_COMMAND.test(c))).sort()).toEqual(['bash plan.sh', 'bash plan.sh', 'bash rollback-plan.sh']);
  });

  for (const project of planProjects) {
    const requests = planRoleRequests(project);
    const key = world.bootstrapOf(world.region).getAtt('FileAssetsBucketEncryptionKey', 'Arn');
    it(`${project.name}: its calls through the plan role are exactly the plan role's contract`, () => {
      expect([...new Set(requests.map((r) => requestLine(r).replace(key, '<bootstrap bucket key>')))].sort()).toEqual([...PLAN_ROLE_CALLS].sort());
    });
    it(`${project.name}: sts:AssumeRole on the plan role ${project.env.PLAN_ROLE_ARN} is Allowed`, () =>
      expectAllowed(world, project.name, project.role, { action: 'sts:AssumeRole', resource: project.env.PLAN_ROLE_ARN }));
    for (const role of [BOOTSTRAP_ROLES.deploy, BOOTSTRAP_ROLES.filePublishing, BOOTSTRAP_ROLES.lookup]) {
      const arn = world.bootstrapOf(world.region).getAtt(role, 'Arn');
      it(`${project.name}: sts:AssumeRole on the bootstrap role ${arn} is Denied (the plan role is all it may use)`, () =>
        expectDenied(world, project.name, project.role, { action: 'sts:AssumeRole', resource: arn }, 'before the approval only the plan role may be assumed'));
    }
    const planRole = roleWithArn(project.env.PLAN_ROLE_ARN);
    it(`${project.name}: the plan role ${project.env.PLAN_ROLE_ARN} is defined by a baseline stack`, () => expect(planRole?.definedIn).toMatch(/^NotesBaseline-/));
    if (!planRole) continue;
    for (const r of requests) {
      it(`${project.name} as the plan role: ${r.action} on ${r.resource} is Allowed`, () => expectAllowed(world, `${project.name} (plan role)`, planRole, r));
    }
    for (const action of ['cloudformation:ExecuteChangeSet', 'cloudformation:UpdateStack', 'cloudformation:DeleteStack']) {
      it(`the plan role: ${action} on NotesStack-prod is Denied`, () =>
        expectDenied(world, 'the plan role', planRole, { action, resource: stackArn('NotesStack-prod') }, 'nothing before the approval changes prod'));
    }
  }
});
