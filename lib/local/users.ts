/**
 * Users of the local pool, through the official AWS SDK Cognito client pointed at the local
 * endpoint (placeholder credentials, region `local`): the same calls work against real Cognito.
 */
import {
  AdminConfirmSignUpCommand,
  AdminInitiateAuthCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { LOCAL_CREDENTIALS } from './dynamo';
import type { LocalStack } from './stack';

/** What the helpers need to know about a local stack (a running `LocalStack`, or `local-stack.json`). */
export type LocalCognitoTarget = Pick<LocalStack, 'cognitoEndpoint' | 'region' | 'userPoolId' | 'clientId' | 'smokeClientId'>;

export function localCognitoClient(target: Pick<LocalStack, 'cognitoEndpoint' | 'region'>): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    endpoint: target.cognitoEndpoint,
    region: target.region,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
}

async function withClient<T>(target: LocalCognitoTarget, fn: (c: CognitoIdentityProviderClient) => Promise<T>): Promise<T> {
  const client = localCognitoClient(target);
  try {
    return await fn(client);
  } finally {
    client.destroy();
  }
}

/**
 * Signs a user up with the public client and confirms them as an administrator would (no email
 * is sent locally), marking the email verified. Returns the user's `sub`, the id the notes API
 * files their notes under.
 */
export async function createUser(target: LocalCognitoTarget, email: string, password: string): Promise<{ sub: string }> {
  return withClient(target, async (client) => {
    const signUp = await client.send(
      new SignUpCommand({
        ClientId: target.clientId,
        Username: email,
        Password: password,
        UserAttributes: [{ Name: 'email', Value: email }],
      }),
    );
    await client.send(new AdminConfirmSignUpCommand({ UserPoolId: target.userPoolId, Username: email }));
    await client.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: target.userPoolId,
        Username: email,
        UserAttributes: [
          { Name: 'email', Value: email },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    );
    if (!signUp.UserSub) throw new Error('Cognito returned no user id for the new user');
    return { sub: signUp.UserSub };
  });
}

/** Logs in with the public client (USER_PASSWORD_AUTH) and returns the id token the API accepts. */
export async function getIdToken(target: LocalCognitoTarget, email: string, password: string): Promise<string> {
  return withClient(target, async (client) => {
    const out = await client.send(
      new InitiateAuthCommand({
        ClientId: target.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
    );
    const token = out.AuthenticationResult?.IdToken;
    if (!token) throw new Error(`Login for ${email} returned no id token (challenge: ${out.ChallengeName ?? 'none'})`);
    return token;
  });
}

/**
 * Creates the user the smoke test logs in as. Deployed, the stack creates it from the
 * `notes-<env>/smoke-user` secret; locally it is an ordinary confirmed user of the pool.
 */
export async function createSmokeUser(target: LocalCognitoTarget, email: string, password: string): Promise<{ sub: string }> {
  return createUser(target, email, password);
}

/**
 * Logs in as the smoke test does when deployed: AdminInitiateAuth with ADMIN_USER_PASSWORD_AUTH on
 * the smoke client (the only flow that client allows). Returns the id token.
 */
export async function getSmokeIdToken(target: LocalCognitoTarget, email: string, password: string): Promise<string> {
  return withClient(target, async (client) => {
    const out = await client.send(
      new AdminInitiateAuthCommand({
        UserPoolId: target.userPoolId,
        ClientId: target.smokeClientId,
        AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
    );
    const token = out.AuthenticationResult?.IdToken;
    if (!token) throw new Error(`Smoke login for ${email} returned no id token`);
    return token;
  });
}
