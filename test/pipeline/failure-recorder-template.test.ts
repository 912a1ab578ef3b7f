/**
 * Template facts of the failure recorder: the rules that feed it (which events, from which
 * pipelines) and its role (least privilege: exactly the calls lambda/failure-recorder makes).
 */
import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
} from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { recordFromEvent } from '../../lambda/failure-recorder/record';
import { ReleaseLedger } from '../../lib/release/ledger';
import { HOTFIX_PIPELINE_NAME, RELEASE_PIPELINE_NAME } from '../../lib/pipeline/pipeline-stack';
import { buildTestApp } from '../infra/fixture';

type Json = Record<string, unknown>;
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const { built } = buildTestApp();
const stack = built.pipelineStack;
const template = Template.fromStack(stack);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
const recorder = stack.failureRecorder;
const idOf = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
const functionId = idOf(recorder.function as never);
const roleId = idOf(recorder.role as never);
const pipelineIdOf = (name: string) => Object.entries(resources).find(([, r]) => r.Type === 'AWS::CodePipeline::Pipeline' && r.Properties.Name === name)![0];

function rulesTargeting(fnId: string): Json[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::Events::Rule')
    .filter((r) => JSON.stringify(r.Properties.Targets).includes(`"${fnId}"`))
    .map((r) => r.Properties);
}

describe('the rules that feed the failure recorder', () => {
  test('one rule per pipeline, release and hotfix, on the end (FAILED or SUCCEEDED) of the Prod stage', () => {
    const rules = rulesTargeting(functionId);

    expect(rules).toHaveLength(2);
    const pipelinesOfRules = rules.map((r) => JSON.stringify((r.EventPattern as Json).resources));
    for (const name of [RELEASE_PIPELINE_NAME, HOTFIX_PIPELINE_NAME]) {
      expect(pipelinesOfRules.some((p) => p.includes(pipelineIdOf(name)) || p.includes(`:${name}`))).toBe(true);
    }
    for (const rule of rules) {
      expect(rule.EventPattern).toMatchObject({
        source: ['aws.codepipeline'],
        'detail-type': ['CodePipeline Stage Execution State Change'],
        detail: { stage: ['Prod'], state: ['FAILED', 'SUCCEEDED'] },
      });
      expect(rule.State ?? 'ENABLED').toBe('ENABLED');
      expect(rule.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [functionId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 21600 } })]);
    }
  });

  test('EventBridge may invoke the function only from those two rules', () => {
    const permissions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties.FunctionName).includes(`"${functionId}"`));

    expect(permissions).toHaveLength(2);
    for (const p of permissions) expect(p.Properties).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } });
  });

  test('the function knows the pipelines, the prod stage and the ledger table', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          PIPELINE_NAMES: `${RELEASE_PIPELINE_NAME},${HOTFIX_PIPELINE_NAME}`,
          PROD_STAGE: 'Prod',
          LEDGER_TABLE: { Ref: idOf(stack.ledgerTable as never) },
          ROLLBACK_WAIT_SECONDS: '120',
        }),
      },
      Timeout: 240,
    });
  });
});

const statements = Object.values(resources)
  .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
  .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();

describe('the failure recorder role: least privilege', () => {

  test('exactly the calls the recorder makes, plus writing its own logs', () => {
    expect(actions).toEqual(
      [
        'codepipeline:GetPipelineExecution',
        'codepipeline:GetPipelineState',
        'codepipeline:ListActionExecutions',
        'codepipeline:ListPipelineExecutions',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ].sort(),
    );
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
  });

  test('CodePipeline reads are on the release and hotfix pipelines only; ledger writes on the ledger table only, never update or delete', () => {
    const cp = statements.find((s) => s.Sid === 'ReadReleasePipelineExecutions')!;
    const ddb = statements.find((s) => s.Sid === 'AppendFailedAttemptsToLedger')!;

    const cpResources = JSON.stringify(cp.Resource);
    expect(Array.isArray(cp.Resource) && cp.Resource).toHaveLength(2);
    expect(cpResources).toContain(`:${RELEASE_PIPELINE_NAME}"`);
    expect(cpResources).toContain(`:${HOTFIX_PIPELINE_NAME}"`);
    expect(cpResources).not.toContain('*');
    expect(ddb.Resource).toEqual({ 'Fn::GetAtt': [idOf(stack.ledgerTable as never), 'Arn'] });
    expect(actions).not.toContain('dynamodb:UpdateItem');
    expect(actions).not.toContain('dynamodb:DeleteItem');
  });
});

describe('the grants cover the calls the code makes', () => {
  test('every CodePipeline and DynamoDB command the recorder sends, on both paths, is an action its role allows', async () => {
    // Arrange: CodePipeline and DynamoDB both mocked; the ledger's commands are recorded, not run.
    const cp = mockClient(CodePipelineClient);
    const ddb = mockClient(DynamoDBDocumentClient);
    ddb.resolves({ Items: [] });
    const detail = (id: string) => ({ pipeline: RELEASE_PIPELINE_NAME, 'execution-id': id, stage: 'Prod', state: 'FAILED' });
    cp.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'rb' }).resolves({ pipelineExecution: { executionType: 'ROLLBACK' } });
    cp.on(GetPipelineExecutionCommand, { pipelineExecutionId: 'std' }).resolves({ pipelineExecution: { executionType: 'STANDARD' } });
    cp.on(ListPipelineExecutionsCommand).resolves({
      pipelineExecutionSummaries: [
        { pipelineExecutionId: 'rb', executionType: 'ROLLBACK', startTime: new Date('2026-12-01T10:05:00Z') },
        { pipelineExecutionId: 'std', executionType: 'STANDARD', startTime: new Date('2026-12-01T09:00:00Z') },
      ],
    });
    cp.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [{ stageName: 'Prod', actionName: 'SmokeTest', status: 'Failed', startTime: new Date('2026-12-01T10:00:00Z') }] });
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'Prod', latestExecution: { pipelineExecutionId: 'std', status: 'Failed' } }] });
    const deps = {
      codepipeline: new CodePipelineClient({ region: 'eu-west-1' }),
      ledger: new ReleaseLedger(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })), 'ledger'),
      now: () => new Date(),
      sleep: async () => undefined,
    };
    const settings = { pipelines: [RELEASE_PIPELINE_NAME], prodStage: 'Prod', rollbackWait: { attempts: 1, intervalMs: 0 } };

    // Act: the rollback-end path and the no-rollback path.
    await recordFromEvent(deps, settings, { source: 'aws.codepipeline', 'detail-type': 'CodePipeline Stage Execution State Change', detail: { ...detail('rb'), state: 'SUCCEEDED' } });
    await recordFromEvent(deps, settings, { source: 'aws.codepipeline', 'detail-type': 'CodePipeline Stage Execution State Change', detail: detail('std') });

    // Assert: the IAM action of each command sent is granted.
    const iamAction = (service: string) => (c: { args: unknown[] }) => `${service}:${(c.args[0] as object).constructor.name.replace(/Command$/, '')}`;
    const used = new Set([
      ...cp.calls().map(iamAction('codepipeline')),
      ...ddb.calls().map(iamAction('dynamodb')).map((a) => a.replace('dynamodb:Put', 'dynamodb:PutItem').replace('dynamodb:Get', 'dynamodb:GetItem')),
    ]);
    expect([...used].sort()).toEqual(['codepipeline:GetPipelineExecution', 'codepipeline:GetPipelineState', 'codepipeline:ListActionExecutions', 'codepipeline:ListPipelineExecutions', 'dynamodb:PutItem', 'dynamodb:Query']);
    for (const a of used) expect(actions).toContain(a);
    cp.restore();
    ddb.restore();
  });
});

describe('the IAM simulator on the role\'s policies', () => {
  const ACCOUNT = '123456789012';
  const REGION = 'eu-west-1';
  const ledgerId = idOf(stack.ledgerTable as never);
  const LEDGER_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/notes-ledger`;
  /** The template's intrinsics, resolved as CloudFormation would in account ACCOUNT. */
  function resolve(value: unknown): unknown {
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) return value.map(resolve);
    const v = value as Record<string, unknown>;
    if (v.Ref === 'AWS::Partition') return 'aws';
    if (v.Ref === 'AWS::Region') return REGION;
    if (v.Ref === 'AWS::AccountId') return ACCOUNT;
    if (v['Fn::Join']) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map((x) => resolve(x)).join(sep);
    }
    if (v['Fn::GetAtt']) {
      const [id, attr] = v['Fn::GetAtt'] as [string, string];
      if (id === ledgerId && attr === 'Arn') return LEDGER_ARN;
      if (resources[id]?.Type === 'AWS::Logs::LogGroup' && attr === 'Arn') return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${id}:*`;
    }
    if (typeof v === 'object' && v !== null && !('Ref' in v) && !Object.keys(v).some((k) => k.startsWith('Fn::'))) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
    }
    throw new Error(`cannot resolve ${JSON.stringify(value)}`);
  }
  const policy = { Version: '2012-10-17', Statement: statements.map((st) => resolve(st)) };
  const pipelineArn = (name: string) => `arn:aws:codepipeline:${REGION}:${ACCOUNT}:${name}`;
  const simulate = async (action: string, resource: string) => {
    const result = await runSimulation(
      {
        request: { principal: `arn:aws:iam::${ACCOUNT}:role/failure-recorder`, action, resource: { resource, accountId: ACCOUNT }, contextVariables: {} },
        identityPolicies: [{ name: 'FailureRecorderPolicy', policy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    return result.resultType === 'error' ? `error: ${JSON.stringify(result)}` : result.overallResult;
  };

  test.each([
    ...['GetPipelineExecution', 'ListPipelineExecutions', 'ListActionExecutions', 'GetPipelineState'].flatMap((a) => [
      [`codepipeline:${a}`, pipelineArn(RELEASE_PIPELINE_NAME)],
      [`codepipeline:${a}`, pipelineArn(HOTFIX_PIPELINE_NAME)],
    ]),
    ['dynamodb:PutItem', LEDGER_ARN],
    ['dynamodb:GetItem', LEDGER_ARN],
    ['dynamodb:Query', LEDGER_ARN],
  ])('failure recorder may call %s on %s', async (action, resource) => {
    expect(await simulate(action, resource)).toBe('Allowed');
  });

  test.each([
    ['dynamodb:UpdateItem', LEDGER_ARN],
    ['dynamodb:DeleteItem', LEDGER_ARN],
    ['dynamodb:PutItem', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/notes-prod-notes`],
    ['codepipeline:GetPipelineState', pipelineArn('notes-rollback')],
    ['codepipeline:StartPipelineExecution', pipelineArn(RELEASE_PIPELINE_NAME)],
    ['codepipeline:DisableStageTransition', `${pipelineArn(RELEASE_PIPELINE_NAME)}/Prod`],
  ])('failure recorder is denied %s on %s', async (action, resource) => {
    expect(await simulate(action, resource)).toBe('ImplicitlyDenied');
  });
});
