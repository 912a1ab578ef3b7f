/**
 * What a pipeline's smoke-test action points at: the smoke-test function NotesStack deploys in an
 * environment, and, outside the pipeline's account, the role there it is invoked through. The
 * release, hotfix and rollback pipelines all use these.
 */
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { AppConfig, EnvironmentConfig, resourcePrefix } from '../config';
import { isCrossAccount, roleArn, smokeInvokeRoleName } from '../target-account';

/**
 * The smoke-test Lambda NotesStack deploys in an environment (named `notes-<env>-smoke-test`),
 * by name when it lives in the pipeline's account and region (the action then names it plainly),
 * by ARN otherwise.
 */
export function smokeTestFunction(scope: Construct, env: EnvironmentConfig, config: AppConfig): lambda.IFunction {
  const id = `SmokeTestFunction-${env.name}`;
  const existing = scope.node.tryFindChild(id) as lambda.IFunction | undefined;
  if (existing) return existing;
  const stack = Stack.of(scope);
  const name = `${resourcePrefix(config, env)}-smoke-test`;
  if (!isCrossAccount(env, config.pipeline.account) && env.region === stack.region) return lambda.Function.fromFunctionName(scope, id, name);
  const arn = Arn.format(
    { service: 'lambda', resource: 'function', resourceName: name, region: env.region, account: env.account ?? stack.account, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
    stack,
  );
  return lambda.Function.fromFunctionAttributes(scope, id, { functionArn: arn, sameEnvironment: true });
}

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

