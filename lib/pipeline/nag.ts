/**
 * Helpers for specific cdk-nag acknowledgements: cdk-nag names an IAM5 finding after the exact
 * action or resource text, with CloudFormation references written as `<LogicalId.Arn>`, `<Ref>`
 * and `<AWS::AccountId>`. `nagText` renders a CDK string the same way, so an acknowledgement can
 * name the one resource it is about instead of silencing a rule wholesale.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.map(render).join('');
  if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    if (typeof obj.Ref === 'string') return `<${obj.Ref}>`;
    const getAtt = obj['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
    const join = obj['Fn::Join'];
    if (Array.isArray(join)) return (join[1] as unknown[]).map(render).join(String(join[0]));
  }
  return JSON.stringify(value);
}

/** A CDK string (possibly with tokens) as cdk-nag prints it in a finding id. */
export function nagText(scope: IConstruct, value: string): string {
  return render(Stack.of(scope).resolve(value));
}

/** Acknowledges `AwsSolutions-IAM5[Resource::<resource>]` on `scope` for a resource given as a CDK string. */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagText(scope, resource)}]`, reason });
}

/** Acknowledges `AwsSolutions-IAM5[Action::<action>]` on `scope`. */
export function acknowledgeWildcardAction(scope: IConstruct, action: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason });
}

/**
 * The action roles CDK puts in its `cross-account-support-stack-<account>` stacks for a pipeline's
 * Lambda invoke actions in another account (the smoke tests): CDK grants lambda:ListFunctions (no
 * resource-level permission) and invoke on the one function with ":*" for its versions and aliases.
 * `smokeFunctionArns` are the smoke-test functions of the environments outside the pipeline's account.
 */
export function acknowledgeCrossAccountSupportStacks(scope: IConstruct, smokeFunctionArns: string[]): void {
  for (const child of scope.node.root.node.children) {
    if (!Stack.isStack(child) || !child.node.id.startsWith('cross-account-support-stack-')) continue;
    Validations.of(child).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "CDK's cross-account action role for a Lambda invoke action gets lambda:ListFunctions, which supports no resource-level permission (it lists names, no code or data); invoking is granted on the one named smoke-test function only.",
    });
    for (const arn of smokeFunctionArns.filter((a) => a.split(':')[4] === child.account)) {
      Validations.of(child).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${arn}:*]`,
        reason: 'Invoke permission on the one smoke-test function also covers its versions and aliases (function ARN + ":*"), as CDK grants it; no other function can be invoked.',
      });
    }
  }
}
