/**
 * Rollbacks do not canary (#13). The deploy kit's rollback-plan.sh, which prepares the change set the
 * Deploy step executes, runs for real (bash, sha256sum, unzip, node) on a zipped cloud assembly
 * synthesized from this repository, with `aws`, `npx` and the plan renderer replaced by recorders;
 * the stage rollback's deploy mode comes from CodePipeline's execution type (mocked control plane).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodePipelineClient, GetPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { DEPLOY_KIT_DIR, kitContents } from '../../lib/pipeline/deploy-kit';
import { deployMode } from '../../lib/release/scripts/deploy-mode';
import { buildTestApp } from '../infra/fixture';

const STACK = 'NotesStack-prod';
let work: string;
let assembly: string;
let oldAssembly: string;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { deployParameters } = require(join(DEPLOY_KIT_DIR, 'deploy-parameters.js')) as {
  deployParameters: (dir: string, stack: string, mode: string) => { args: string[]; reason: string };
};

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'no-canary-'));
  assembly = join(work, 'assembly');
  buildTestApp({ outdir: assembly }).app.synth();
  // An archive from before traffic shifting: the same stack without the DeploymentConfig parameter.
  oldAssembly = join(work, 'old-assembly');
  cpSync(assembly, oldAssembly, { recursive: true });
  const file = join(oldAssembly, `${STACK}.template.json`);
  const template = JSON.parse(readFileSync(file, 'utf8')) as { Parameters: Record<string, unknown> };
  delete template.Parameters.DeploymentConfig;
  writeFileSync(file, JSON.stringify(template));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs the kit's rollback-plan.sh on a zip of `dir`; returns the `npx` command line it ran. */
function runKitDeploy(dir: string): { status: number | null; npx: string; stderr: string; stdout: string } {
  const run = mkdtempSync(join(work, 'run-'));
  const zip = join(run, 'archive.zip');
  execFileSync('zip', ['-qr', zip, '.'], { cwd: dir });
  const sha = execFileSync('sha256sum', [zip]).toString().split(' ')[0];
  const bin = join(run, 'bin');
  cpSync(DEPLOY_KIT_DIR, join(run, 'kit'), { recursive: true, filter: (src) => !src.includes('node_modules') });
  execFileSync('mkdir', ['-p', bin, join(run, 'kit', 'bin')]);
  // The real copy of the assembly through the plan role (bundled as the kit carries it).
  cpSync(join(kitContents(), 'bin', 'plan-assembly.js'), join(run, 'kit', 'bin', 'plan-assembly.js'));
  // The plan renderer reads the change set from CloudFormation: a recorder stands in for it here.
  writeFileSync(join(run, 'kit', 'bin', 'render-plan.js'), `require('fs').writeFileSync(${JSON.stringify(join(run, 'render.args'))}, process.argv.slice(2).join(' '));\n`);
  // `aws s3api get-object ... <outfile>`: writes the archive to the last argument.
  writeFileSync(join(bin, 'aws'), `#!/usr/bin/env bash\ncp "${zip}" "\${@: -1}"\n`);
  writeFileSync(join(bin, 'npx'), `#!/usr/bin/env bash\necho "$*" > "${join(run, 'npx.args')}"\n`);
  chmodSync(join(bin, 'aws'), 0o755);
  chmodSync(join(bin, 'npx'), 0o755);
  const res = spawnSync('bash', ['rollback-plan.sh'], {
    cwd: join(run, 'kit'),
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      TARGET_VERSION: '1.2.2',
      ARTIFACT_BUCKET: 'archive',
      ARTIFACT_KEY: 'releases/1.2.2/cloud-assembly.zip',
      ARTIFACT_VERSION_ID: 'none',
      ARTIFACT_SHA256: sha,
      STACK_NAME: STACK,
      TARGET_REGION: 'eu-west-1',
      PLAN_ROLE_ARN: 'arn:aws:iam::123456789012:role/notes-release-plan-eu-west-1',
      EXECUTION_ID: 'rb-1',
    },
    encoding: 'utf8',
  });
  let npx = '';
  try {
    npx = readFileSync(join(run, 'npx.args'), 'utf8').trim();
  } catch {
    npx = '';
  }
  return { status: res.status, npx, stderr: res.stderr, stdout: res.stdout };
}

test('the rollback pipeline plans the archived assembly with DeploymentConfig=CodeDeployDefault.LambdaAllAtOnce (and Deploy executes that plan)', () => {
  const res = runKitDeploy(assembly);
  expect(res.stderr).toContain('rollback: the previous version serves everything at once');
  expect(res.status).toBe(0);
  expect(res.npx).toMatch(
    /^--no-install cdk deploy --app \S+ NotesStack-prod --exclusively --require-approval never --ci --no-execute --force --change-set-name notes-rollback-rb-1 --parameters NotesStack-prod:DeploymentConfig=CodeDeployDefault\.LambdaAllAtOnce$/,
  );
});

test('an archived assembly from before traffic shifting is deployed without the parameter it does not declare', () => {
  const res = runKitDeploy(oldAssembly);
  expect(res.status).toBe(0);
  expect(res.npx).toMatch(/--change-set-name notes-rollback-rb-1$/);
  expect(res.npx).not.toContain('--parameters');
  expect(res.stderr).toContain('has no DeploymentConfig parameter');
});

test("a release deploy passes the environment's strategy explicitly (cdk deploy would otherwise keep a rollback's value)", () => {
  expect(deployParameters(assembly, STACK, 'release').args).toEqual(['--parameters', `${STACK}:DeploymentConfig=CodeDeployDefault.LambdaCanary10Percent5Minutes`]);
  expect(deployParameters(assembly, 'NotesStack-dev', 'rollback').args).toEqual(['--parameters', 'NotesStack-dev:DeploymentConfig=CodeDeployDefault.LambdaAllAtOnce']);
  expect(() => deployParameters(assembly, 'NotesStack-nope', 'release')).toThrow('has no stack NotesStack-nope');
});

test("the prod stage's own rollback (a ROLLBACK execution) deploys in rollback mode; a standard execution in release mode", async () => {
  // Arrange
  const cp = mockClient(CodePipelineClient);
  cp.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-rollback' }).resolves({ pipelineExecution: { executionType: 'ROLLBACK' } });
  cp.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-release' }).resolves({ pipelineExecution: { executionType: 'STANDARD', status: 'InProgress' } });
  // A rollback may be given the id of the execution it rolls back to (CodePipeline reuses that execution's variables).
  cp.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'exec-earlier' }).resolves({ pipelineExecution: { executionType: 'STANDARD', status: 'Succeeded' } });
  const client = new CodePipelineClient({ region: 'eu-west-1' });

  // Act / Assert
  await expect(deployMode(client, 'notes-release', 'exec-rollback')).resolves.toBe('rollback');
  await expect(deployMode(client, 'notes-release', 'exec-release')).resolves.toBe('release');
  await expect(deployMode(client, 'notes-release', 'exec-earlier')).resolves.toBe('rollback');
  await expect(deployMode(client, 'notes-release', undefined)).resolves.toBe('release');
  expect(cp.commandCalls(GetPipelineExecutionCommand).map((c) => c.args[0].input)).toEqual([
    { pipelineName: 'notes-release', pipelineExecutionId: 'exec-rollback' },
    { pipelineName: 'notes-release', pipelineExecutionId: 'exec-release' },
    { pipelineName: 'notes-release', pipelineExecutionId: 'exec-earlier' },
  ]);
  cp.restore();
});
