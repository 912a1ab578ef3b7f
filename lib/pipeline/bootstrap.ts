/**
 * The CDK bootstrap roles the pipeline's deploy steps assume (`npx cdk bootstrap`). Deploy projects
 * may assume these and nothing else; the roles themselves carry the CloudFormation and asset
 * permissions, so the pipeline never holds them directly.
 *
 * The roles are named after the bootstrap qualifier, which is the stack synthesizer's: the
 * `@aws-cdk/core:bootstrapQualifier` context (cdk.json) or a synthesizer's own `qualifier`, else
 * CDK's default `hnb659fds`. Deriving it here means a custom qualifier reaches every grant and
 * every script argument; a hard-coded one would silently miss, and the CDK CLI would fall back
 * to the CodeBuild role and fail with AccessDenied.
 */
import { Aws, BOOTSTRAP_QUALIFIER_CONTEXT, DefaultStackSynthesizer, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { planRoleName, roleArn as targetRoleArn } from '../target-account';

export interface DeployTarget {
  /** Account to deploy into; undefined: the pipeline's own account. */
  account?: string;
  region: string;
}

/** The bootstrap qualifier the stack holding `scope` is synthesized with. */
export function bootstrapQualifier(scope: IConstruct): string {
  const stack = Stack.of(scope);
  const fromContext = stack.node.tryGetContext(BOOTSTRAP_QUALIFIER_CONTEXT) as string | undefined;
  return stack.synthesizer.bootstrapQualifier ?? fromContext ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
}

function roleArn(scope: IConstruct, kind: string, target: DeployTarget): string {
  const account = target.account ?? Aws.ACCOUNT_ID;
  return `arn:${Aws.PARTITION}:iam::${account}:role/cdk-${bootstrapQualifier(scope)}-${kind}-role-${account}-${target.region}`;
}

/** The role CloudFormation deployments run through (`cdk-<qualifier>-deploy-role-<acct>-<region>`). */
export function deployRoleArn(scope: IConstruct, target: DeployTarget): string {
  return roleArn(scope, 'deploy', target);
}

/** The role that uploads file assets (Lambda bundles, templates) to the bootstrap bucket. */
export function filePublishingRoleArn(scope: IConstruct, target: DeployTarget): string {
  return roleArn(scope, 'file-publishing', target);
}

/** The bootstrap's read-only role (ReadOnlyAccess): the deploy step reads its CodeDeploy deployment through it. */
export function lookupRoleArn(scope: IConstruct, target: DeployTarget): string {
  return roleArn(scope, 'lookup', target);
}

/**
 * The prod account's plan role (`lib/target-account.ts`, created by the target's baseline stack):
 * the Plan steps prepare and read change sets and publish assets through it, and nothing else.
 */
export function planRoleArn(target: DeployTarget, service: string): string {
  return targetRoleArn(target.account ?? Aws.ACCOUNT_ID, planRoleName(service, target.region), Aws.PARTITION);
}

/** The only statement a Plan project's role gets beyond logs and artifacts (and, in a rollback, the archive). */
export function assumePlanRoleStatement(target: DeployTarget, service: string): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid: 'AssumeProdPlanRole', actions: ['sts:AssumeRole'], resources: [planRoleArn(target, service)] });
}

/** The only statement a deploy project's role gets beyond logs and artifacts. */
export function assumeBootstrapRolesStatement(scope: IConstruct, target: DeployTarget): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'AssumeCdkBootstrapDeployRoles',
    actions: ['sts:AssumeRole'],
    resources: [deployRoleArn(scope, target), filePublishingRoleArn(scope, target)],
  });
}
