import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AppConfig, EnvironmentConfig } from '../config';
import { isCrossAccount, roleArn, smokeInvokeRoleName } from '../target-account';

/**
 * For an environment outside the pipeline's account: the role there (NotesStack's, named by
 * `smokeInvokeRoleName`) that CodePipeline invokes the smoke test through. Undefined otherwise
 * (CDK then makes the action's role in the pipeline's stack).
 */
export function smokeInvokeRole(scope: Construct, env: EnvironmentConfig, config: AppConfig): iam.IRole | undefined {
  if (!isCrossAccount(env, config.pipeline.account)) return undefined;
  const id = `SmokeInvokeRole-${env.name}`;
  const existing = scope.node.tryFindChild(id) as iam.IRole | undefined;
  if (existing) return existing;
  return iam.Role.fromRoleArn(scope, id, roleArn(env.account!, smokeInvokeRoleName(env.name), Stack.of(scope).partition), { mutable: false });
}

