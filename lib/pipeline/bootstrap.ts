/**
 * The CDK bootstrap roles the pipeline's deploy steps assume (`npx cdk bootstrap`, default
 * qualifier). Deploy projects may assume these and nothing else; the roles themselves carry the
 * CloudFormation and asset permissions, so the pipeline never holds them directly.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

export const BOOTSTRAP_QUALIFIER = 'hnb659fds';

export interface DeployTarget {
  /** Account to deploy into; undefined: the pipeline's own account. */
  account?: string;
  region: string;
}

function roleArn(kind: string, target: DeployTarget): string {
  const account = target.account ?? Aws.ACCOUNT_ID;
  return `arn:${Aws.PARTITION}:iam::${account}:role/cdk-${BOOTSTRAP_QUALIFIER}-${kind}-role-${account}-${target.region}`;
}

/** The role CloudFormation deployments run through (`cdk-hnb659fds-deploy-role-<acct>-<region>`). */
export function deployRoleArn(target: DeployTarget): string {
  return roleArn('deploy', target);
}

/** The role that uploads file assets (Lambda bundles, templates) to the bootstrap bucket. */
export function filePublishingRoleArn(target: DeployTarget): string {
  return roleArn('file-publishing', target);
}

/** The bootstrap's read-only role (ReadOnlyAccess): the deploy step reads its CodeDeploy deployment through it. */
export function lookupRoleArn(target: DeployTarget): string {
  return roleArn('lookup', target);
}

/** The only statement a deploy project's role gets beyond logs and artifacts. */
export function assumeBootstrapRolesStatement(target: DeployTarget): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'AssumeCdkBootstrapDeployRoles',
    actions: ['sts:AssumeRole'],
    resources: [deployRoleArn(target), filePublishingRoleArn(target)],
  });
}
