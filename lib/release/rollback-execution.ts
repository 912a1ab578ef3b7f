/**
 * What the rollback pipeline, its two Lambda steps and the operator CLI share: the pipeline's
 * name, its variables, its stage and action names, and how to read one execution's facts
 * (variables, who started it, what each action did) from CodePipeline.
 *
 * No CDK imports here: the Lambdas and the CLI load this file.
 */
import { ActionExecutionDetail, CodePipelineClient, GetPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { listActionExecutions } from './job';

/** Physical name of the rollback pipeline (next to `notes-release` and `notes-hotfix`). */
export const ROLLBACK_PIPELINE_NAME = 'notes-rollback';

/** Pipeline-level variables an operator sets when starting a rollback. */
export const ROLLBACK_VARIABLES = {
  targetVersion: 'TARGET_VERSION',
  reason: 'REASON',
  requestedBy: 'REQUESTED_BY',
} as const;

/**
 * `TARGET_VERSION`'s default: "the release before the one prod runs now". CodePipeline refuses
 * empty variable values (1-1000 characters), so the default is a word, not an empty string.
 */
export const PREVIOUS_RELEASE = 'previous';
/** `REASON`'s default; Resolve refuses to roll back with it (a rollback needs a reason). */
export const NO_REASON = 'none given';
/** `REQUESTED_BY`'s default; the execution's trigger (the caller's ARN) is used instead. */
export const UNKNOWN_REQUESTER = 'unknown';

/** Stage and action names, in pipeline order. */
export const ROLLBACK_STAGES = {
  source: { stage: 'Source', action: 'DeployKit' },
  resolve: { stage: 'Resolve', action: 'Resolve' },
  plan: { stage: 'Plan', action: 'Plan' },
  approve: { stage: 'Approve', action: 'OpsOwnerApproval' },
  deploy: { stage: 'Deploy', action: 'Deploy' },
  verify: { stage: 'Verify', action: 'SmokeTest' },
  record: { stage: 'Record', action: 'Record' },
} as const;

/** Namespace of the Resolve action's output variables (`#{Resolve.TARGET_VERSION}`). */
export const RESOLVE_NAMESPACE = 'Resolve';
/** The variables Resolve exports. */
export const RESOLVE_OUTPUTS = [
  'TARGET_VERSION',
  'FROM_VERSION',
  'TARGET_COMMIT',
  'ARTIFACT_BUCKET',
  'ARTIFACT_KEY',
  'ARTIFACT_VERSION_ID',
  'ARTIFACT_SHA256',
] as const;
export type ResolveOutputs = Record<(typeof RESOLVE_OUTPUTS)[number], string>;
/** `ARTIFACT_VERSION_ID` when the ledger recorded no S3 version id (output variables cannot be empty). */
export const NO_VERSION_ID = 'none';

/** The trigger type of the execution CodePipeline starts by itself when a pipeline is created. */
export const CREATED_PIPELINE_TRIGGER = 'CreatePipeline';

/** Console page of one execution. */
export function executionConsoleUrl(region: string, pipelineName: string, executionId: string): string {
  return `https://${region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/${encodeURIComponent(pipelineName)}/executions/${encodeURIComponent(executionId)}/timeline?region=${region}`;
}

export interface ExecutionFacts {
  status: string;
  variables: Record<string, string>;
  /** Who started the execution (the IAM ARN CodePipeline recorded), when known. */
  startedBy?: string;
  /** How it started: `StartPipelineExecution`, or `CreatePipeline` for the run CodePipeline starts by itself on creation. */
  triggerType?: string;
  /** Every action run of the execution, oldest first. */
  actions: ActionExecutionDetail[];
}

/** Reads an execution's status, variables, trigger and action runs. */
export async function readExecution(client: CodePipelineClient, pipelineName: string, executionId: string): Promise<ExecutionFacts> {
  const out = await client.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: executionId }));
  const execution = out.pipelineExecution;
  const variables: Record<string, string> = {};
  for (const v of execution?.variables ?? []) if (v.name) variables[v.name] = v.resolvedValue ?? '';
  const actions = await listActionExecutions(client, pipelineName, executionId);
  const trigger = execution?.trigger;
  return {
    status: execution?.status ?? 'Unknown',
    variables,
    startedBy: trigger?.triggerType === 'StartPipelineExecution' && trigger.triggerDetail ? trigger.triggerDetail : undefined,
    triggerType: trigger?.triggerType,
    actions,
  };
}

/** The latest run of one action in an execution, if it ran. */
export function latestRun(actions: ActionExecutionDetail[], step: { stage: string; action: string }): ActionExecutionDetail | undefined {
  const runs = actions.filter((a) => a.stageName === step.stage && a.actionName === step.action);
  return runs[runs.length - 1];
}

/** Resolve's output variables from an execution's action runs, when Resolve succeeded. */
export function resolvedTarget(actions: ActionExecutionDetail[]): ResolveOutputs | undefined {
  const run = latestRun(actions, ROLLBACK_STAGES.resolve);
  if (!run || run.status !== 'Succeeded') return undefined;
  const vars = run.output?.outputVariables ?? {};
  if (!vars.TARGET_VERSION || !vars.FROM_VERSION) return undefined;
  const out = {} as ResolveOutputs;
  for (const name of RESOLVE_OUTPUTS) out[name] = vars[name] ?? '';
  return out;
}
