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

