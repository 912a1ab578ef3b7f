/**
 * The first step of the prod stage: clears a stack whose first create failed, or stops and says
 * exactly how to.
 *
 * When the first create of `NotesStack-prod` fails, CloudFormation rolls it back to
 * `ROLLBACK_COMPLETE`: every resource it made is deleted except those it retains (DELETE_SKIPPED),
 * and the stack can no longer be updated, only deleted. Termination protection (on for prod) stops
 * that delete, so the next release's deploy fails, and the backups check finds no TableName output.
 *
 * This step reads the stack through the CDK deploy role:
 *   - no stack, or any status but ROLLBACK_COMPLETE / ROLLBACK_FAILED: nothing to do (exit 0);
 *   - ROLLBACK_COMPLETE and nothing retained (the stack holds nothing): turns termination
 *     protection off, deletes the stack, waits until it is gone (exit 0); the deploy then creates
 *     it afresh, with termination protection back on;
 *   - ROLLBACK_COMPLETE with retained resources, or ROLLBACK_FAILED: stops (exit 1), listing what
 *     is left and the exact commands that clear it (docs/runbooks/failed-first-create.md).
 *
 *   node bin/failed-create.js --stack NotesStack-prod --region eu-west-1 [--role-arn <deploy role>]
 * Exit codes: 0 nothing to do or cleared, 1 stopped (the message says what to do), 2 usage or could not read.
 */
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  ListStackResourcesCommandOutput,
  Stack,
  UpdateTerminationProtectionCommand,
} from '@aws-sdk/client-cloudformation';
import { arg, cloudFormationClient } from './cloudformation-client';
import { runAsScript } from './run-as-script';

export const RUNBOOK = 'docs/runbooks/failed-first-create.md';

export interface RecoveryResult {
  /** `none`: nothing to do; `deleted`: the failed create was deleted; `stopped`: a person must act. */
  outcome: 'none' | 'deleted' | 'stopped';
  message: string;
}

export interface RecoveryOptions {
  stackName: string;
  region: string;
  /** Between two reads while the stack is being deleted (default 10 s). */
  pollMs?: number;
  /** Reads before giving up on the delete (default 90: 15 minutes at 10 s). */
  maxPolls?: number;
  sleep?: (ms: number) => Promise<void>;
}

interface LeftResource {
  type: string;
  logicalId: string;
  physicalId?: string;
  status: string;
}

function isStackMissing(err: unknown): boolean {
  return err instanceof Error && err.name === 'ValidationError' && /does not exist/.test(err.message);
}

async function describe(cfn: CloudFormationClient, stackName: string): Promise<Stack | undefined> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    return out.Stacks?.[0];
  } catch (err) {
    if (isStackMissing(err)) return undefined;
    throw err;
  }
}

/** The resources a rolled-back create left behind (anything not DELETE_COMPLETE), all pages. */
async function leftBehind(cfn: CloudFormationClient, stackName: string): Promise<LeftResource[]> {
  const left: LeftResource[] = [];
  let nextToken: string | undefined;
  do {
    const out: ListStackResourcesCommandOutput = await cfn.send(new ListStackResourcesCommand({ StackName: stackName, NextToken: nextToken }));
    for (const r of out.StackResourceSummaries ?? []) {
      if (r.ResourceStatus === 'DELETE_COMPLETE') continue;
      left.push({ type: r.ResourceType ?? '?', logicalId: r.LogicalResourceId ?? '?', physicalId: r.PhysicalResourceId, status: r.ResourceStatus ?? '?' });
    }
    nextToken = out.NextToken;
  } while (nextToken);
  return left;
}

/** The commands an operator runs to clear the stack by hand. */
export function recoveryCommands(stackName: string, region: string): string[] {
  const where = `--stack-name ${stackName} --region ${region}`;
  return [
    `aws cloudformation update-termination-protection --no-enable-termination-protection ${where}`,
    `aws cloudformation delete-stack ${where}`,
    `aws cloudformation wait stack-delete-complete ${where}`,
  ];
}

function stopped(stack: Stack, region: string, why: string, left: LeftResource[]): RecoveryResult {
  const name = stack.StackName!;
  const list = left.map((r) => `  - ${r.type} ${r.logicalId}${r.physicalId ? ` (${r.physicalId})` : ''}: ${r.status}`).join('\n');
  return {
    outcome: 'stopped',
    message:
      `failed-create check: ${name} is in ${stack.StackStatus}: ${why}\n` +
      (left.length > 0 ? `Left outside the stack (deleting the stack does not delete them):\n${list}\n` : '') +
      'Check that they hold nothing you need (no release was ever served from them) and delete them or keep them; ' +
      'a kept one with a fixed name (a log group, for instance) makes the next create fail with "already exists". Then run:\n' +
      recoveryCommands(name, region).map((c) => `  ${c}`).join('\n') +
      `\nand retry the Prod stage (the deploy creates ${name} afresh). Runbook: ${RUNBOOK}`,
  };
}

/** Decides, and when the stack holds nothing, deletes it and waits until it is gone. */
export async function recoverFailedCreate(cfn: CloudFormationClient, opts: RecoveryOptions): Promise<RecoveryResult> {
  const { stackName, region } = opts;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const stack = await describe(cfn, stackName);
  if (!stack) return { outcome: 'none', message: `failed-create check: ${stackName} does not exist yet; the deploy creates it.` };
  const status = stack.StackStatus ?? 'UNKNOWN';
  if (status === 'ROLLBACK_FAILED') {
    return stopped(stack, region, 'its first create failed and so did the rollback; CloudFormation can only delete it.', await leftBehind(cfn, stackName));
  }
  if (status !== 'ROLLBACK_COMPLETE') return { outcome: 'none', message: `failed-create check: ${stackName} is ${status}; nothing to clear.` };

  const left = await leftBehind(cfn, stackName);
  if (left.length > 0) {
    return stopped(stack, region, 'its first create failed and was rolled back, so it cannot be updated, only deleted, and the rollback retained resources.', left);
  }
  if (stack.EnableTerminationProtection) {
    await cfn.send(new UpdateTerminationProtectionCommand({ StackName: stackName, EnableTerminationProtection: false }));
  }
  await cfn.send(new DeleteStackCommand({ StackName: stackName }));
  const maxPolls = opts.maxPolls ?? 90;
  for (let i = 0; i < maxPolls; i++) {
    const now = await describe(cfn, stackName);
    if (!now || now.StackStatus === 'DELETE_COMPLETE') {
      return {
        outcome: 'deleted',
        message: `failed-create check: ${stackName} was in ROLLBACK_COMPLETE (its first create failed) and held nothing; turned termination protection off and deleted it. The deploy creates it afresh.`,
      };
    }
    if (now.StackStatus === 'DELETE_FAILED') {
      return stopped(now, region, `deleting it failed: ${now.StackStatusReason ?? 'no reason given'}.`, await leftBehind(cfn, stackName));
    }
    await sleep(opts.pollMs ?? 10_000);
  }
  throw new Error(`${stackName} was still being deleted after ${maxPolls} reads`);
}

// The build role may only assume the CDK bootstrap roles; the deploy role may describe and delete stacks.
const clientFor = (region: string, roleArn: string | undefined) => cloudFormationClient(region, roleArn, 'notes-failed-create-check');

export async function main(argv: string[], client?: CloudFormationClient): Promise<number> {
  const stackName = arg(argv, 'stack');
  const region = arg(argv, 'region') ?? process.env.AWS_REGION;
  if (!stackName || !region) {
    console.error('usage: failed-create --stack NAME --region REGION [--role-arn ARN]');
    return 2;
  }
  try {
    const cfn = client ?? (await clientFor(region, arg(argv, 'role-arn')));
    const result = await recoverFailedCreate(cfn, { stackName, region });
    (result.outcome === 'stopped' ? console.error : console.log)(result.message);
    return result.outcome === 'stopped' ? 1 : 0;
  } catch (err) {
    console.error(`failed-create check: could not check ${stackName}: ${(err as Error).message}. Runbook: ${RUNBOOK}`);
    return 2;
  }
}

runAsScript(module, 'failed-create', (argv) => main(argv));
