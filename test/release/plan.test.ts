/**
 * The production plan, rendered from DescribeChangeSet fixtures and the two templates, and the
 * stateful-change guard applied to the same change set (the Plan step's script).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Change, ChangeSetNotFoundException, CloudFormationClient, DescribeChangeSetCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { buildPlan, PlanInput, renderPlanMarkdown, sha256 } from '../../lib/release/plan';
import { main, MAX_PLAN_SUMMARY, planChangeSet } from '../../lib/release/scripts/render-plan';

const STACK = 'NotesStack-prod';
const CHANGE_SET = 'notes-plan-1111-2222';
const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/NotesStack-prod/abc';
const CHANGE_SET_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:changeSet/notes-plan-1111-2222/def';

const role = (statements: unknown[] = []) => ({
  Type: 'AWS::IAM::Role',
  Properties: {
    AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
    ...(statements.length ? { Policies: [{ PolicyName: 'inline', PolicyDocument: { Version: '2012-10-17', Statement: statements } }] } : {}),
  },
});
const table = (name: string) => ({ Type: 'AWS::DynamoDB::Table', Properties: { TableName: name, BillingMode: 'PAY_PER_REQUEST' } });
const fn = (memory: number) => ({ Type: 'AWS::Lambda::Function', Properties: { MemorySize: memory, Role: { 'Fn::GetAtt': ['FnRole', 'Arn'] } } });

const current = { Resources: { NotesTable: table('notes'), Fn: fn(256), FnRole: role(), OldQueue: { Type: 'AWS::SQS::Queue', Properties: {} } } };

function change(rc: NonNullable<Change['ResourceChange']>): Change {
  return { Type: 'Resource', ResourceChange: rc };
}
const modifyFn = change({ Action: 'Modify', LogicalResourceId: 'Fn', ResourceType: 'AWS::Lambda::Function', Replacement: 'False', Scope: ['Properties'], Details: [{ Target: { Attribute: 'Properties', Name: 'MemorySize', RequiresRecreation: 'Never' } }] });
const addBucket = change({ Action: 'Add', LogicalResourceId: 'Bucket', ResourceType: 'AWS::S3::Bucket' });
const removeQueue = change({ Action: 'Remove', LogicalResourceId: 'OldQueue', ResourceType: 'AWS::SQS::Queue', PolicyAction: 'Delete' });
const replaceTable = change({
  Action: 'Modify',
  LogicalResourceId: 'NotesTable',
  PhysicalResourceId: 'notes',
  ResourceType: 'AWS::DynamoDB::Table',
  Replacement: 'True',
  Scope: ['Properties'],
  Details: [{ Target: { Attribute: 'Properties', Name: 'TableName', RequiresRecreation: 'Always' } }],
});
const mayReplaceTable = change({
  ...replaceTable.ResourceChange!,
  Replacement: 'Conditional',
  Details: [{ Target: { Attribute: 'Properties', Name: 'TableName', RequiresRecreation: 'Conditionally' } }],
});
const modifyRole = change({ Action: 'Modify', LogicalResourceId: 'FnRole', ResourceType: 'AWS::IAM::Role', Replacement: 'False', Scope: ['Properties'] });

function input(newResources: Record<string, unknown>, changes: Change[] | 'no-changes'): PlanInput {
  return {
    stackName: STACK,
    changeSetName: CHANGE_SET,
    region: 'eu-west-1',
    currentTemplate: current,
    newTemplate: { Resources: newResources },
    changeSet:
      changes === 'no-changes'
        ? { Status: 'FAILED', StatusReason: "The submitted information didn't contain changes. Submit different information to create a change set.", StackId: STACK_ID, ChangeSetId: CHANGE_SET_ID }
        : { Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', StackId: STACK_ID, ChangeSetId: CHANGE_SET_ID, Changes: changes },
  };
}

describe('plan rendering', () => {
  test('counts an addition, a modification and a removal, and links the change set', () => {
    const i = input({ NotesTable: table('notes'), Fn: fn(512), FnRole: role(), Bucket: { Type: 'AWS::S3::Bucket' } }, [modifyFn, addBucket, removeQueue]);

    const plan = buildPlan(i);

    expect(plan.counts).toEqual({ added: 1, modified: 1, removed: 1, replaced: 0, mayReplace: 0 });
    expect(plan.summary).toBe('plan: 1 added, 1 modified, 1 removed, 0 replaced; IAM: no changes');
    expect(plan.changeSetUrl).toBe(
      `https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/changesets/changes?stackId=${encodeURIComponent(STACK_ID)}&changeSetId=${encodeURIComponent(CHANGE_SET_ID)}`,
    );
    const md = renderPlanMarkdown(plan, i);
    expect(md).toContain('| add | `Bucket` | AWS::S3::Bucket |');
    expect(md).toContain('| modify | `Fn` | AWS::Lambda::Function |');
    expect(md).toContain('| REMOVE | `OldQueue` | AWS::SQS::Queue |');
    expect(md).toContain('[~] AWS::Lambda::Function Fn'); // cdk diff's own rendering
  });

  test('a replacement names the property path that forces it', () => {
    const i = input({ NotesTable: table('notes-v2'), Fn: fn(256), FnRole: role(), OldQueue: current.Resources.OldQueue }, [replaceTable]);

    const plan = buildPlan(i);

    expect(plan.counts.replaced).toBe(1);
    expect(plan.resources).toEqual([{ logicalId: 'NotesTable', type: 'AWS::DynamoDB::Table', action: 'replace', replacementCausedBy: ['Properties.TableName'] }]);
    expect(renderPlanMarkdown(plan, i)).toContain('| REPLACE | `NotesTable` | AWS::DynamoDB::Table | `Properties.TableName` |');
  });

  test('a conditional replacement is counted and shown apart from a certain one', () => {
    const i = input({ NotesTable: table('notes-v2'), Fn: fn(256), FnRole: role(), OldQueue: current.Resources.OldQueue }, [mayReplaceTable]);

    const plan = buildPlan(i);

    expect(plan.counts).toEqual({ added: 0, modified: 0, removed: 0, replaced: 0, mayReplace: 1 });
    expect(plan.summary).toBe('plan: 0 added, 0 modified, 0 removed, 0 replaced, 1 may be replaced; IAM: no changes');
    expect(renderPlanMarkdown(plan, i)).toContain('| MAY REPLACE | `NotesTable` |');
  });

  test('IAM statement changes get their own section and a count in the summary', () => {
    const i = input(
      { NotesTable: table('notes'), Fn: fn(256), FnRole: role([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }]), OldQueue: current.Resources.OldQueue },
      [modifyRole],
    );

    const plan = buildPlan(i);

    expect(plan.iam.statementsAdded).toBe(1);
    expect(plan.iam.broadened).toBe(true);
    expect(plan.summary).toBe('plan: 0 added, 1 modified, 0 removed, 0 replaced; IAM: 1 statement added (broadens permissions)');
    const md = renderPlanMarkdown(plan, i);
    const security = md.slice(md.indexOf('## IAM and security changes'), md.indexOf('## Full diff'));
    expect(security).toContain('- modify `FnRole` (AWS::IAM::Role)');
    expect(security).toContain('s3:GetObject');
    expect(security).toContain('IAM Statement Changes');
  });

  test('several pages of changes are all in the plan (the script merges them)', async () => {
    const cfn = mockClient(CloudFormationClient);
    const dir = assemblyWith({ NotesTable: table('notes'), Fn: fn(512), FnRole: role(), Bucket: { Type: 'AWS::S3::Bucket' } });
    cfn
      .on(DescribeChangeSetCommand, { StackName: STACK, ChangeSetName: CHANGE_SET, NextToken: undefined })
      .resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', StackId: STACK_ID, ChangeSetId: CHANGE_SET_ID, Changes: [modifyFn], NextToken: 'p2' })
      .on(DescribeChangeSetCommand, { StackName: STACK, ChangeSetName: CHANGE_SET, NextToken: 'p2' })
      .resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', StackId: STACK_ID, ChangeSetId: CHANGE_SET_ID, Changes: [addBucket, removeQueue] })
      .on(GetTemplateCommand)
      .resolves({ TemplateBody: JSON.stringify(current) });

    const out = await planChangeSet(cfn as unknown as CloudFormationClient, { stackName: STACK, changeSetName: CHANGE_SET, region: 'eu-west-1', assemblyDir: dir, allowStatefulChange: false });

    expect(out.plan.counts).toEqual({ added: 1, modified: 1, removed: 1, replaced: 0, mayReplace: 0 });
    expect(cfn).toHaveReceivedCommandTimes(DescribeChangeSetCommand, 2);
    expect(cfn).toHaveReceivedCommandWith(GetTemplateCommand, { StackName: STACK, TemplateStage: 'Original' });
    cfn.restore();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a change set CloudFormation refused for having no changes is the plan "no changes"', () => {
    const i = input(current.Resources, 'no-changes');

    const plan = buildPlan(i);

    expect(plan.noChanges).toBe(true);
    expect(plan.summary).toBe('plan: no changes');
    expect(renderPlanMarkdown(plan, i)).toContain('No changes: the release deploys nothing new to this stack.');
  });

  test('an empty change set list is also "no changes"', () => {
    const plan = buildPlan(input(current.Resources, []));

    expect(plan.noChanges).toBe(true);
    expect(plan.resources).toEqual([]);
  });
});

function assemblyWith(resources: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'plan-assembly-'));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ artifacts: { [STACK]: { type: 'aws:cloudformation:stack', properties: { templateFile: `${STACK}.template.json` } } } }));
  writeFileSync(join(dir, `${STACK}.template.json`), JSON.stringify({ Resources: resources }));
  return dir;
}

describe('the Plan step script (guard on the same change set)', () => {
  const cfn = mockClient(CloudFormationClient);
  let dir: string;
  let out: string;
  beforeEach(() => {
    cfn.reset();
    dir = assemblyWith({ NotesTable: table('notes-v2'), Fn: fn(256), FnRole: role(), OldQueue: current.Resources.OldQueue });
    out = join(dir, 'out');
    mkdirSync(out);
    cfn.on(GetTemplateCommand).resolves({ TemplateBody: JSON.stringify(current) });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  afterAll(() => cfn.restore());
  const args = (...extra: string[]) => ['--stack', STACK, '--change-set', CHANGE_SET, '--region', 'eu-west-1', '--assembly', dir, '--out-dir', out, ...extra];

  test('fails the plan on a table replacement unless ALLOW_STATEFUL_CHANGE is true', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', StackId: STACK_ID, ChangeSetId: CHANGE_SET_ID, Changes: [replaceTable] });
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);

    const blocked = await main(args('--allow', 'false'), cfn as unknown as CloudFormationClient);
    const allowed = await main(args('--allow', 'true'), cfn as unknown as CloudFormationClient);

    expect(blocked).toBe(1);
    expect(allowed).toBe(0);
    expect(log.mock.calls.map((c) => String(c[0])).join('\n')).toContain('stateful-change guard: blocked');
    err.mockRestore();
    log.mockRestore();
  });

  test('a conditional replacement of the table also fails the plan', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [mayReplaceTable] });
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);

    expect(await main(args(), cfn as unknown as CloudFormationClient)).toBe(1);
    log.mockRestore();
  });

  test('writes plan.md, plan.json and the variables, with the SHA-256 of exactly the stored JSON', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', StackId: STACK_ID, ChangeSetId: CHANGE_SET_ID, Changes: [modifyFn] });
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);

    expect(await main(args(), cfn as unknown as CloudFormationClient)).toBe(0);

    const json = readFileSync(join(out, 'plan.json'), 'utf8');
    const env = readFileSync(join(out, 'plan.env'), 'utf8');
    expect(JSON.parse(json)).toMatchObject({ stackName: STACK, changeSetName: CHANGE_SET, summary: 'plan: 0 added, 1 modified, 0 removed, 0 replaced; IAM: no changes' });
    expect(env).toContain(`export PLAN_SHA256='${sha256(json)}'`);
    expect(env).toContain("export PLAN_SUMMARY='plan: 0 added, 1 modified, 0 removed, 0 replaced; IAM: no changes'");
    expect(env).toContain(`export CHANGE_SET_NAME='${CHANGE_SET}'`);
    expect(readFileSync(join(out, 'plan.md'), 'utf8')).toContain('# Plan for NotesStack-prod');
    log.mockRestore();
  });

  test('the summary variable stays within its bound however many changes there are', async () => {
    const many = Array.from({ length: 400 }, (_, n) => change({ Action: 'Add', LogicalResourceId: `R${n}`, ResourceType: 'AWS::SNS::Topic' }));
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: many });

    const outcome = await planChangeSet(cfn as unknown as CloudFormationClient, { stackName: STACK, changeSetName: CHANGE_SET, region: 'eu-west-1', assemblyDir: dir, allowStatefulChange: false });

    expect(outcome.variables.PLAN_SUMMARY.length).toBeLessThanOrEqual(MAX_PLAN_SUMMARY);
    expect(outcome.plan.counts.added).toBe(400);
  });

  test('a change set that failed for another reason stops the plan, naming the reason (exit 2)', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: 'Template format error: Unresolved resource dependencies [X]' });
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);

    expect(await main(args(), cfn as unknown as CloudFormationClient)).toBe(2);
    expect(String(err.mock.calls[0][0])).toContain('Template format error: Unresolved resource dependencies [X]');
    err.mockRestore();
  });

  test('a missing change set stops the plan (exit 2), naming it', async () => {
    cfn.on(DescribeChangeSetCommand).rejects(new ChangeSetNotFoundException({ message: `ChangeSet [${CHANGE_SET}] does not exist`, $metadata: {} }));
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);

    expect(await main(args(), cfn as unknown as CloudFormationClient)).toBe(2);
    expect(String(err.mock.calls[0][0])).toContain(`could not read change set ${CHANGE_SET} of ${STACK}`);
    err.mockRestore();
  });

  test('a first deploy (no stack yet) plans against an empty template', async () => {
    cfn.on(GetTemplateCommand).rejects(new Error(`Stack with id ${STACK} does not exist`));
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [addBucket] });

    const outcome = await planChangeSet(cfn as unknown as CloudFormationClient, { stackName: STACK, changeSetName: CHANGE_SET, region: 'eu-west-1', assemblyDir: dir, allowStatefulChange: false });

    expect(outcome.plan.counts.added).toBe(1);
    expect(outcome.guard.allowed).toBe(true);
  });
});

describe('a plan from the templates alone (no change set: the CLI before a rollback)', () => {
  test('lists what the template diff says, with replacement paths', () => {
    const i: PlanInput = { ...input({ NotesTable: table('notes-v2'), Fn: fn(512), FnRole: role() }, []), changeSet: undefined };

    const plan = buildPlan(i);

    expect(plan.resources).toEqual(
      expect.arrayContaining([
        { logicalId: 'NotesTable', type: 'AWS::DynamoDB::Table', action: 'replace', replacementCausedBy: ['Properties.TableName'] },
        { logicalId: 'Fn', type: 'AWS::Lambda::Function', action: 'modify', replacementCausedBy: [] },
        { logicalId: 'OldQueue', type: 'AWS::SQS::Queue', action: 'remove', replacementCausedBy: [] },
      ]),
    );
    expect(plan.summary).toBe('plan: 0 added, 1 modified, 1 removed, 1 replaced; IAM: no changes');
  });
});
