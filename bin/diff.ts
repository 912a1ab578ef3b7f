/**
 * `npm run diff -- [STACK ...]`: `cdk diff`, after checking first that it can work. A diff compares
 * the app with the stacks deployed in AWS, so unlike `cdk synth` it needs credentials for the
 * account each stack deploys to (these stacks are environment-agnostic: the credentials' account).
 * Without them `cdk diff` prints its generic "Unable to resolve AWS account" once per stack; this
 * says what is missing in one line and exits 5 (credentials), as the release CLI does.
 */
import { spawnSync } from 'node:child_process';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const DIFF_USAGE = `Usage: npm run diff -- [STACK ...] [cdk diff options]

Runs \`cdk diff\` (the app against the deployed stacks). It needs AWS credentials for the account
the stacks are deployed to, allowed to assume the CDK bootstrap's deploy role (the default diff
creates a change set) or its lookup role (--method template). \`npx cdk synth\` needs none.
Exit codes: cdk diff's own; 5 when there are no usable credentials.`;

export const NO_CREDENTIALS =
  'error: cdk diff compares the app with the deployed stacks, so it needs AWS credentials for the account they are deployed to ' +
  '(e.g. `aws sso login --profile <profile>` and `export AWS_PROFILE=<profile>`); none were found. `npx cdk synth` works without them.';

/** The credentials' account, or undefined when there are none. */
export async function callerAccount(region: string): Promise<string | undefined> {
  const sts = new STSClient({ region, maxAttempts: 1 });
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Account;
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    if (name === 'CredentialsProviderError' || name === 'TokenProviderError' || name === 'ExpiredToken' || name === 'InvalidClientTokenId' || name === 'ExpiredTokenException') {
      return undefined;
    }
    throw err;
  } finally {
    sts.destroy();
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(DIFF_USAGE);
    return 0;
  }
  const account = await callerAccount(process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'eu-west-1');
  if (!account) {
    console.error(NO_CREDENTIALS);
    return 5;
  }
  console.error(`cdk diff against account ${account}`);
  const run = spawnSync('npx', ['cdk', 'diff', ...args], { stdio: 'inherit' });
  return run.status ?? 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
