/**
 * The deploy step's lookup of the CodeDeploy deployment that moved the live alias (#13): CodeDeploy
 * behind aws-sdk-client-mock; the outputs file and the exported variables are real files.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodeDeployClient, GetDeploymentCommand, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import { main } from '../../lib/release/scripts/shift-outcome';

const codeDeploy = mockClient(CodeDeployClient);
const client = new CodeDeployClient({ region: 'eu-west-1' });
let dir: string;
let errors: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shift-outcome-'));
  codeDeploy.reset();
  errors = [];
  jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  jest.restoreAllMocks();
});

function outputs(stack: Record<string, string>): string {
  const file = join(dir, 'outputs.json');
  writeFileSync(file, JSON.stringify({ 'NotesStack-prod': { ApiUrl: 'https://x/v1/', ...stack } }));
  return file;
}
const args = (file: string) => ['--outputs', file, '--stack', 'NotesStack-prod', '--since', '1764580000', '--region', 'eu-west-1', '--out', join(dir, 'shift.env')];
const exported = () => readFileSync(join(dir, 'shift.env'), 'utf8');

test('exports the newest deployment of the stack group since the deploy began, with its status', async () => {
  // Arrange
  codeDeploy.on(ListDeploymentsCommand).resolves({ deployments: ['d-OLDER00001', 'd-NEWER00002'] });
  codeDeploy.on(GetDeploymentCommand, { deploymentId: 'd-OLDER00001' }).resolves({ deploymentInfo: { deploymentId: 'd-OLDER00001', status: 'Failed', createTime: new Date(1764580010_000) } });
  codeDeploy.on(GetDeploymentCommand, { deploymentId: 'd-NEWER00002' }).resolves({
    deploymentInfo: { deploymentId: 'd-NEWER00002', status: 'Succeeded', createTime: new Date(1764580100_000), deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes' },
  });
  const file = outputs({ CodeDeployApplicationName: 'notes-prod-api', DeploymentGroupName: 'notes-prod-api-live' });

  // Act
  const code = await main(args(file), { codeDeploy: async () => client });

  // Assert
  expect(code).toBe(0);
  expect(exported()).toBe("export CODEDEPLOY_DEPLOYMENT_ID='d-NEWER00002'\nexport CODEDEPLOY_OUTCOME='Succeeded'\n");
  expect(codeDeploy.commandCalls(ListDeploymentsCommand).map((c) => c.args[0].input)).toEqual([
    { applicationName: 'notes-prod-api', deploymentGroupName: 'notes-prod-api-live', createTimeRange: { start: new Date((1764580000 - 60) * 1000) }, nextToken: undefined },
  ]);
  expect(errors.join('\n')).toContain('NotesStack-prod: d-NEWER00002 Succeeded (CodeDeployDefault.LambdaCanary10Percent5Minutes)');
});

test('no deployment since the deploy began (the function did not change): NONE', async () => {
  codeDeploy.on(ListDeploymentsCommand).resolves({ deployments: [] });
  const code = await main(args(outputs({ CodeDeployApplicationName: 'notes-prod-api', DeploymentGroupName: 'notes-prod-api-live' })), { codeDeploy: async () => client });
  expect(code).toBe(0);
  expect(exported()).toBe("export CODEDEPLOY_DEPLOYMENT_ID='none'\nexport CODEDEPLOY_OUTCOME='NONE'\n");
});

test('a stack from before traffic shifting (no deployment group outputs): NONE, and CodeDeploy is not asked', async () => {
  const code = await main(args(outputs({})), { codeDeploy: async () => client });
  expect(code).toBe(0);
  expect(exported()).toContain("CODEDEPLOY_OUTCOME='NONE'");
  expect(codeDeploy.commandCalls(ListDeploymentsCommand)).toHaveLength(0);
});

test('a lookup that fails does not fail the deploy step: UNKNOWN, with the reason', async () => {
  codeDeploy.on(ListDeploymentsCommand).rejects(Object.assign(new Error('not authorized to perform codedeploy:ListDeployments'), { name: 'AccessDeniedException' }));
  const code = await main(args(outputs({ CodeDeployApplicationName: 'notes-prod-api', DeploymentGroupName: 'notes-prod-api-live' })), { codeDeploy: async () => client });
  expect(code).toBe(0);
  expect(exported()).toContain("CODEDEPLOY_OUTCOME='UNKNOWN'");
  expect(errors.join('\n')).toContain('not authorized to perform codedeploy:ListDeployments');
});

test('usage errors exit 2', async () => {
  expect(await main(['--stack', 'NotesStack-prod'])).toBe(2);
});
