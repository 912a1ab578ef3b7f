/**
 * The stateful-change guard, judged on the prod plan's change set.
 *
 * The Plan step (`scripts/render-plan.ts`) prepares the prod change set from the release's cloud assembly
 * before the approval; this module's decision refuses the plan when that change set would remove
 * or replace a resource that holds user data or identities (the notes table, the user pool),
 * unless the execution was started with the pipeline variable `ALLOW_STATEFUL_CHANGE=true`. The
 * decision is a pure function of the change set's resource changes.
 */

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
