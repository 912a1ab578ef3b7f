/**
 * The production plan: what a prepared CloudFormation change set will do to a stack, in a form a
 * person can judge in a minute, and in JSON that the release record keeps.
 *
 * The diff is `@aws-cdk/cloudformation-diff`, the library behind `cdk diff`: it compares the
 * stack's current template with the release's, folds in the change set's replacement information,
 * and computes the IAM and security-group changes. This module only arranges its results (and the
 * change set's own list of resource changes, which is what CloudFormation will execute) into a
 * summary line, a table and the library's own renderings.
 *
 * No CDK construct imports: the plan script in CodeBuild and the operator CLI load this file.
 */
import { createHash } from 'crypto';
import type { Change, DescribeChangeSetOutput } from '@aws-sdk/client-cloudformation';
import { formatDifferences, formatSecurityChanges, fullDiff, ResourceImpact, TemplateDiff } from '@aws-cdk/cloudformation-diff';

export type PlanAction = 'add' | 'modify' | 'remove' | 'replace' | 'may-replace' | 'import';

export interface PlanResource {
  logicalId: string;
  type: string;
  action: PlanAction;
  /** Property paths whose change forces (or may force) a replacement, as CloudFormation named them. */
  replacementCausedBy: string[];
}

export interface PlanIamChanges {
  statementsAdded: number;
  statementsRemoved: number;
  managedPoliciesAdded: number;
  managedPoliciesRemoved: number;
  securityGroupRulesAdded: number;
  securityGroupRulesRemoved: number;
  /** Whether any change widens permissions (the library's `permissionsBroadened`). */
  broadened: boolean;
  /** Security-relevant resources changed by type (roles, policies, key, bucket, topic and secret policies...). */
  resources: { logicalId: string; type: string; action: PlanAction }[];
}

export interface Plan {
  stackName: string;
  changeSetName: string;
  /** CloudFormation console page of the change set, when its id is known. */
  changeSetUrl?: string;
  noChanges: boolean;
  counts: { added: number; modified: number; removed: number; replaced: number; mayReplace: number };
  resources: PlanResource[];
  iam: PlanIamChanges;
  /** One line, e.g. `plan: 0 added, 3 modified, 0 removed, 0 replaced; IAM: 1 statement added`. */
  summary: string;
  /**
   * A plan of creating the whole stack without a change set (its first create failed, #11): the
   * sha256 of the template file it creates the stack from, which Prod checks before it deploys.
   */
  templateSha256?: string;
}

export interface PlanInput {
  stackName: string;
  changeSetName: string;
  region: string;
  /** The stack's template as deployed now; `{}` when the stack does not exist yet. */
  currentTemplate: Record<string, unknown>;
  /** The release's template for the stack (from the cloud assembly). */
  newTemplate: Record<string, unknown>;
  /**
   * The change set, every page merged (`Changes` of all pages). Without one the plan is the
   * template diff alone (what the operator CLI shows before a rollback is started).
   */
  changeSet?: DescribeChangeSetOutput;
}

/** Resource types whose changes belong in the security section (beside the statements the diff finds). */
const SECURITY_TYPES = new Set([
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::User',
  'AWS::IAM::Group',
  'AWS::IAM::InstanceProfile',
  'AWS::KMS::Key',
  'AWS::S3::BucketPolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::SQS::QueuePolicy',
  'AWS::SecretsManager::ResourcePolicy',
  'AWS::Lambda::Permission',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::SecurityGroupEgress',
  'AWS::DynamoDB::ResourcePolicy',
]);

/** A change set that CloudFormation refused because nothing changes. */
export function isNoChangeFailure(changeSet: Pick<DescribeChangeSetOutput, 'Status' | 'StatusReason'>): boolean {
  return changeSet.Status === 'FAILED' && /didn't contain changes|No updates are to be performed/i.test(changeSet.StatusReason ?? '');
}

function actionOf(change: NonNullable<Change['ResourceChange']>): PlanAction {
  switch (change.Action) {
    case 'Add':
      return 'add';
    case 'Remove':
      return 'remove';
    case 'Import':
      return 'import';
    default:
      if (change.Replacement === 'True') return 'replace';
      if (change.Replacement === 'Conditional') return 'may-replace';
      return 'modify';
  }
}

function impactToAction(impact: ResourceImpact): PlanAction | undefined {
  switch (impact) {
    case ResourceImpact.WILL_CREATE:
      return 'add';
    case ResourceImpact.WILL_DESTROY:
    case ResourceImpact.WILL_ORPHAN:
      return 'remove';
    case ResourceImpact.WILL_REPLACE:
      return 'replace';
    case ResourceImpact.MAY_REPLACE:
      return 'may-replace';
    case ResourceImpact.WILL_IMPORT:
      return 'import';
    case ResourceImpact.WILL_UPDATE:
      return 'modify';
    default:
      return undefined;
  }
}

/** The resources the change set changes; CloudFormation's own list is what will be executed. */
function resourcesOf(changeSet: DescribeChangeSetOutput | undefined, diff: TemplateDiff): PlanResource[] {
  if (changeSet) {
    const fromChangeSet = (changeSet.Changes ?? []).flatMap((c) => (c.ResourceChange ? [c.ResourceChange] : []));
    return fromChangeSet.map((rc) => ({
      logicalId: rc.LogicalResourceId ?? '(unknown)',
      type: rc.ResourceType ?? '(unknown)',
      action: actionOf(rc),
      replacementCausedBy: [
        ...new Set(
          (rc.Details ?? [])
            .filter((d) => d.Target?.RequiresRecreation === 'Always' || d.Target?.RequiresRecreation === 'Conditionally')
            .map((d) => d.Target?.Path ?? [d.Target?.Attribute, d.Target?.Name].filter(Boolean).join('.')),
        ),
      ],
    }));
  }
  // No change set (a comparison of templates alone): the diff's view.
  const out: PlanResource[] = [];
  diff.resources.forEachDifference((logicalId, change) => {
    const action = impactToAction(change.changeImpact);
    if (!action) return;
    const causedBy = Object.entries(change.propertyUpdates)
      .filter(([, p]) => p.changeImpact === ResourceImpact.WILL_REPLACE || p.changeImpact === ResourceImpact.MAY_REPLACE)
      .map(([name]) => `Properties.${name}`);
    out.push({ logicalId, type: change.resourceType ?? '(unknown)', action, replacementCausedBy: causedBy });
  });
  return out;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function summarize(counts: Plan['counts'], iam: PlanIamChanges, noChanges: boolean): string {
  if (noChanges) return 'plan: no changes';
  const parts = [`${counts.added} added`, `${counts.modified} modified`, `${counts.removed} removed`, `${counts.replaced} replaced`];
  if (counts.mayReplace > 0) parts.push(`${counts.mayReplace} may be replaced`);
  const iamParts: string[] = [];
  if (iam.statementsAdded) iamParts.push(`${plural(iam.statementsAdded, 'statement')} added`);
  if (iam.statementsRemoved) iamParts.push(`${plural(iam.statementsRemoved, 'statement')} removed`);
  if (iam.managedPoliciesAdded) iamParts.push(`${plural(iam.managedPoliciesAdded, 'managed policy')} attached`.replace('policys', 'policies'));
  if (iam.managedPoliciesRemoved) iamParts.push(`${plural(iam.managedPoliciesRemoved, 'managed policy')} detached`.replace('policys', 'policies'));
  const sg = iam.securityGroupRulesAdded + iam.securityGroupRulesRemoved;
  if (sg) iamParts.push(`${plural(sg, 'security group rule')} changed`);
  if (iamParts.length === 0 && iam.resources.length > 0) iamParts.push(`${plural(iam.resources.length, 'security resource')} changed`);
  return `plan: ${parts.join(', ')}; IAM: ${iamParts.length > 0 ? iamParts.join(', ') : 'no changes'}${iam.broadened ? ' (broadens permissions)' : ''}`;
}

/** The change set's page in the CloudFormation console. */
export function changeSetConsoleUrl(region: string, stackId: string, changeSetId: string): string {
  return (
    `https://${region}.console.aws.amazon.com/cloudformation/home?region=${region}#/stacks/changesets/changes` +
    `?stackId=${encodeURIComponent(stackId)}&changeSetId=${encodeURIComponent(changeSetId)}`
  );
}

function diffOf(input: PlanInput): TemplateDiff {
  return fullDiff(input.currentTemplate, input.newTemplate, input.changeSet && !isNoChangeFailure(input.changeSet) ? input.changeSet : undefined);
}

/** Builds the plan of one prepared change set. */
export function buildPlan(input: PlanInput): Plan {
  const diff = diffOf(input);
  // CloudFormation said "no changes": nothing will run, whatever the templates' text says.
  const noChangeSet = input.changeSet !== undefined && isNoChangeFailure(input.changeSet);
  const resources = noChangeSet ? [] : resourcesOf(input.changeSet, diff);
  const count = (...actions: PlanAction[]) => resources.filter((r) => actions.includes(r.action)).length;
  const counts = {
    added: count('add', 'import'),
    modified: count('modify'),
    removed: count('remove'),
    replaced: count('replace'),
    mayReplace: count('may-replace'),
  };
  const statements = diff.iamChanges.statements;
  const managed = diff.iamChanges.managedPolicies;
  const sgJson = noChangeSet ? {} : diff.securityGroupChanges.toJson();
  const iam: PlanIamChanges = {
    statementsAdded: noChangeSet ? 0 : statements.additions.length,
    statementsRemoved: noChangeSet ? 0 : statements.removals.length,
    managedPoliciesAdded: noChangeSet ? 0 : managed.additions.length,
    managedPoliciesRemoved: noChangeSet ? 0 : managed.removals.length,
    securityGroupRulesAdded: (sgJson.ingressRuleAdditions?.length ?? 0) + (sgJson.egressRuleAdditions?.length ?? 0),
    securityGroupRulesRemoved: (sgJson.ingressRuleRemovals?.length ?? 0) + (sgJson.egressRuleRemovals?.length ?? 0),
    broadened: noChangeSet ? false : diff.permissionsBroadened,
    resources: resources.filter((r) => SECURITY_TYPES.has(r.type)).map(({ logicalId, type, action }) => ({ logicalId, type, action })),
  };
  const noChanges = resources.length === 0;
  const changeSetUrl =
    input.changeSet?.StackId && input.changeSet.ChangeSetId ? changeSetConsoleUrl(input.region, input.changeSet.StackId, input.changeSet.ChangeSetId) : undefined;
  return {
    stackName: input.stackName,
    changeSetName: input.changeSetName,
    ...(changeSetUrl ? { changeSetUrl } : {}),
    noChanges,
    counts,
    resources,
    iam,
    summary: summarize(counts, iam, noChanges),
  };
}

function captured(write: (stream: NodeJS.WritableStream) => void): string {
  const chunks: string[] = [];
  const stream = { write: (chunk: string | Uint8Array) => (chunks.push(String(chunk)), true), columns: 120 } as unknown as NodeJS.WritableStream;
  write(stream);
  // The library colours its output on a TTY only; strip any escape codes all the same.
  // eslint-disable-next-line no-control-regex
  return chunks.join('').replace(/\u001b\[[0-9;]*m/g, '').trimEnd();
}

const ACTION_LABEL: Record<PlanAction, string> = {
  add: 'add',
  modify: 'modify',
  remove: 'REMOVE',
  replace: 'REPLACE',
  'may-replace': 'MAY REPLACE',
  import: 'import',
};

/** The plan as Markdown: summary, resource table, security changes, and `cdk diff`'s own rendering. */
export function renderPlanMarkdown(plan: Plan, input: PlanInput): string {
  const lines = [`# Plan for ${plan.stackName}`, '', `Change set \`${plan.changeSetName}\`${plan.changeSetUrl ? ` ([console](${plan.changeSetUrl}))` : ''}.`, '', `**${plan.summary}**`, ''];
  if (plan.noChanges) {
    lines.push('No changes: the release deploys nothing new to this stack.');
    return lines.join('\n') + '\n';
  }
  lines.push('## Resources', '', '| Action | Logical id | Type | Replacement forced by |', '| --- | --- | --- | --- |');
  for (const r of plan.resources) {
    lines.push(`| ${ACTION_LABEL[r.action]} | \`${r.logicalId}\` | ${r.type} | ${r.replacementCausedBy.map((p) => `\`${p}\``).join(', ') || ''} |`);
  }
  const diff = diffOf(input);
  lines.push('', '## IAM and security changes', '');
  const security = captured((s) => formatSecurityChanges(s, diff));
  if (security === '' && plan.iam.resources.length === 0) lines.push('None.');
  else {
    if (plan.iam.resources.length > 0) {
      lines.push('Security-relevant resources in the change set:', '');
      for (const r of plan.iam.resources) lines.push(`- ${ACTION_LABEL[r.action]} \`${r.logicalId}\` (${r.type})`);
      lines.push('');
    }
    if (security !== '') lines.push('```text', security, '```');
  }
  lines.push('', '## Full diff (as `cdk diff` shows it)', '', '```text', captured((s) => formatDifferences(s, diff)), '```');
  return lines.join('\n') + '\n';
}

/** The plan's JSON, exactly as stored and hashed. */
export function planJson(plan: Plan): string {
  return JSON.stringify(plan, null, 2) + '\n';
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
