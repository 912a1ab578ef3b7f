/**
 * The smoke-test Lambda's reporting to CodePipeline: exactly one PutJobSuccessResult or
 * PutJobFailureResult per job, with the right job id and content, on success, on a failed check,
 * when the run throws, and when it runs out of time; nothing at all without a job.
 *
 * The API is real (the local mode running the real notes handler, with one fault at a time);
 * only the AWS control plane is mocked: CodePipeline, Secrets Manager, and Cognito (whose
 * AdminInitiateAuth answers with a real id token from cognito-local, so the API accepts it).
 */
import { startSmokeService, RELEASE_VERSION, type SmokeService } from './harness';
import { AdminInitiateAuthCommand, CognitoIdentityProviderClient, NotAuthorizedException } from '@aws-sdk/client-cognito-identity-provider';
import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { CHECK_NAMES } from '../../lambda/smoke-test/checks';
import { handler, logger, MAX_SUMMARY_CHARS, pipelineClient, type DirectInvocationResult } from '../../lambda/smoke-test/index';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

/** Mocks of the AWS control plane (made after the real token is taken: they replace every client's send). */
function mockControlPlane() {
  return {
    codePipeline: mockClient(CodePipelineClient),
    secrets: mockClient(SecretsManagerClient),
    cognito: mockClient(CognitoIdentityProviderClient),
  };
}
type ControlPlane = ReturnType<typeof mockControlPlane>;

let service: SmokeService;
let idToken: string;
let codePipeline: ControlPlane['codePipeline'];
let secrets: ControlPlane['secrets'];
let cognito: ControlPlane['cognito'];
let secretCounter = 0;
let secretArn: string;
let jobCounter = 0;

const SMOKE_PASSWORD = 'Smoke-Secret-Pass-7!';
const POOL_ID = 'eu-west-1_SmokePool';
const CLIENT_ID = 'smoke-client-id';

beforeAll(async () => {
  // The Lambda's JSON log lines are asserted where they matter (no secrets), silent elsewhere.
  logger.setLogLevel('SILENT');
  service = await startSmokeService('handler');
  // A real token from cognito-local, taken before Cognito's SDK client is mocked.
  idToken = await service.login();
  ({ codePipeline, secrets, cognito } = mockControlPlane());
});

afterAll(async () => {
  codePipeline?.restore();
  secrets?.restore();
  cognito?.restore();
  await service?.stop();
});

beforeEach(() => {
  codePipeline.reset();
  secrets.reset();
  cognito.reset();
  codePipeline.on(PutJobSuccessResultCommand).resolves({}).on(PutJobFailureResultCommand).resolves({});
  // A fresh secret per test: the Lambda caches credentials per secret for the container's life.
  secretArn = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:notes-dev/smoke-user-${++secretCounter}`;
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'smoke@example.com', password: SMOKE_PASSWORD }) });
  cognito.on(AdminInitiateAuthCommand).resolves({ AuthenticationResult: { IdToken: idToken } });
  Object.assign(process.env, {
    API_URL: service.stack.apiUrl,
    USER_POOL_ID: POOL_ID,
    SMOKE_CLIENT_ID: CLIENT_ID,
    SMOKE_SECRET_ARN: secretArn,
    EXPECTED_VERSION: '0.0.1-from-env',
    HEALTH_SLA_MS: '10000',
    HTTP_TIMEOUT_MS: '5000',
  });
});

afterEach(async () => {
  service.releaseHanging();
  await service.purgeSmokeUserNotes(idToken);
});

function jobEvent(userParameters: string | undefined, id = `job-${++jobCounter}-0000-4000-8000-000000000000`): { 'CodePipeline.job': object } {
  return {
    'CodePipeline.job': {
      id,
      accountId: '123456789012',
      data: {
        actionConfiguration: { configuration: { FunctionName: 'notes-dev-smoke-test', ...(userParameters === undefined ? {} : { UserParameters: userParameters }) } },
        inputArtifacts: [],
        outputArtifacts: [],
        artifactCredentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'example-artifact-secret', sessionToken: 'example-session' },
      },
    },
  };
}

/** A Lambda context whose remaining time counts down from `remainingMs`. */
function lambdaContext(remainingMs = 60_000): Context {
  const end = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'notes-dev-smoke-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:notes-dev-smoke-test',
    memoryLimitInMB: '256',
    awsRequestId: 'request-1234',
    logGroupName: '/aws/lambda/notes-dev-smoke-test',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => Math.max(0, end - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function idOf(event: { 'CodePipeline.job': object }): string {
  return (event['CodePipeline.job'] as { id: string }).id;
}

function successCalls(): Array<Record<string, unknown>> {
  return codePipeline.commandCalls(PutJobSuccessResultCommand).map((c) => ({ ...c.args[0].input }));
}

function failureCalls(): Array<{ jobId: string; failureDetails: { type: string; message: string; externalExecutionId?: string } }> {
  return codePipeline
    .commandCalls(PutJobFailureResultCommand)
    .map((c) => c.args[0].input as { jobId: string; failureDetails: { type: string; message: string; externalExecutionId?: string } });
}

/** Exactly one report, a failure, for this job: returns its message. */
function theOnlyFailure(event: { 'CodePipeline.job': object }): string {
  expect(successCalls()).toHaveLength(0);
  const failures = failureCalls();
  expect(failures).toHaveLength(1);
  expect(failures[0].jobId).toBe(idOf(event));
  expect(failures[0].failureDetails.type).toBe('JobFailed');
  expect(failures[0].failureDetails.externalExecutionId).toBe('request-1234');
  return failures[0].failureDetails.message;
}

describe('with a CodePipeline job', () => {
  test('a healthy service: exactly one PutJobSuccessResult with the job id, the summary and output variables', async () => {
    const event = jobEvent(JSON.stringify({ expectedVersion: RELEASE_VERSION }));

    await handler(event, lambdaContext());

    expect(failureCalls()).toHaveLength(0);
    const calls = successCalls();
    expect(calls).toHaveLength(1);
    const input = calls[0] as { jobId: string; executionDetails: { summary: string; externalExecutionId: string; percentComplete: number }; outputVariables: Record<string, string> };
    expect(input.jobId).toBe(idOf(event));
    expect(input.executionDetails.externalExecutionId).toBe('request-1234');
    expect(input.executionDetails.percentComplete).toBe(100);
    expect(input.executionDetails.summary).toMatch(/^Smoke test passed: 11\/11 checks/);
    for (const name of CHECK_NAMES) expect(input.executionDetails.summary).toMatch(new RegExp(`^PASS ${name} \\d+ ms`, 'm'));
    expect(input.executionDetails.summary.length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
    expect(input.outputVariables.SMOKE_RESULT).toBe('PASSED');
    // Eleven checks' times do not fit the approval text's budget for it: the verdict alone, never a cut list.
    expect(input.outputVariables.SMOKE_SUMMARY).toMatch(/^Smoke test passed: 11\/11 checks in \d+ ms$/);
    expect(await service.smokeUserNotes(idToken)).toEqual([]);
  });

  test('logs in as the smoke user from its secret, with AdminInitiateAuth on the smoke client', async () => {
    await handler(jobEvent(JSON.stringify({ expectedVersion: RELEASE_VERSION })), lambdaContext());

    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: secretArn }]);
    expect(cognito.commandCalls(AdminInitiateAuthCommand).map((c) => c.args[0].input)).toEqual([
      {
        UserPoolId: POOL_ID,
        ClientId: CLIENT_ID,
        AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'smoke@example.com', PASSWORD: SMOKE_PASSWORD },
      },
    ]);
  });

  test('UserParameters expectedVersion overrides EXPECTED_VERSION; a mismatch is one failure naming the health check', async () => {
    const event = jobEvent(JSON.stringify({ expectedVersion: '2.0.0' }));

    await handler(event, lambdaContext());

    const message = theOnlyFailure(event);
    expect(message).toMatch(/^Smoke test FAILED at health: GET \/health -> 200 .*version is "1\.2\.3", expected "2\.0\.0"/);
  });

  test('without UserParameters, EXPECTED_VERSION is the expected version', async () => {
    const event = jobEvent(undefined);

    await handler(event, lambdaContext());

    expect(theOnlyFailure(event)).toContain('expected "0.0.1-from-env"');
  });

  test('a broken service: one failure naming the check and the response, and the note is cleaned up', async () => {
    service.fault = 'update-not-persisted';
    const event = jobEvent(JSON.stringify({ expectedVersion: RELEASE_VERSION }));

    await handler(event, lambdaContext());

    const message = theOnlyFailure(event);
    expect(message).toMatch(/^Smoke test FAILED at crud-get-updated: GET \/notes\/[0-9A-Z]{26} -> 200 but the note is not updated/);
    expect(message).toMatch(/^FAIL crud-get-updated \d+ ms/m);
    service.fault = 'none';
    expect(await service.smokeUserNotes(idToken)).toEqual([]);
  });

  test('the smoke secret is missing: one failure naming auth-login and the cause', async () => {
    secrets.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }));
    const event = jobEvent(JSON.stringify({ expectedVersion: RELEASE_VERSION }));

    await handler(event, lambdaContext());

    expect(theOnlyFailure(event)).toMatch(/^Smoke test FAILED at auth-login: login failed: ResourceNotFoundException: Secrets Manager can't find/);
  });

  test('a malformed secret: one failure that does not quote the secret', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"user":"smoke","pass":"Do-Not-Print-Me-1"}' });
    const event = jobEvent(JSON.stringify({ expectedVersion: RELEASE_VERSION }));

    await handler(event, lambdaContext());

    const message = theOnlyFailure(event);
    expect(message).toContain(`auth-login: login failed: SmokeSetupError: secret ${secretArn} is not JSON with string fields "username" and "password"`);
    expect(message).not.toContain('Do-Not-Print-Me-1');
  });

  test('the configuration is incomplete: one failure saying what is missing', async () => {
    delete process.env.API_URL;
    const event = jobEvent(JSON.stringify({ expectedVersion: RELEASE_VERSION }));

    await handler(event, lambdaContext());

    expect(theOnlyFailure(event)).toBe('smoke test could not run: SmokeSetupError: API_URL is not set');
  });

  test('UserParameters that are not JSON: one failure saying what is expected', async () => {
    const event = jobEvent('1.2.3');

    await handler(event, lambdaContext());

    expect(theOnlyFailure(event)).toMatch(/^smoke test could not run: SmokeSetupError: UserParameters must be JSON like \{"expectedVersion":"1\.2\.3"\}/);
  });

  test('the checks outlast the invocation: one failure naming the check, and the late finish reports nothing more', async () => {
    service.fault = 'hanging-health';
    const event = jobEvent(JSON.stringify({ expectedVersion: RELEASE_VERSION }));

    // 1.5 s left: the checks get 1.2 s (20 % is kept back to report and clean up).
    await handler(event, lambdaContext(1500));
    service.releaseHanging();
    await new Promise((r) => setTimeout(r, 100));

    expect(theOnlyFailure(event)).toBe('smoke test timed out after 1200 ms in check health');
  });

  test('a hanging login is stopped at the deadline: one failure naming auth-login', async () => {
    cognito.on(AdminInitiateAuthCommand).callsFake(() => new Promise(() => undefined));
    const event = jobEvent(JSON.stringify({ expectedVersion: RELEASE_VERSION }));

    // 5 s left: the three checks before the login have 4 s, ample on a busy machine.
    await handler(event, lambdaContext(5000));

    expect(theOnlyFailure(event)).toBe('smoke test timed out after 4000 ms in check auth-login');
  });

  test('PutJobSuccessResult failing is not followed by a second report, and the handler does not throw', async () => {
    codePipeline.on(PutJobSuccessResultCommand).rejects(new Error('throttled'));
    const event = jobEvent(JSON.stringify({ expectedVersion: RELEASE_VERSION }));

    await expect(handler(event, lambdaContext())).resolves.toBeUndefined();

    expect(successCalls()).toHaveLength(1);
    expect(failureCalls()).toHaveLength(0);
  });

  test('the same job invoked twice in one container is reported once', async () => {
    const event = jobEvent(JSON.stringify({ expectedVersion: RELEASE_VERSION }));

    await handler(event, lambdaContext());
    await handler(event, lambdaContext());

    expect(successCalls()).toHaveLength(1);
    expect(failureCalls()).toHaveLength(0);
  });

  test('the secret is read once per container; a refused login re-reads it (rotated password)', async () => {
    await handler(jobEvent(JSON.stringify({ expectedVersion: RELEASE_VERSION })), lambdaContext());
    cognito.reset();
    cognito
      .on(AdminInitiateAuthCommand)
      .rejectsOnce(new NotAuthorizedException({ message: 'Incorrect username or password.', $metadata: {} }))
      .resolves({ AuthenticationResult: { IdToken: idToken } });

    await handler(jobEvent(JSON.stringify({ expectedVersion: RELEASE_VERSION })), lambdaContext());

    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(cognito.commandCalls(AdminInitiateAuthCommand)).toHaveLength(2);
    expect(successCalls()).toHaveLength(2);
  });

  test('logs carry neither the password, the token, nor the artifact credentials of the event', async () => {
    const lines: string[] = [];
    const spies = [process.stdout, process.stderr].map((stream) =>
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      }),
    );
    logger.setLogLevel('DEBUG');
    service.fault = 'update-fails';
    try {
      await handler(jobEvent(JSON.stringify({ expectedVersion: RELEASE_VERSION })), lambdaContext());
    } finally {
      logger.setLogLevel('SILENT');
      spies.forEach((s) => s.mockRestore());
    }

    const log = lines.join('');
    expect(log).toContain('smoke test finished');
    expect(log).not.toContain(SMOKE_PASSWORD);
    expect(log).not.toContain(idToken);
    expect(log).not.toContain('example-artifact-secret');
  });
});

describe('without a CodePipeline job (an operator invoking the function)', () => {
  test('returns the report and makes no CodePipeline call', async () => {
    const result = (await handler({ expectedVersion: RELEASE_VERSION }, lambdaContext())) as DirectInvocationResult;

    expect(result.error).toBeUndefined();
    expect(result.report?.passed).toBe(true);
    expect(result.report?.summary).toMatch(/^Smoke test passed/);
    expect(codePipeline.calls()).toHaveLength(0);
  });

  test('a failing check is in the returned report, still with no CodePipeline call', async () => {
    const result = (await handler({ expectedVersion: '9.9.9' }, lambdaContext())) as DirectInvocationResult;

    expect(result.report?.passed).toBe(false);
    expect(result.report?.failure?.name).toBe('health');
    expect(codePipeline.calls()).toHaveLength(0);
  });

  test('a timeout is returned as an error, with no CodePipeline call', async () => {
    service.fault = 'hanging-health';

    const result = (await handler({}, lambdaContext(1000))) as DirectInvocationResult;

    expect(result.error).toBe('smoke test timed out after 800 ms in check health');
    expect(codePipeline.calls()).toHaveLength(0);
  });
});

describe('where the job is reported', () => {
  const sts = mockClient(STSClient);
  afterAll(() => sts.restore());

  test("in the pipeline's region, with the function's own credentials when no reporter role is set", async () => {
    const client = pipelineClient({ PIPELINE_REGION: 'us-east-2' });
    await expect(client.config.region()).resolves.toBe('us-east-2');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  test("outside the pipeline's account: through the pipeline account's reporter role (one AssumeRole, credentials reused)", async () => {
    sts.reset();
    const expiration = new Date(Date.now() + 3600_000);
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'AKIAREPORTER', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: expiration } });
    const roleArn = 'arn:aws:iam::111111111111:role/notes-prod-job-reporter';
    const client = pipelineClient({ PIPELINE_REGION: 'eu-west-1', JOB_REPORTER_ROLE_ARN: roleArn });
    const credentials = client.config.credentials as unknown as () => Promise<{ accessKeyId: string }>;
    await expect(credentials()).resolves.toMatchObject({ accessKeyId: 'AKIAREPORTER' });
    await credentials();
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([{ RoleArn: roleArn, RoleSessionName: 'notes-smoke-test-job-report' }]);
    await expect(client.config.region()).resolves.toBe('eu-west-1');
  });

  test('a reporter role that cannot be assumed fails naming the role', async () => {
    sts.reset();
    sts.on(AssumeRoleCommand).rejects(new Error('not authorized to perform: sts:AssumeRole'));
    const roleArn = 'arn:aws:iam::111111111111:role/notes-dev-job-reporter';
    const client = pipelineClient({ PIPELINE_REGION: 'eu-west-1', JOB_REPORTER_ROLE_ARN: roleArn });
    const credentials = client.config.credentials as unknown as () => Promise<unknown>;
    await expect(credentials()).rejects.toThrow(`could not assume ${roleArn}: not authorized to perform: sts:AssumeRole`);
  });
});
