/**
 * A CloudFormation client for the scripts the pipeline's CodeBuild steps run. The steps' own roles
 * may only assume the target's CDK bootstrap roles, so a script that reads or executes change sets
 * does it as the bootstrap deploy role.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { assumedRoleCredentials } from '../assumed-credentials';

/** CloudFormation in `region`, as `roleArn` when given (assumed on the first call; a refusal names the role). */
export async function cloudFormationClient(region: string, roleArn: string | undefined, sessionName: string): Promise<CloudFormationClient> {
  return new CloudFormationClient({ region, ...(roleArn ? { credentials: assumedRoleCredentials(roleArn, sessionName, { region }) } : {}) });
}

/** `--name value` from an argument list. */
export function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
