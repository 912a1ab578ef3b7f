/**
 * The smoke-user custom resource (`lambda/smoke-user`) against a real Cognito-compatible pool
 * (cognito-local, through the local mode) with only Secrets Manager mocked: after Create the user
 * signs in with the secret's password; Update re-syncs a changed password; Delete removes the
 * user and tolerates a user that is already gone; the password never reaches the log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminGetUserCommand, CognitoIdentityProviderClient, UserNotFoundException } from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CdkCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { getSmokeIdToken, localCognitoClient } from '../../lib/local/users';
import { createSmokeUserHandler } from '../../lambda/smoke-user/index';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:notes-dev/smoke-user-AbCdEf';
const USERNAME = 'smoke-test@notes.invalid';
const PASSWORD_1 = 'First-Generated-Pass-1!';
const PASSWORD_2 = 'Second-Generated-Pass-2?';

let stack: LocalStack;
let dataDir: string;
let cognito: CognitoIdentityProviderClient;
const secrets = mockClient(SecretsManagerClient);
let logLines: string[];

function handlerUnderTest() {
  return createSmokeUserHandler({ cognito, secrets: new SecretsManagerClient({ region: 'eu-west-1' }), log: (m) => logLines.push(m) });
}

function event(type: 'Create' | 'Update' | 'Delete', physicalId?: string): CdkCustomResourceEvent {
  const base = {
    ServiceToken: 'token',
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/NotesStack-dev/1',
    RequestId: `req-${type}`,
    LogicalResourceId: 'SmokeUser',
    ResourceType: 'Custom::NotesSmokeUser',
    ResourceProperties: { ServiceToken: 'token', UserPoolId: stack.userPoolId, SecretArn: SECRET_ARN },
  };
  if (type === 'Create') return { ...base, RequestType: 'Create' };
  if (type === 'Update') return { ...base, RequestType: 'Update', PhysicalResourceId: physicalId!, OldResourceProperties: base.ResourceProperties };
  return { ...base, RequestType: 'Delete', PhysicalResourceId: physicalId! };
}

function secretHolds(password: string): void {
  secrets.reset();
  secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: JSON.stringify({ username: USERNAME, password }) });
}

async function userExists(): Promise<boolean> {
  try {
    await cognito.send(new AdminGetUserCommand({ UserPoolId: stack.userPoolId, Username: USERNAME }));
    return true;
  } catch (err) {
    if (err instanceof UserNotFoundException) return false;
    throw err;
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'notes-smoke-user-'));
  stack = await startLocalStack({ dataDir });
  cognito = localCognitoClient(stack);
});

afterAll(async () => {
  cognito.destroy();
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
  secrets.restore();
});

beforeEach(() => {
  logLines = [];
});

test('Create makes a user that signs in at once with the secret\'s password, through the smoke client', async () => {
  // Arrange
  secretHolds(PASSWORD_1);

  // Act
  const result = await handlerUnderTest()(event('Create'));

  // Assert
  expect(result).toEqual({ PhysicalResourceId: `${stack.userPoolId}/${USERNAME}`, Data: { Username: USERNAME } });
  expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: SECRET_ARN }]);
  await expect(getSmokeIdToken(stack, USERNAME, PASSWORD_1)).resolves.toMatch(/^ey/);
});

test('Update with a changed secret re-syncs the password of the existing user', async () => {
  // Arrange
  secretHolds(PASSWORD_1);
  await handlerUnderTest()(event('Create'));
  secretHolds(PASSWORD_2);

  // Act
  const result = await handlerUnderTest()(event('Update', `${stack.userPoolId}/${USERNAME}`));

  // Assert
  expect(result.PhysicalResourceId).toBe(`${stack.userPoolId}/${USERNAME}`);
  await expect(getSmokeIdToken(stack, USERNAME, PASSWORD_2)).resolves.toMatch(/^ey/);
  await expect(getSmokeIdToken(stack, USERNAME, PASSWORD_1)).rejects.toThrow();
});

test('the password never appears in what the function logs', async () => {
  // Arrange
  secretHolds(PASSWORD_2);

  // Act
  await handlerUnderTest()(event('Create'));
  await handlerUnderTest()(event('Update', `${stack.userPoolId}/${USERNAME}`));

  // Assert
  expect(logLines.length).toBeGreaterThan(0);
  expect(logLines.join('\n')).not.toContain(PASSWORD_2);
});

test('Delete removes the user, and a second Delete of a user already gone succeeds', async () => {
  // Arrange
  secretHolds(PASSWORD_1);
  const { PhysicalResourceId: physicalId } = await handlerUnderTest()(event('Create'));

  // Act
  const first = await handlerUnderTest()(event('Delete', physicalId));
  const existsAfterFirst = await userExists();
  const second = await handlerUnderTest()(event('Delete', physicalId));

  // Assert
  expect(physicalId).toBe(`${stack.userPoolId}/${USERNAME}`);
  expect(first).toEqual({ PhysicalResourceId: physicalId });
  expect(existsAfterFirst).toBe(false);
  expect(second).toEqual({ PhysicalResourceId: physicalId });
});

test('a secret without a password fails the deploy with a message naming the secret, never creating a user', async () => {
  // Arrange
  await handlerUnderTest()(event('Delete', `${stack.userPoolId}/${USERNAME}`));
  secrets.reset();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: USERNAME }) });

  // Act
  const run = handlerUnderTest()(event('Create'));

  // Assert
  await expect(run).rejects.toThrow(`secret ${SECRET_ARN} must hold non-empty "username" and "password" strings`);
  expect(await userExists()).toBe(false);
});
