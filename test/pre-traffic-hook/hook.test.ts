/**
 * The pre-traffic hook against the REAL notes handler (dynalite behind it): CodeDeploy, Lambda and
 * Secrets Manager are behind aws-sdk-client-mock, and Lambda's Invoke runs the handler in-process
 * with the event it was sent, as the version under test would. Each broken version is broken in
 * one way a user would notice.
 */
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient, type InvokeCommandInput } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createPreTrafficHook, HOOK_CHECKS, hookClaims, type HookConfig } from '../../lambda/pre-traffic-hook/hook';
import { lambdaContext } from '../notes-api/events';
import { newApi, startDynalite, type RunningDynalite, type TestApi } from '../notes-api/harness';

const CONFIG: HookConfig = {
  functionName: 'notes-prod-api',
  version: '7',
  expectedVersion: '1.2.3',
  secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:notes-prod/smoke-user-AbCdEf',
  invokeTimeoutMs: 2000,
};
const EVENT = { DeploymentId: 'd-ABCDEF123', LifecycleEventHookExecutionId: 'exec-0001' };
const SMOKE_USERNAME = 'smoke-test@notes.invalid';

type Fault = 'none' | 'wrong-version' | 'update-not-persisted' | 'create-throws' | 'health-hangs';

let db: RunningDynalite;
let api: TestApi;
let fault: Fault;
let releaseHang: () => void = () => undefined;
const lambda = new LambdaClient({ region: 'eu-west-1' });
const codeDeploy = new CodeDeployClient({ region: 'eu-west-1' });
const secrets = new SecretsManagerClient({ region: 'eu-west-1' });
const lambdaMock = mockClient(lambda);
const codeDeployMock = mockClient(codeDeploy);
const secretsMock = mockClient(secrets);
let logs: string[];

/** The version under test: the real handler, broken in one way (or not). */
async function version(event: APIGatewayProxyEvent): Promise<{ result?: APIGatewayProxyResult; error?: string }> {
  const route = `${event.httpMethod} ${event.resource}`;
  if (fault === 'create-throws' && route === 'POST /notes') return { error: 'TypeError: Cannot read properties of undefined' };
  if (fault === 'health-hangs' && route === 'GET /health') await new Promise<void>((r) => (releaseHang = r));
  if (fault === 'update-not-persisted' && route === 'PUT /notes/{id}') {
    const current = await api.handler({ ...event, httpMethod: 'GET', body: null }, lambdaContext());
    const note = JSON.parse(current.body) as { version: number };
    const answer = { ...note, ...(JSON.parse(event.body ?? '{}') as object), version: note.version + 1 };
    return { result: { statusCode: 200, headers: { ETag: `"${answer.version}"` }, body: JSON.stringify(answer) } };
  }
  const result = await api.handler(event, lambdaContext());
  if (fault === 'wrong-version' && route === 'GET /health') {
    return { result: { ...result, body: JSON.stringify({ ...(JSON.parse(result.body) as object), version: '1.2.2' }) } };
  }
  return { result };
}

const hook = () =>
  createPreTrafficHook({ lambda, codeDeploy, secrets, config: () => CONFIG, log: (level, message, fields) => logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`) });

/** A Lambda context whose remaining time runs down from `ms`. */
function contextWithRemaining(ms: number) {
  const start = Date.now();
  return { getRemainingTimeInMillis: () => Math.max(0, ms - (Date.now() - start)) };
}

const reports = () => codeDeployMock.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input);

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db?.stop();
});
beforeEach(async () => {
  api = await newApi(db);
  fault = 'none';
  logs = [];
  lambdaMock.reset();
  codeDeployMock.reset();
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: SMOKE_USERNAME, password: 'never-used-Aa1!' }) });
  codeDeployMock.on(PutLifecycleEventHookExecutionStatusCommand).resolves({ lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId });
  lambdaMock.on(InvokeCommand).callsFake(async (input: InvokeCommandInput) => {
    const event = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8')) as APIGatewayProxyEvent;
    const { result, error } = await version(event);
    if (error) return { StatusCode: 200, FunctionError: 'Unhandled', ExecutedVersion: input.Qualifier, Payload: Buffer.from(JSON.stringify({ errorType: 'TypeError', errorMessage: error })) };
    return { StatusCode: 200, ExecutedVersion: input.Qualifier, Payload: Buffer.from(JSON.stringify(result)) };
  });
});
afterEach(() => releaseHang());

test('passes on a healthy version: every check against version 7 directly, one Succeeded report, nothing left behind', async () => {
  // Act
  const result = await hook()(EVENT, contextWithRemaining(60_000));

  // Assert
  expect(result.status).toBe('Succeeded');
  expect(result.report?.checks.map((c) => [c.name, c.passed])).toEqual(HOOK_CHECKS.map((n) => [n, true]));
  expect(reports()).toEqual([{ deploymentId: 'd-ABCDEF123', lifecycleEventHookExecutionId: 'exec-0001', status: 'Succeeded' }]);
  const invokes = lambdaMock.commandCalls(InvokeCommand).map((c) => c.args[0].input);
  expect(invokes.length).toBeGreaterThanOrEqual(HOOK_CHECKS.length);
  for (const i of invokes) expect([i.FunctionName, i.Qualifier, i.InvocationType]).toEqual(['notes-prod-api', '7', 'RequestResponse']);
  expect(secretsMock.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: CONFIG.secretArn }]);
  expect(result.report?.cleanup.leftBehind).toEqual([]);
  const left = await api.call({ method: 'GET', path: '/notes', user: hookClaims(SMOKE_USERNAME).sub });
  expect(left.json).toEqual({ items: [], nextCursor: null });
});

test.each([
  ['wrong-version', 'health', 'version is "1.2.2", expected "1.2.3"'],
  ['update-not-persisted', 'crud-get-updated', 'not updated'],
  ['create-throws', 'crud-create', 'failed (Unhandled): TypeError'],
] as const)('fails on a version with %s, naming the check %s, and reports Failed once', async (broken, check, seen) => {
  // Arrange
  fault = broken;

  // Act
  const result = await hook()(EVENT, contextWithRemaining(60_000));

  // Assert
  expect(result.status).toBe('Failed');
  expect(result.reason).toContain(`check ${check} failed`);
  expect(result.reason).toContain(seen);
  expect(reports()).toEqual([{ deploymentId: 'd-ABCDEF123', lifecycleEventHookExecutionId: 'exec-0001', status: 'Failed' }]);
  expect(logs.some((l) => l.startsWith('error pre-traffic hook: Failed') && l.includes(`check ${check} failed`))).toBe(true);
});

test('reports Failed exactly once when it throws (the secret cannot be read)', async () => {
  // Arrange
  secretsMock.on(GetSecretValueCommand).rejects(Object.assign(new Error('User is not authorized to perform secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' }));

  // Act
  const result = await hook()(EVENT, contextWithRemaining(60_000));

  // Assert
  expect(result.status).toBe('Failed');
  expect(result.reason).toContain('AccessDeniedException');
  expect(reports()).toEqual([{ deploymentId: 'd-ABCDEF123', lifecycleEventHookExecutionId: 'exec-0001', status: 'Failed' }]);
  expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
});

test('reports Failed exactly once when the version hangs past the deadline, and a late finish does not report again', async () => {
  // Arrange
  fault = 'health-hangs';

  // Act: 1.5 s left, so the deadline (80 %) strikes after 1.2 s, inside the health check
  const result = await hook()(EVENT, contextWithRemaining(1500));
  releaseHang();
  await new Promise((r) => setImmediate(r));

  // Assert
  expect(result.status).toBe('Failed');
  expect(result.reason).toMatch(/^timed out after \d+ ms in check health$/);
  expect(reports()).toEqual([{ deploymentId: 'd-ABCDEF123', lifecycleEventHookExecutionId: 'exec-0001', status: 'Failed' }]);
});

test('an event without CodeDeploy ids reports nothing (there is nothing to report to)', async () => {
  const result = await hook()({}, contextWithRemaining(60_000));
  expect(result).toMatchObject({ status: 'Failed', reported: false });
  expect(reports()).toEqual([]);
});
