/**
 * The job reporter roles: a smoke test deployed in another account than the pipeline's cannot
 * report its CodePipeline job with its own credentials (job results are accepted only from a
 * principal of the pipeline's account), so for each such environment the pipeline account holds a
 * role that exactly that environment's smoke-test role may assume, and that may only report job
 * results. See the decision log (#11).
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AppConfig } from '../config';
import { isCrossAccount, jobReporterRoleName, roleArn, smokeTestRoleName } from '../target-account';
import { allowJobReporting } from './job-permissions';

/** One role per environment outside the pipeline's account, by environment name (none in a single-account layout). */
export function jobReporterRoles(scope: Construct, config: AppConfig): Record<string, iam.Role> {
  const roles: Record<string, iam.Role> = {};
  for (const env of config.environments) {
    if (!isCrossAccount(env, config.pipeline.account)) continue;
    const smokeRole = roleArn(env.account!, smokeTestRoleName(env.name), Stack.of(scope).partition);
    const role = new iam.Role(scope, `JobReporter-${env.name}`, {
      roleName: jobReporterRoleName(config.service, env.name),
      description: `Reports the pipeline jobs of the ${env.name} smoke test (account ${env.account}); nothing else`,
      // Trusting the account with a condition on the caller, not the role's ARN as principal: IAM
      // refuses a principal that does not exist yet, and this stack is deployed before NotesStack.
      assumedBy: new iam.AccountPrincipal(env.account).withConditions({ ArnEquals: { 'aws:PrincipalArn': smokeRole } }),
    });
    allowJobReporting(role);
    roles[env.name] = role;
  }
  return roles;
}
