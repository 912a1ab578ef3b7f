/**
 * What the pipeline account and each target account (where a NotesStack is deployed) agree on:
 * the names of the roles and managed policies that a target account's baseline stack creates, and
 * the ARNs built from them. The baseline stack, the pipeline's steps, the deploy kit, preflight and
 * the IAM contract tests all read these names from here. No CDK here: runtime code loads this file.
 *
 * Names carry the region because IAM names are global to an account while bootstrap (and so the
 * execution policy a bootstrap names) is per account and region.
 */

/** Where a target lives: the account (undefined = the deploying credentials' account) and region. */
export interface TargetPlace {
  readonly account?: string;
  readonly region: string;
}

/** The least-privilege policy the CDK bootstrap's CloudFormation execution role carries (`cdk bootstrap --cloudformation-execution-policies`). */
export function executionPolicyName(service: string, region: string): string {
  return `${service}-cfn-execution-${region}`;
}

/** The permissions boundary every role a NotesStack creates must carry. */
export function permissionsBoundaryName(service: string, region: string): string {
  return `${service}-permissions-boundary-${region}`;
}

/**
 * The prod account's plan role: the Plan steps (release, hotfix, rollback) prepare and read a change
 * set through it, and publish the assets it needs, but can never execute a change set, update or
 * delete a stack: it is the only role in prod that a step before the approval may assume.
 */
export function planRoleName(service: string, region: string): string {
  return `${service}-release-plan-${region}`;
}

/**
 * A target account's read-only release role: stack outputs, the table's backup state, the
 * service-health alarms, the live alias and its CodeDeploy deployments. No data, no writes. The
 * backups check, the prod alarm watch and the operator CLI read prod through it.
 */
export function readerRoleName(service: string, region: string): string {
  return `${service}-release-reader-${region}`;
}

/** `arn:<partition>:iam::<account>:role/<name>` (partition `aws` unless given). */
export function roleArn(account: string, name: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:role/${name}`;
}

/** `arn:<partition>:iam::<account>:policy/<name>` (partition `aws` unless given). */
export function policyArn(account: string, name: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:policy/${name}`;
}

/**
 * The pipeline account's role through which a target account's smoke test reports its CodePipeline
 * job (a job's result can only be reported by a principal of the pipeline's own account), one per
 * environment outside the pipeline's account.
 */
export function jobReporterRoleName(service: string, envName: string): string {
  return `${service}-${envName}-job-reporter`;
}

/**
 * The smoke-test function's execution role name in an environment outside the pipeline's account,
 * so that the job reporter's trust policy can name exactly that role. It starts with the stack's
 * name, like the roles CloudFormation names, so the execution policy's role prefix covers it.
 */
export function smokeTestRoleName(envName: string): string {
  return `NotesStack-${envName}-smoke-test`;
}

/**
 * The role in an environment outside the pipeline's account through which CodePipeline invokes
 * that environment's smoke test (a Lambda invoke action's role must be in the function's account).
 * NotesStack creates it, so it is named under the stack and carries the permissions boundary.
 */
export function smokeInvokeRoleName(envName: string): string {
  return `NotesStack-${envName}-smoke-invoke`;
}

/**
 * Whether a target is in another account than the pipeline's. An omitted account means the
 * account of the deploying credentials, which for the pipeline's deploy steps is the pipeline's.
 */
export function isCrossAccount(target: TargetPlace, pipelineAccount: string | undefined): boolean {
  return target.account !== undefined && target.account !== pipelineAccount;
}
