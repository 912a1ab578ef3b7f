/**
 * A CloudFormation client for the scripts the pipeline's CodeBuild steps run. The steps' own roles
 * may only assume the target's CDK bootstrap roles, so a script that reads or executes change sets
 * does it as the bootstrap deploy role.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

export async function cloudFormationClient(region: string, roleArn: string | undefined, sessionName: string): Promise<CloudFormationClient> {
  if (!roleArn) return new CloudFormationClient({ region });
  const sts = new STSClient({ region });
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }));
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`assuming ${roleArn} returned no credentials`);
  return new CloudFormationClient({
    region,
    credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
  });
}

/** `--name value` from an argument list. */
export function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
