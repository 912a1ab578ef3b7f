/**
 * Credentials of a role in another account, for the steps and tools that read or report across
 * accounts (the smoke test reporting its pipeline job, the backups check and the alarm watch
 * reading prod, `status`). One AssumeRole per role and session until the credentials are within
 * five minutes of expiring. No CDK here: Lambdas and the CLI load this file.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

/** What an SDK client's `credentials` option takes (the shape of @aws-sdk/types' identity). */
export interface AwsCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

const REFRESH_BEFORE_MS = 5 * 60 * 1000;

export interface AssumeOptions {
  readonly region?: string;
  /** For tests: the STS client to use (otherwise one in `region`). */
  readonly sts?: STSClient;
  readonly now?: () => number;
}

/** A credential provider that assumes `roleArn`; an error names the role and what STS said. */
export function assumedRoleCredentials(roleArn: string, sessionName: string, options: AssumeOptions = {}): AwsCredentialIdentityProvider {
  const now = options.now ?? Date.now;
  let cached: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    if (cached && (cached.expiration === undefined || cached.expiration.getTime() - now() > REFRESH_BEFORE_MS)) return cached;
    pending ??= (async () => {
      try {
        const sts = options.sts ?? new STSClient({ region: options.region });
        const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }));
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('STS returned no credentials');
        cached = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
        return cached;
      } catch (err) {
        throw new Error(`could not assume ${roleArn}: ${(err as Error).message}`);
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  };
}
