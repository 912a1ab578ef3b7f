/**
 * How the Plan step plans the prod stack (#11), read through the prod plan role:
 *   - `change-set`: the stack does not exist yet, or it is in any state CloudFormation can make a
 *     change set against; `cdk deploy --no-execute` prepares the change set Prod executes;
 *   - `create`: the stack's first create failed (ROLLBACK_COMPLETE, or ROLLBACK_FAILED). No change
 *     set can be made against it, and the CDK CLI would delete it first, which the plan role may not
 *     do: the plan is the creation of the whole stack from the assembly's template
 *     (`render-plan --create`); after the approval, Prod's RecoverFailedCreate clears the stack
 *     and its Deploy creates it with `cdk deploy` from that same assembly.
 *
 *   node bin/plan-mode.js --stack NotesStack-prod --region eu-west-1 [--role-arn <plan role>]
 * Prints `change-set` or `create` on stdout and why on stderr. Exit code 1 when the stack cannot
 * be read (the plan must not guess), 2 on usage.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { arg, cloudFormationClient } from './cloudformation-client';
import { runAsScript } from './run-as-script';

export type PlanMode = 'change-set' | 'create';

/** The states a first create that failed leaves (the CDK CLI's `isCreationFailure`). */
export const FAILED_CREATE_STATES = ['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED'];

export interface PlanModeResult {
  mode: PlanMode;
  /** The stack's status, or `none` when it does not exist. */
  status: string;
}

export async function planMode(cfn: Pick<CloudFormationClient, 'send'>, stackName: string): Promise<PlanModeResult> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const status = out.Stacks?.[0]?.StackStatus ?? 'none';
    return { mode: FAILED_CREATE_STATES.includes(status) ? 'create' : 'change-set', status };
  } catch (err) {
    if (err instanceof Error && err.name === 'ValidationError' && /does not exist/.test(err.message)) return { mode: 'change-set', status: 'none' };
    throw err;
  }
}

export async function main(argv: string[], client?: Pick<CloudFormationClient, 'send'>): Promise<number> {
  const stackName = arg(argv, 'stack');
  const region = arg(argv, 'region') ?? process.env.AWS_REGION;
  if (!stackName || !region) {
    console.error('usage: plan-mode --stack NAME --region REGION [--role-arn ARN]');
    return 2;
  }
  try {
    const cfn = client ?? (await cloudFormationClient(region, arg(argv, 'role-arn'), 'notes-plan-mode'));
    const { mode, status } = await planMode(cfn, stackName);
    console.error(
      mode === 'create'
        ? `plan mode: ${stackName} is ${status} (its first create failed): no change set can be made against it; planning the creation of the whole stack (RecoverFailedCreate clears it after the approval)`
        : `plan mode: ${stackName} is ${status === 'none' ? 'not created yet' : status}: preparing a change set`,
    );
    process.stdout.write(`${mode}\n`);
    return 0;
  } catch (err) {
    console.error(`plan mode: cannot read ${stackName}: ${(err as Error).message}`);
    return 1;
  }
}

runAsScript(module, 'plan-mode', main);
