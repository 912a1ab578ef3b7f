/**
 * Custom resource (CDK provider framework `onEvent`) that makes the smoke-test user of a pool
 * match its Secrets Manager secret `{"username","password"}`:
 * - Create/Update: AdminCreateUser (no invitation mail, email verified; an existing user is fine),
 *   then AdminSetUserPassword as permanent, so the user can sign in at once;
 * - Delete: AdminDeleteUser (a user or pool that is already gone is fine).
 * The physical id is `<userPoolId>/<username>`: when the pool or the username changes, CloudFormation
 * deletes the old user through the old id. The password is never logged or returned.
 */
import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  ResourceNotFoundException,
  UserNotFoundException,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CdkCustomResourceEvent, CdkCustomResourceResponse } from 'aws-lambda';

export interface SmokeUserDeps {
  cognito: CognitoIdentityProviderClient;
  secrets: SecretsManagerClient;
  log?: (message: string) => void;
}

interface Credentials {
  username: string;
  password: string;
}

export function createSmokeUserHandler(deps: SmokeUserDeps) {
  const log = deps.log ?? ((m: string) => console.log(m));

  async function readCredentials(secretArn: string): Promise<Credentials> {
    const out = await deps.secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
    let parsed: unknown;
    try {
      parsed = JSON.parse(out.SecretString ?? '');
    } catch {
      throw new Error(`secret ${secretArn} is not JSON`);
    }
    const { username, password } = (parsed ?? {}) as Partial<Record<string, unknown>>;
    if (typeof username !== 'string' || username.length === 0 || typeof password !== 'string' || password.length === 0) {
      throw new Error(`secret ${secretArn} must hold non-empty "username" and "password" strings`);
    }
    return { username, password };
  }

  async function upsert(userPoolId: string, secretArn: string): Promise<CdkCustomResourceResponse> {
    const { username, password } = await readCredentials(secretArn);
    try {
      await deps.cognito.send(
        new AdminCreateUserCommand({
          UserPoolId: userPoolId,
          Username: username,
          MessageAction: 'SUPPRESS',
          UserAttributes: [
            { Name: 'email', Value: username },
            { Name: 'email_verified', Value: 'true' },
          ],
        }),
      );
      log(`created smoke user ${username} in ${userPoolId}`);
    } catch (err) {
      if (!(err instanceof UsernameExistsException)) throw err;
      log(`smoke user ${username} already exists in ${userPoolId}`);
    }
    await deps.cognito.send(
      new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: username, Password: password, Permanent: true }),
    );
    log(`set the password of smoke user ${username} from the secret`);
    return { PhysicalResourceId: `${userPoolId}/${username}`, Data: { Username: username } };
  }

  async function remove(physicalId: string): Promise<CdkCustomResourceResponse> {
    const slash = physicalId.indexOf('/');
    if (slash <= 0) {
      // Creation failed before a user existed (the framework then reports the request id): nothing to delete.
      log(`nothing to delete for physical id ${physicalId}`);
      return { PhysicalResourceId: physicalId };
    }
    const userPoolId = physicalId.slice(0, slash);
    const username = physicalId.slice(slash + 1);
    try {
      await deps.cognito.send(new AdminDeleteUserCommand({ UserPoolId: userPoolId, Username: username }));
      log(`deleted smoke user ${username} from ${userPoolId}`);
    } catch (err) {
      if (!(err instanceof UserNotFoundException || err instanceof ResourceNotFoundException)) throw err;
      log(`smoke user ${username} was already gone from ${userPoolId}`);
    }
    return { PhysicalResourceId: physicalId };
  }

  return async (event: CdkCustomResourceEvent): Promise<CdkCustomResourceResponse> => {
    if (event.RequestType === 'Delete') return remove(event.PhysicalResourceId);
    const { UserPoolId, SecretArn } = event.ResourceProperties as Record<string, unknown>;
    if (typeof UserPoolId !== 'string' || typeof SecretArn !== 'string') {
      throw new Error('properties UserPoolId and SecretArn are required');
    }
    return upsert(UserPoolId, SecretArn);
  };
}

export const handler = createSmokeUserHandler({
  cognito: new CognitoIdentityProviderClient({}),
  secrets: new SecretsManagerClient({}),
});
