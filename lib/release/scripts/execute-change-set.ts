/**
 * Prod's deploy: executes, by name, the change set the Plan step prepared and the approver saw,
 * and waits for the stack to settle. It never prepares a change set of its own, so nothing that
 * was not reviewed reaches the stack.
 *
 * - A change set CloudFormation refused because nothing changes passes, saying so.
 * - A change set that went obsolete (the stack changed after planning) cannot execute: the step
 *   fails and says to start a new execution, which plans again.
 * - The wait ends in success (`*_COMPLETE` without ROLLBACK), failure (a rollback or a failed
 *   state, with CloudFormation's reason) or a timeout.
 *
 *   node bin/execute-change-set.js --stack NotesStack-prod --change-set notes-plan-<execution> \
 *     --region eu-west-1 [--role-arn <cdk deploy role>] [--outputs-file .pipeline/outputs.json] [--timeout-minutes 60]
 * The outputs file has the shape of `cdk deploy --outputs-file` (`{ "<stack>": { "<output>": "<value>" } }`).
 * Exit codes: 0 executed (or nothing to execute), 1 failed, 2 usage or could not read the change set.
 */
import { mkdirSync, writeFileSync } from 'fs';
import { dirname } from 'path';
import {
  ChangeSetNotFoundException,
  CloudFormationClient,
  DescribeChangeSetCommand,
  DescribeChangeSetCommandOutput,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  Stack,
} from '@aws-sdk/client-cloudformation';
import { isNoChangeFailure } from '../plan';
import { arg, cloudFormationClient } from './cloudformation-client';
import { runAsScript } from './run-as-script';

export type ExecuteOutcome = 'executed' | 'no-changes';

export interface ExecuteResult {
  outcome: ExecuteOutcome;
  message: string;
  /** The stack's outputs after the execution (empty when nothing executed and the stack has none). */
  outputs: Record<string, string>;
}

export class ExecuteError extends Error {
  constructor(
    readonly problem: 'not-found' | 'obsolete' | 'not-executable' | 'failed' | 'timeout',
    message: string,
  ) {
    super(message);
    this.name = 'ExecuteError';
  }
}

export interface ExecuteOptions {
  stackName: string;
  changeSetName: string;
  /** Give up waiting after this long (default 60 minutes). */
  timeoutMs?: number;
  /** Between two polls (default 10 s). */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  log?: (line: string) => void;
}

const SETTLED_OK = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE']);

function outputsOf(stack: Stack | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of stack?.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) out[o.OutputKey] = o.OutputValue;
  return out;
}

async function describeStack(cfn: CloudFormationClient, stackName: string): Promise<Stack | undefined> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    return out.Stacks?.[0];
  } catch (err) {
    if (/does not exist/.test((err as Error).message)) return undefined;
    throw err;
  }
}

const restart = 'Start a new execution of the pipeline: it plans again against what the stack runs now, and that plan is approved again.';

/** Executes the named change set and waits for the stack; throws an ExecuteError naming the problem. */
export async function executeChangeSet(cfn: CloudFormationClient, options: ExecuteOptions): Promise<ExecuteResult> {
  const { stackName, changeSetName } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.log(line));
  const pollMs = options.pollMs ?? 10_000;
  const deadline = now() + (options.timeoutMs ?? 60 * 60_000);

  let changeSet: DescribeChangeSetCommandOutput;
  // A change set is still being created right after `cdk deploy --no-execute` returns only in odd
  // cases; wait for it to be ready rather than fail.
  for (;;) {
    try {
      changeSet = await cfn.send(new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }));
    } catch (err) {
      if (err instanceof ChangeSetNotFoundException) {
        throw new ExecuteError('not-found', `change set ${changeSetName} of ${stackName} does not exist: this execution's Plan step prepared none, or it was deleted. ${restart}`);
      }
      throw err;
    }
    if (isNoChangeFailure(changeSet)) {
      const stack = await describeStack(cfn, stackName);
      return { outcome: 'no-changes', message: `${stackName}: the plan had no changes; nothing to execute.`, outputs: outputsOf(stack) };
    }
    if (changeSet.Status === 'FAILED') {
      throw new ExecuteError('not-executable', `change set ${changeSetName} of ${stackName} failed when it was created: ${changeSet.StatusReason ?? 'no reason given'}. ${restart}`);
    }
    if (changeSet.ExecutionStatus === 'OBSOLETE') {
      throw new ExecuteError(
        'obsolete',
        `change set ${changeSetName} of ${stackName} is obsolete: the stack changed after it was planned, so the approved plan no longer describes what would run. Nothing was executed. ${restart}`,
      );
    }
    if (changeSet.ExecutionStatus === 'AVAILABLE') break;
    if (changeSet.ExecutionStatus === 'EXECUTE_COMPLETE' || changeSet.ExecutionStatus === 'EXECUTE_IN_PROGRESS') {
      log(`${stackName}: change set ${changeSetName} was already executed (${changeSet.ExecutionStatus}); waiting for the stack`);
      break;
    }
    if (changeSet.ExecutionStatus === 'EXECUTE_FAILED') {
      throw new ExecuteError('failed', `change set ${changeSetName} of ${stackName} was executed before and failed. ${restart}`);
    }
    if (now() >= deadline) {
      throw new ExecuteError('timeout', `change set ${changeSetName} of ${stackName} did not become executable (still ${changeSet.ExecutionStatus ?? changeSet.Status})`);
    }
    await sleep(pollMs);
  }

  if (changeSet.ExecutionStatus === 'AVAILABLE') {
    log(`${stackName}: executing change set ${changeSetName}`);
    try {
      await cfn.send(new ExecuteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }));
    } catch (err) {
      const e = err as Error;
      if (e.name === 'InvalidChangeSetStatusException' || /obsolete|OBSOLETE/.test(e.message)) {
        throw new ExecuteError('obsolete', `change set ${changeSetName} of ${stackName} can no longer execute (${e.message}). Nothing was executed. ${restart}`);
      }
      throw err;
    }
  }

  let last = '';
  for (;;) {
    const stack = await describeStack(cfn, stackName);
    const status = stack?.StackStatus ?? 'MISSING';
    if (status !== last) log(`${stackName}: ${status}`);
    last = status;
    if (SETTLED_OK.has(status)) {
      return { outcome: 'executed', message: `${stackName}: change set ${changeSetName} executed (${status}).`, outputs: outputsOf(stack) };
    }
    if (!status.endsWith('_IN_PROGRESS')) {
      const reason = stack?.StackStatusReason ? `: ${stack.StackStatusReason}` : '';
      throw new ExecuteError('failed', `${stackName}: executing change set ${changeSetName} ended in ${status}${reason}`);
    }
    if (now() >= deadline) {
      throw new ExecuteError('timeout', `${stackName}: still ${status} after ${Math.round((options.timeoutMs ?? 3_600_000) / 60_000)} minutes; follow it in the CloudFormation console`);
    }
    await sleep(pollMs);
  }
}

export async function main(argv: string[]): Promise<number> {
  const stackName = arg(argv, 'stack');
  const changeSetName = arg(argv, 'change-set');
  const region = arg(argv, 'region') ?? process.env.AWS_REGION;
  const out = arg(argv, 'outputs-file');
  const timeoutMinutes = Number(arg(argv, 'timeout-minutes') ?? '60');
  if (!stackName || !changeSetName || !region || !Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0) {
    console.error('usage: execute-change-set --stack NAME --change-set NAME --region REGION [--role-arn ARN] [--outputs-file FILE] [--timeout-minutes N]');
    return 2;
  }
  try {
    const cfn = await cloudFormationClient(region, arg(argv, 'role-arn'), 'notes-execute-plan');
    const result = await executeChangeSet(cfn, { stackName, changeSetName, timeoutMs: timeoutMinutes * 60_000 });
    console.log(`execute plan: ${result.message}`);
    if (out) {
      // As `cdk deploy --outputs-file` writes it, so the step exports and checks them the same way.
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, JSON.stringify({ [stackName]: result.outputs }, null, 2) + '\n');
    }
    return 0;
  } catch (err) {
    console.error(`execute plan: ${(err as Error).message}`);
    return err instanceof ExecuteError ? 1 : 2;
  }
}

runAsScript(module, 'execute-change-set', main);
