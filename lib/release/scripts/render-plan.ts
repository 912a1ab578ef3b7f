/**
 * The Plan step, after `cdk deploy --no-execute --force --change-set-name <name>` has prepared the
 * change set from the release's cloud assembly (publishing its assets): reads the change set (every
 * page) and the stack's current template, renders the plan (`lib/release/plan.ts`), applies the
 * stateful-change guard to the same change set, and writes
 *   <out-dir>/plan.md, <out-dir>/plan.json and <out-dir>/plan.env
 * (PLAN_SUMMARY, PLAN_SHA256, CHANGE_SET_NAME, CHANGE_SET_URL, PLAN_URL as shell `export` lines, which the
 * buildspec exports as the action's variables). The change set is kept: Prod executes it by name.
 *
 * With `--create` instead of `--change-set` (the stack's first create failed, #11) it plans the
 * creation of the whole stack from the assembly's template, without a change set (`planCreate`).
 *
 *   node bin/render-plan.js --stack NotesStack-prod --change-set notes-plan-<execution> \
 *     --region eu-west-1 --assembly <cloud assembly dir> [--role-arn <cdk deploy role>] [--allow true] --out-dir .pipeline/plan
 * Exit codes: 0 planned, 1 blocked by the guard, 2 usage or could not read the change set.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { CloudFormationClient, DescribeChangeSetCommandOutput } from '@aws-sdk/client-cloudformation';
import { ACTION_CONFIGURATION_VALUE_LIMIT, MAX_PLAN_SUMMARY_CHARS } from '../approval-limits';
import { currentTemplate, readFullChangeSet } from '../change-set';
import { buildPlan, isNoChangeFailure, Plan, planJson, PlanInput, renderPlanMarkdown, sha256 } from '../plan';
import { arg, cloudFormationClient } from './cloudformation-client';
import { exportLines } from './release-version';
import { decide, GuardDecision, parseOverride, ResourceChangeSummary } from '../stateful-guard';
import { runAsScript } from './run-as-script';

/** Approval messages carry the summary; bounded here, where it is produced (lib/release/approval-limits.ts). */
export const MAX_PLAN_SUMMARY = MAX_PLAN_SUMMARY_CHARS;
/** CodePipeline's limit on an action configuration value: the approval's review link is PLAN_URL. */
const MAX_URL = ACTION_CONFIGURATION_VALUE_LIMIT;

/** The stack's template file in a cloud assembly directory (`manifest.json` names it). */
export function assemblyTemplateFile(assemblyDir: string, stackName: string): string {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, { type?: string; properties?: { templateFile?: string; stackName?: string } }>;
  };
  const entry = Object.entries(manifest.artifacts ?? {}).find(
    ([id, a]) => a.type === 'aws:cloudformation:stack' && (a.properties?.stackName ?? id) === stackName,
  );
  if (!entry?.[1].properties?.templateFile) throw new Error(`the cloud assembly in ${assemblyDir} has no stack ${stackName}`);
  return join(assemblyDir, entry[1].properties.templateFile);
}

/** The stack's template in a cloud assembly directory. */
export function assemblyTemplate(assemblyDir: string, stackName: string): Record<string, unknown> {
  return JSON.parse(readFileSync(assemblyTemplateFile(assemblyDir, stackName), 'utf8')) as Record<string, unknown>;
}

/** The CHANGE_SET_NAME of a plan that creates the whole stack (no change set). */
export const CREATE_PLAN = 'create';

function guardChanges(changeSet: DescribeChangeSetOutputLike): ResourceChangeSummary[] {
  return (changeSet.Changes ?? []).flatMap((c) =>
    c.ResourceChange
      ? [
          {
            action: c.ResourceChange.Action,
            logicalResourceId: c.ResourceChange.LogicalResourceId,
            physicalResourceId: c.ResourceChange.PhysicalResourceId,
            resourceType: c.ResourceChange.ResourceType,
            replacement: c.ResourceChange.Replacement,
            policyAction: c.ResourceChange.PolicyAction,
          },
        ]
      : [],
  );
}
type DescribeChangeSetOutputLike = Pick<DescribeChangeSetCommandOutput, 'Changes'>;

/** The CodeBuild console page of the build that printed the plan (`CODEBUILD_BUILD_ID` is `<project>:<uuid>`). */
export function buildLogUrl(region: string, buildId: string): string {
  const project = buildId.split(':')[0];
  return `https://${region}.console.aws.amazon.com/codesuite/codebuild/projects/${encodeURIComponent(project)}/build/${encodeURIComponent(buildId)}/log?region=${region}`;
}

/** PLAN_SUMMARY as exported: the plan's summary, cut to its bound. */
export function boundedPlanSummary(summary: string): string {
  return summary.length <= MAX_PLAN_SUMMARY ? summary : `${summary.slice(0, MAX_PLAN_SUMMARY - 3)}...`;
}

/** The plan's link for the approval: its build log, or CodeBuild's project list when that would be too long. */
function planUrl(region: string, buildId: string | undefined): string {
  if (!buildId) return 'none';
  const url = buildLogUrl(region, buildId);
  return url.length <= MAX_URL ? url : `https://${region}.console.aws.amazon.com/codesuite/codebuild/projects?region=${region}`;
}

export interface PlanRun {
  /** The CodeBuild build running the plan, for a link to its log (absent outside CodeBuild). */
  buildId?: string;
  stackName: string;
  changeSetName: string;
  region: string;
  assemblyDir: string;
  allowStatefulChange: boolean;
}

export interface PlanOutcome {
  plan: Plan;
  markdown: string;
  json: string;
  guard: GuardDecision;
  variables: { PLAN_SUMMARY: string; PLAN_SHA256: string; CHANGE_SET_NAME: string; CHANGE_SET_URL: string; PLAN_URL: string };
}

/** Reads the prepared change set and renders and judges it. */
export async function planChangeSet(cfn: CloudFormationClient, run: PlanRun): Promise<PlanOutcome> {
  const changeSet = await readFullChangeSet(cfn, run.stackName, run.changeSetName);
  if (changeSet.Status === 'FAILED' && !isNoChangeFailure(changeSet)) {
    throw new Error(`change set ${run.changeSetName} of ${run.stackName} failed: ${changeSet.StatusReason ?? 'no reason given'}`);
  }
  const input: PlanInput = {
    stackName: run.stackName,
    changeSetName: run.changeSetName,
    region: run.region,
    currentTemplate: await currentTemplate(cfn, run.stackName),
    newTemplate: assemblyTemplate(run.assemblyDir, run.stackName),
    changeSet,
  };
  const plan = buildPlan(input);
  return outcome(plan, renderPlanMarkdown(plan, input), decide(guardChanges(changeSet), run.allowStatefulChange, run.stackName), run, {
    name: run.changeSetName,
    url: plan.changeSetUrl,
  });
}

/** A rendered plan's outcome: its JSON, hash and the variables the Plan action exports. */
function outcome(plan: Plan, markdown: string, guard: GuardDecision, run: Pick<PlanRun, 'region' | 'buildId'>, changeSet: { name: string; url?: string }): PlanOutcome {
  const json = planJson(plan);
  return {
    plan,
    markdown,
    json,
    guard,
    variables: {
      PLAN_SUMMARY: boundedPlanSummary(plan.summary),
      PLAN_SHA256: sha256(json),
      CHANGE_SET_NAME: changeSet.name,
      // Output variables cannot be empty.
      CHANGE_SET_URL: changeSet.url ?? 'none',
      PLAN_URL: planUrl(run.region, run.buildId),
    },
  };
}

/**
 * The plan of creating the whole stack from the assembly's template, without a change set: the
 * stack's first create failed (ROLLBACK_COMPLETE), and CloudFormation makes no change set against
 * such a stack (#11). Every resource is added (the diff against an empty template); no AWS call.
 * After the approval, Prod's RecoverFailedCreate clears the failed stack and its Deploy creates
 * the stack from this same template (it checks `templateSha256` first).
 */
export function planCreate(run: Omit<PlanRun, 'changeSetName'>): PlanOutcome {
  const templateFile = assemblyTemplateFile(run.assemblyDir, run.stackName);
  const input: PlanInput = {
    stackName: run.stackName,
    changeSetName: CREATE_PLAN,
    region: run.region,
    currentTemplate: {},
    newTemplate: JSON.parse(readFileSync(templateFile, 'utf8')) as Record<string, unknown>,
  };
  const plan: Plan = { ...buildPlan(input), templateSha256: sha256(readFileSync(templateFile, 'utf8')) };
  const note =
    `> ${run.stackName}'s first create failed, so CloudFormation can make no change set against it. This plan is the creation of the whole stack ` +
    `from the release's template (sha256 ${plan.templateSha256}): after the approval, Prod's RecoverFailedCreate deletes the failed stack ` +
    '(or stops and says what it holds) and Deploy creates it from this template with `cdk deploy`.\n\n';
  const guard = decide(
    plan.resources.map((r) => ({ action: 'Add', logicalResourceId: r.logicalId, resourceType: r.type })),
    run.allowStatefulChange,
    run.stackName,
  );
  return outcome(plan, note + renderPlanMarkdown(plan, input), guard, run, { name: CREATE_PLAN });
}

export async function main(argv: string[], client?: CloudFormationClient): Promise<number> {
  const create = argv.includes('--create');
  const stackName = arg(argv, 'stack');
  const changeSetName = create ? CREATE_PLAN : arg(argv, 'change-set');
  const region = arg(argv, 'region') ?? process.env.AWS_REGION;
  const assemblyDir = arg(argv, 'assembly');
  const outDir = arg(argv, 'out-dir');
  if (!stackName || !changeSetName || !region || !assemblyDir || !outDir) {
    console.error(
      'usage: render-plan --stack NAME (--change-set NAME | --create) --region REGION --assembly DIR --out-dir DIR [--role-arn ARN] [--allow true|false]',
    );
    return 2;
  }
  let outcome: PlanOutcome;
  const run = {
    stackName,
    region,
    assemblyDir,
    allowStatefulChange: parseOverride(arg(argv, 'allow') ?? process.env.ALLOW_STATEFUL_CHANGE),
    buildId: process.env.CODEBUILD_BUILD_ID,
  };
  try {
    outcome = create ? planCreate(run) : await planChangeSet(client ?? (await cloudFormationClient(region, arg(argv, 'role-arn'), 'notes-plan')), { ...run, changeSetName });
  } catch (err) {
    console.error(
      create ? `plan: could not plan the creation of ${stackName}: ${(err as Error).message}` : `plan: could not read change set ${changeSetName} of ${stackName}: ${(err as Error).message}`,
    );
    return 2;
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'plan.md'), outcome.markdown);
  writeFileSync(join(outDir, 'plan.json'), outcome.json);
  writeFileSync(join(outDir, 'plan.env'), exportLines(outcome.variables));
  console.log(outcome.markdown);
  console.log(outcome.guard.message);
  return outcome.guard.allowed ? 0 : 1;
}

runAsScript(module, 'render-plan', main);
