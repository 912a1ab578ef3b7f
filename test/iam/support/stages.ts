/**
 * What runs before an approval, read from the synthesized pipeline definitions: every stage of a
 * pipeline before its first stage with a Manual approval action (notes-release's and
 * notes-hotfix's `ApproveProd`, the rollback pipeline's `Approve`), and for each action the
 * roles whose credentials its work runs with:
 * - the action role (its own, or the pipeline's role when it has none; a cross-account action's
 *   role lives in the target account's support stack);
 * - a CodeBuild action's project service role (the build runs as it);
 * - a Lambda invoke action's function execution role (the function runs as it).
 * The pipeline's own service role assumes the action roles: it is CodePipeline acting, not a step,
 * and is proven separately (it may assume exactly its actions' roles).
 */
import { PIPELINE_STACK, PipelineAction, pipelineActions, pipelineRole } from './deployed';
import { IamWorld, Principal } from './world';

export interface StepRole {
  readonly principal: Principal;
  /** `notes-release Dev/Deploy` */
  readonly step: string;
  readonly action: PipelineAction;
  /** Which of the step's roles: `action role`, `project role` or `function role`. */
  readonly kind: 'action role' | 'project role' | 'function role';
}

export interface Gate {
  readonly pipeline: string;
  readonly pipelineLogicalId: string;
  /** The first stage holding a Manual approval action (undefined: the pipeline has none). */
  readonly approvalStage?: string;
  /** Stage names in pipeline order. */
  readonly stages: string[];
  /** Every action of the pipeline, the approvals included. */
  readonly actions: PipelineAction[];
  readonly before: PipelineAction[];
  readonly after: PipelineAction[];
}

/** Each pipeline of the pipeline stack, cut at its first approval. */
export function gates(world: IamWorld): Gate[] {
  const actions = pipelineActions(world);
  const byPipeline = new Map<string, PipelineAction[]>();
  for (const a of actions) byPipeline.set(a.pipelineLogicalId, [...(byPipeline.get(a.pipelineLogicalId) ?? []), a]);
  return [...byPipeline.entries()].map(([pipelineLogicalId, list]) => {
    const stages = [...new Set(list.map((a) => a.stage))];
    const approvalStage = stages.find((st) => list.some((a) => a.stage === st && a.category === 'Approval'));
    const cut = approvalStage === undefined ? stages.length : stages.indexOf(approvalStage);
    const before = list.filter((a) => stages.indexOf(a.stage) < cut);
    const after = list.filter((a) => stages.indexOf(a.stage) > cut);
    return { pipeline: list[0].pipeline, pipelineLogicalId, approvalStage, stages, actions: list, before, after };
  });
}

/** The roles an action's work runs as (see the module comment). Throws when a role is not in any template of the world. */
export function rolesOf(world: IamWorld, a: PipelineAction): StepRole[] {
  const step = `${a.pipeline} ${a.stage}/${a.name}`;
  const out: StepRole[] = [];
  const actionRole = world.roleByArn(a.roleArn);
  if (!actionRole) throw new Error(`${step}: its role ${a.roleArn} is in no template of the world`);
  out.push({ principal: actionRole, step, action: a, kind: 'action role' });
  const stack = world.stack(PIPELINE_STACK);
  if (a.provider === 'CodeBuild') {
    const project = stack.ofType('AWS::CodeBuild::Project').find((p) => stack.ref(p) === a.configuration.ProjectName);
    if (!project) throw new Error(`${step}: project ${String(a.configuration.ProjectName)} is not in ${PIPELINE_STACK}`);
    const role = world.roleByArn(String(stack.props(project).ServiceRole));
    if (!role) throw new Error(`${step}: the service role of project ${String(a.configuration.ProjectName)} is in no template`);
    out.push({ principal: role, step, action: a, kind: 'project role' });
  }
  if (a.provider === 'Lambda') {
    // CodePipeline invokes the function in the account of the action's role, in the action's region.
    const name = String(a.configuration.FunctionName);
    const arn = name.startsWith('arn:') ? name : `arn:aws:lambda:${a.region}:${a.roleArn.split(':')[4]}:function:${name}`;
    const fn = world.functionByArn(arn);
    if (!fn) throw new Error(`${step}: function ${arn} is in no template of the world`);
    out.push({ principal: world.functionRole(fn.stack, fn.logicalId), step, action: a, kind: 'function role' });
  }
  return out;
}

/** The pipeline's own service role. */
export function serviceRoleOf(world: IamWorld, gate: Gate): Principal {
  return pipelineRole(world, gate.pipelineLogicalId);
}
