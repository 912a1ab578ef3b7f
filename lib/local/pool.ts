/**
 * The local user pool and its two app clients, created on the first start and reused after.
 *
 * They mirror the deployed pool: email is the username, the password policy is explicit and
 * strong, MFA (TOTP) is optional. The public client additionally allows USER_PASSWORD_AUTH so the
 * `local:token` helper can log in without an SRP implementation; the smoke client allows only
 * admin user-password auth (+ refresh), exactly as deployed.
 */
import type { LocalCognito } from './cognito';

export const LOCAL_POOL_NAME = 'notes-local-users';
export const LOCAL_CLIENT_NAME = 'notes-local-web';
export const LOCAL_SMOKE_CLIENT_NAME = 'notes-local-smoke';

/** Same rules as the deployed pool's policy. */
export const LOCAL_PASSWORD_POLICY = {
  MinimumLength: 12,
  RequireUppercase: true,
  RequireLowercase: true,
  RequireNumbers: true,
  RequireSymbols: true,
  TemporaryPasswordValidityDays: 3,
};

export interface LocalPoolIds {
  userPoolId: string;
  clientId: string;
  smokeClientId: string;
  /** True when anything had to be created on this start. */
  created: boolean;
}

interface PoolSummary {
  Id?: string;
  Name?: string;
}
interface ClientSummary {
  ClientId?: string;
  ClientName?: string;
}

async function exists(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ResourceNotFoundException') return false;
    throw err;
  }
}

/** Finds the pool and clients (by the saved ids, else by name) or creates what is missing. */
export async function ensureLocalPool(
  cognito: LocalCognito,
  saved: { userPoolId?: string; clientId?: string; smokeClientId?: string },
): Promise<LocalPoolIds> {
  let created = false;
  let userPoolId = saved.userPoolId;
  if (!userPoolId || !(await exists(() => cognito.call('DescribeUserPool', { UserPoolId: userPoolId })))) {
    const { UserPools = [] } = await cognito.call<{ UserPools?: PoolSummary[] }>('ListUserPools', { MaxResults: 60 });
    userPoolId = UserPools.find((p) => p.Name === LOCAL_POOL_NAME)?.Id;
  }
  if (!userPoolId) {
    const { UserPool } = await cognito.call<{ UserPool: { Id: string } }>('CreateUserPool', {
      PoolName: LOCAL_POOL_NAME,
      UsernameAttributes: ['email'],
      AutoVerifiedAttributes: ['email'],
      Policies: { PasswordPolicy: LOCAL_PASSWORD_POLICY },
      MfaConfiguration: 'OPTIONAL',
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
    });
    userPoolId = UserPool.Id;
    created = true;
  }

  const { UserPoolClients = [] } = await cognito.call<{ UserPoolClients?: ClientSummary[] }>('ListUserPoolClients', {
    UserPoolId: userPoolId,
    MaxResults: 60,
  });
  const findClient = (savedId: string | undefined, name: string): string | undefined =>
    UserPoolClients.find((c) => c.ClientId === savedId)?.ClientId ?? UserPoolClients.find((c) => c.ClientName === name)?.ClientId;

  const createClient = async (name: string, flows: string[]): Promise<string> => {
    created = true;
    const { UserPoolClient } = await cognito.call<{ UserPoolClient: { ClientId: string } }>('CreateUserPoolClient', {
      UserPoolId: userPoolId,
      ClientName: name,
      GenerateSecret: false,
      ExplicitAuthFlows: flows,
      IdTokenValidity: 60,
      AccessTokenValidity: 60,
      RefreshTokenValidity: 30,
      TokenValidityUnits: { IdToken: 'minutes', AccessToken: 'minutes', RefreshToken: 'days' },
      PreventUserExistenceErrors: 'ENABLED',
    });
    return UserPoolClient.ClientId;
  };

  const clientId =
    findClient(saved.clientId, LOCAL_CLIENT_NAME) ??
    (await createClient(LOCAL_CLIENT_NAME, ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']));
  const smokeClientId =
    findClient(saved.smokeClientId, LOCAL_SMOKE_CLIENT_NAME) ??
    (await createClient(LOCAL_SMOKE_CLIENT_NAME, ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']));

  return { userPoolId, clientId, smokeClientId, created };
}
