/**
 * The stateful-change guard of the prod stage.
 *
 * Before prod is deployed, a CloudFormation change set is prepared from the release's cloud
 * assembly (`cdk deploy --no-execute`). This module reads that change set and refuses the release
 * when it would remove or replace a resource that holds user data or identities (the notes table,
 * the user pool), unless the execution was started with the pipeline variable
 * `ALLOW_STATEFUL_CHANGE=true`. The decision is a pure function; the CloudFormation calls around
 * it are thin and take the client as a parameter so tests can mock it.
 *
 * Run in CodeBuild:
 *   npx tsx lib/release/scripts/stateful-guard.ts --stack NotesStack-prod --change-set notes-guard-<id> \
 *     --region eu-west-1 [--role-arn <cdk deploy role>] [--allow true]
 * Exit codes: 0 allowed (or nothing to inspect), 1 blocked, 2 could not inspect.
 */
import {
  ChangeSetNotFoundException,
  CloudFormationClient,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeChangeSetCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { arg, cloudFormationClient } from './cloudformation-client';

/** Resource types whose removal or replacement loses data or every user's identity. */
export const STATEFUL_RESOURCE_TYPES: readonly string[] = [
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::GlobalTable',
  'AWS::Cognito::UserPool',
];

/** The part of a CloudFormation `ResourceChange` the guard looks at. */
export interface ResourceChangeSummary {
  action?: string;
  logicalResourceId?: string;
  physicalResourceId?: string;
  resourceType?: string;
  replacement?: string;
  policyAction?: string;
}

export interface GuardFinding {
  logicalResourceId: string;
  resourceType: string;
  /** `REMOVE` or `REPLACE` (Replacement True) or `MAY REPLACE` (Replacement Conditional). */
  effect: 'REMOVE' | 'REPLACE' | 'MAY REPLACE';
  detail: string;
}

export interface GuardDecision {
  allowed: boolean;
  findings: GuardFinding[];
  /** One paragraph for the build log and the action's failure message. */
  message: string;
}

/** Reads the override variable: only the exact text `true` (any case, trimmed) allows. */
export function parseOverride(value: string | undefined): boolean {
  return (value ?? '').trim().toLowerCase() === 'true';
}

/** The findings of one change set: every removal or (possible) replacement of a stateful resource. */
export function findStatefulChanges(changes: ResourceChangeSummary[]): GuardFinding[] {
  const findings: GuardFinding[] = [];
  for (const c of changes) {
    const type = c.resourceType ?? '';
    if (!STATEFUL_RESOURCE_TYPES.includes(type)) continue;
    const id = c.logicalResourceId ?? '(unknown)';
    const physical = c.physicalResourceId ? ` (${c.physicalResourceId})` : '';
    if (c.action === 'Remove') {
      const policy = c.policyAction ? `, deletion policy action ${c.policyAction}` : '';
      findings.push({ logicalResourceId: id, resourceType: type, effect: 'REMOVE', detail: `${type} ${id}${physical} would be removed from the stack${policy}` });
    } else if (c.action === 'Modify' && c.replacement === 'True') {
      findings.push({ logicalResourceId: id, resourceType: type, effect: 'REPLACE', detail: `${type} ${id}${physical} would be replaced (Replacement: True)` });
    } else if (c.action === 'Modify' && c.replacement === 'Conditional') {
      findings.push({ logicalResourceId: id, resourceType: type, effect: 'MAY REPLACE', detail: `${type} ${id}${physical} may be replaced (Replacement: Conditional)` });
    }
  }
  return findings;
}

/** The guard's verdict on a change set's resource changes. */
export function decide(changes: ResourceChangeSummary[], allowStatefulChange: boolean, stackName: string): GuardDecision {
  const findings = findStatefulChanges(changes);
  if (findings.length === 0) {
    return {
      allowed: true,
      findings,
      message: `stateful-change guard: passed; ${changes.length} resource change(s) to ${stackName}, none removes or replaces a table or user pool.`,
    };
  }
  const list = findings.map((f) => `  - ${f.detail}`).join('\n');
  if (allowStatefulChange) {
    return {
      allowed: true,
      findings,
      message: `stateful-change guard: OVERRIDDEN by ALLOW_STATEFUL_CHANGE=true; proceeding with ${findings.length} stateful change(s) to ${stackName}:\n${list}`,
    };
  }
  return {
    allowed: false,
    findings,
    message:
      `stateful-change guard: blocked; the release would remove or replace ${findings.length} stateful resource(s) in ${stackName}:\n${list}\n` +
      'Data or user accounts would be lost. If this is intended (and a restore plan exists), start a new execution ' +
      'with the pipeline variable ALLOW_STATEFUL_CHANGE=true.',
  };
}

/** Every resource change of a change set (all pages); undefined when the change set does not exist. */
export async function readChangeSet(
  cfn: CloudFormationClient,
  stackName: string,
  changeSetName: string,
): Promise<ResourceChangeSummary[] | undefined> {
  const changes: ResourceChangeSummary[] = [];
  let nextToken: string | undefined;
  do {
    let out: DescribeChangeSetCommandOutput;
    try {
      out = await cfn.send(new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName, NextToken: nextToken }));
    } catch (err) {
      if (err instanceof ChangeSetNotFoundException) return undefined;
      throw err;
    }
    if (out.Status === 'FAILED' && /didn't contain changes|No updates are to be performed/i.test(out.StatusReason ?? '')) return [];
    if (out.Status === 'FAILED') throw new Error(`change set ${changeSetName} failed: ${out.StatusReason ?? 'no reason given'}`);
    for (const change of out.Changes ?? []) {
      const rc = change.ResourceChange;
      if (!rc) continue;
      changes.push({
        action: rc.Action,
        logicalResourceId: rc.LogicalResourceId,
        physicalResourceId: rc.PhysicalResourceId,
        resourceType: rc.ResourceType,
        replacement: rc.Replacement,
        policyAction: rc.PolicyAction,
      });
    }
    nextToken = out.NextToken;
  } while (nextToken);
  return changes;
}

export interface GuardRun {
  stackName: string;
  changeSetName: string;
  allowStatefulChange: boolean;
}

/**
 * Inspects the change set, deletes it (the deploy action prepares its own from the same assembly)
 * and returns the decision. A missing change set means the CLI found nothing to change.
 */
export async function runGuard(cfn: CloudFormationClient, run: GuardRun): Promise<GuardDecision> {
  const changes = await readChangeSet(cfn, run.stackName, run.changeSetName);
  if (changes === undefined) {
    return { allowed: true, findings: [], message: `stateful-change guard: passed; no change set ${run.changeSetName} (the CLI found no changes to ${run.stackName}).` };
  }
  const decision = decide(changes, run.allowStatefulChange, run.stackName);
  try {
    await cfn.send(new DeleteChangeSetCommand({ StackName: run.stackName, ChangeSetName: run.changeSetName }));
  } catch (err) {
    if (!(err instanceof ChangeSetNotFoundException)) throw err;
  }
  return decision;
}

export async function main(argv: string[]): Promise<number> {
  const stackName = arg(argv, 'stack');
  const changeSetName = arg(argv, 'change-set');
  const region = arg(argv, 'region') ?? process.env.AWS_REGION;
  if (!stackName || !changeSetName || !region) {
    console.error('usage: stateful-guard --stack NAME --change-set NAME --region REGION [--role-arn ARN] [--allow true|false]');
    return 2;
  }
  const allow = parseOverride(arg(argv, 'allow') ?? process.env.ALLOW_STATEFUL_CHANGE);
  try {
    // The build role may only assume the CDK bootstrap roles; the deploy role can read change sets.
    const cfn = await cloudFormationClient(region, arg(argv, 'role-arn'), 'notes-stateful-guard');
    const decision = await runGuard(cfn, { stackName, changeSetName, allowStatefulChange: allow });
    console.log(decision.message);
    return decision.allowed ? 0 : 1;
  } catch (err) {
    console.error(`stateful-change guard: could not inspect change set ${changeSetName} of ${stackName}: ${(err as Error).message}`);
    return 2;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
