/**
 * A prod stack whose first create failed, planned before the approval and recovered after it (#11):
 * the Plan step reads the stack's status through the plan role (`plan-mode`) and, for
 * ROLLBACK_COMPLETE, renders the creation of the whole stack from the assembly's template without a
 * change set (`render-plan --create`, no AWS call); after the approval RecoverFailedCreate deletes
 * the stack through the deploy role and Deploy creates it from the planned template (checked by
 * the kit's plan-template.js). A healthy stack takes the change-set path. The control plane is
 * mocked (aws-sdk-client-mock) and every call asserted exactly.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DeleteStackCommand, DescribeChangeSetCommand, DescribeStacksCommand, GetTemplateCommand, ListStackResourcesCommand, StackStatus, UpdateTerminationProtectionCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { DEPLOY_KIT_DIR } from '../../lib/pipeline/deploy-kit';
import { recoverFailedCreate } from '../../lib/release/scripts/failed-create';
import { main as planModeMain, planMode } from '../../lib/release/scripts/plan-mode';
import { main as renderPlanMain, planCreate } from '../../lib/release/scripts/render-plan';

const STACK = 'NotesStack-prod';
const cfnMock = mockClient(CloudFormationClient);
const cfn = new CloudFormationClient({ region: 'eu-west-1' });
const stackIn = (status: StackStatus) => ({
  Stacks: [{ StackName: STACK, StackId: `arn:aws:cloudformation:eu-west-1:123456789012:stack/${STACK}/1`, StackStatus: status, CreationTime: new Date(0), EnableTerminationProtection: true }],
});
const missing = () => Object.assign(new Error(`Stack with id ${STACK} does not exist`), { name: 'ValidationError' });
const calls = () => cfnMock.calls().map((c) => [c.args[0].constructor.name, c.args[0].input]);

const TEMPLATE = {
  Resources: {
    NotesTable: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'notes' } },
    ApiRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Statement: [] } } },
    Api: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 256 } },
  },
};
let dir: string;
let out: string;
beforeEach(() => {
  cfnMock.reset();
  dir = mkdtempSync(join(tmpdir(), 'failed-create-plan-'));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ artifacts: { [STACK]: { type: 'aws:cloudformation:stack', properties: { templateFile: `${STACK}.template.json` } } } }));
  writeFileSync(join(dir, `${STACK}.template.json`), JSON.stringify(TEMPLATE, null, 1));
  out = join(dir, 'plan');
  mkdirSync(out);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
afterAll(() => cfnMock.restore());

const quiet = () => {
  const spies = [jest.spyOn(console, 'log'), jest.spyOn(console, 'error')].map((s) => s.mockImplementation(() => undefined));
  return { lines: () => spies.flatMap((s) => s.mock.calls.map((c) => String(c[0]))), restore: () => spies.forEach((s) => s.mockRestore()) };
};
const stdout = () => jest.spyOn(process.stdout, 'write').mockImplementation(() => true);

describe('plan mode, read through the plan role', () => {
  test.each([
    ['ROLLBACK_COMPLETE', 'create'],
    ['ROLLBACK_FAILED', 'create'],
    ['UPDATE_COMPLETE', 'change-set'],
    ['UPDATE_ROLLBACK_COMPLETE', 'change-set'],
  ] as const)('a stack in %s is planned as a %s, with one DescribeStacks', async (status, mode) => {
    cfnMock.on(DescribeStacksCommand).resolves(stackIn(status));

    await expect(planMode(cfn, STACK)).resolves.toEqual({ mode, status });

    expect(calls()).toEqual([['DescribeStacksCommand', { StackName: STACK }]]);
  });

  test('no stack yet: a change set (the CLI makes a CREATE change set)', async () => {
    cfnMock.on(DescribeStacksCommand).rejects(missing());

    await expect(planMode(cfn, STACK)).resolves.toEqual({ mode: 'change-set', status: 'none' });
    expect(calls()).toEqual([['DescribeStacksCommand', { StackName: STACK }]]);
  });

  test('the command prints the mode, says why, and refuses to guess when it cannot read the stack', async () => {
    const out1 = stdout();
    const log = quiet();
    cfnMock.on(DescribeStacksCommand).resolvesOnce(stackIn('ROLLBACK_COMPLETE')).rejectsOnce(Object.assign(new Error('User is not authorized to perform: cloudformation:DescribeStacks'), { name: 'AccessDenied' }));

    const created = await planModeMain(['--stack', STACK, '--region', 'eu-west-1'], cfn);
    const denied = await planModeMain(['--stack', STACK, '--region', 'eu-west-1'], cfn);
    const usage = await planModeMain(['--region', 'eu-west-1'], cfn);
    const written = out1.mock.calls.map((c) => String(c[0]));
    const lines = log.lines();
    out1.mockRestore();
    log.restore();

    expect([created, denied, usage]).toEqual([0, 1, 2]);
    expect(written[0]).toBe('create\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringContaining('plan mode: NotesStack-prod is ROLLBACK_COMPLETE (its first create failed)'),
        'plan mode: cannot read NotesStack-prod: User is not authorized to perform: cloudformation:DescribeStacks',
      ]),
    );
  });
});

describe('the plan of creating the whole stack', () => {
  test('every resource of the template is added, the plan carries the template\'s sha256, and it is named "create"', () => {
    const outcome = planCreate({ stackName: STACK, region: 'eu-west-1', assemblyDir: dir, allowStatefulChange: false });

    expect(outcome.plan.counts).toEqual({ added: 3, modified: 0, removed: 0, replaced: 0, mayReplace: 0 });
    expect(outcome.plan.resources.map((r) => [r.logicalId, r.action])).toEqual([
      ['NotesTable', 'add'],
      ['ApiRole', 'add'],
      ['Api', 'add'],
    ]);
    expect(outcome.plan.templateSha256).toBe(createHash('sha256').update(readFileSync(join(dir, `${STACK}.template.json`))).digest('hex'));
    expect(outcome.variables).toMatchObject({ CHANGE_SET_NAME: 'create', CHANGE_SET_URL: 'none' });
    expect(outcome.plan.summary).toMatch(/^plan: 3 added, 0 modified, 0 removed, 0 replaced; IAM: /);
    expect(outcome.markdown).toContain("NotesStack-prod's first create failed, so CloudFormation can make no change set against it");
    // Adding a table is no stateful change.
    expect(outcome.guard.allowed).toBe(true);
  });

  test('render-plan --create writes the plan and makes no AWS call', async () => {
    const log = quiet();
    const code = await renderPlanMain(['--stack', STACK, '--create', '--region', 'eu-west-1', '--assembly', dir, '--out-dir', out], cfn);
    log.restore();

    expect(code).toBe(0);
    expect(calls()).toEqual([]);
    expect(JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8'))).toMatchObject({ changeSetName: 'create', counts: { added: 3 } });
    expect(readFileSync(join(out, 'plan.env'), 'utf8')).toContain("export CHANGE_SET_NAME='create'");
  });

  test('a healthy stack takes the change-set path instead: DescribeChangeSet and GetTemplate, through the role given', async () => {
    cfnMock.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [] });
    cfnMock.on(GetTemplateCommand).resolves({ TemplateBody: JSON.stringify(TEMPLATE) });
    const log = quiet();

    const code = await renderPlanMain(['--stack', STACK, '--change-set', 'notes-plan-e1', '--region', 'eu-west-1', '--assembly', dir, '--out-dir', out], cfn);
    log.restore();

    expect(code).toBe(0);
    expect(calls()).toEqual([
      ['DescribeChangeSetCommand', { StackName: STACK, ChangeSetName: 'notes-plan-e1' }],
      ['GetTemplateCommand', { StackName: STACK, TemplateStage: 'Original' }],
    ]);
    expect(JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')).templateSha256).toBeUndefined();
  });
});

describe('after the approval: RecoverFailedCreate, then Deploy of the planned template', () => {
  const checkTemplate = (planFile: string) =>
    spawnSync(process.execPath, [join(DEPLOY_KIT_DIR, 'plan-template.js'), dir, STACK, planFile], { encoding: 'utf8' });

  test('the failed stack is deleted through the deploy role, and the template Deploy creates is the planned one', async () => {
    // Arrange: the approved create plan
    const plan = planCreate({ stackName: STACK, region: 'eu-west-1', assemblyDir: dir, allowStatefulChange: false });
    writeFileSync(join(out, 'plan.json'), plan.json);
    cfnMock.on(DescribeStacksCommand).resolvesOnce(stackIn('ROLLBACK_COMPLETE')).rejects(missing());
    cfnMock.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [{ LogicalResourceId: 'NotesTable', ResourceType: 'AWS::DynamoDB::Table', ResourceStatus: 'DELETE_COMPLETE', LastUpdatedTimestamp: new Date(0) }] });
    cfnMock.on(UpdateTerminationProtectionCommand).resolves({});
    cfnMock.on(DeleteStackCommand).resolves({});

    // Act
    const recovered = await recoverFailedCreate(cfn, { stackName: STACK, region: 'eu-west-1', pollMs: 0, sleep: async () => undefined });
    const check = checkTemplate(join(out, 'plan.json'));

    // Assert
    expect(recovered.outcome).toBe('deleted');
    expect(calls()).toEqual([
      ['DescribeStacksCommand', { StackName: STACK }],
      ['ListStackResourcesCommand', { StackName: STACK, NextToken: undefined }],
      ['UpdateTerminationProtectionCommand', { StackName: STACK, EnableTerminationProtection: false }],
      ['DeleteStackCommand', { StackName: STACK }],
      ['DescribeStacksCommand', { StackName: STACK }],
    ]);
    expect(check.status).toBe(0);
    expect(check.stderr).toContain(`the one the approved plan creates (sha256 ${plan.plan.templateSha256})`);
  });

  test('Deploy refuses a template the plan was not made from, and a plan that is not a create', () => {
    const plan = planCreate({ stackName: STACK, region: 'eu-west-1', assemblyDir: dir, allowStatefulChange: false });
    writeFileSync(join(out, 'plan.json'), plan.json);
    writeFileSync(join(dir, `${STACK}.template.json`), JSON.stringify({ Resources: {} }));
    const changed = checkTemplate(join(out, 'plan.json'));
    writeFileSync(join(out, 'other.json'), JSON.stringify({ stackName: STACK, changeSetName: 'notes-plan-e1' }));
    const notCreate = checkTemplate(join(out, 'other.json'));

    expect(changed.status).toBe(1);
    expect(changed.stderr).toContain(`the approved plan was made from ${plan.plan.templateSha256}; nothing was deployed`);
    expect(notCreate.status).toBe(1);
    expect(notCreate.stderr).toContain('is not a plan of creating NotesStack-prod (no templateSha256)');
  });
});
