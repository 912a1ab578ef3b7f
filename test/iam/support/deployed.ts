/**
 * Facts about the deployed app the contract files share: which function, role, table, bucket and
 * pipeline action is which, found through the constructs (never by guessing logical ids).
 */
import { IConstruct } from 'constructs';
import type { NotesStack } from '../../../lib/notes-stack';
import type { ReleasePipeline } from '../../../lib/pipeline/release-pipeline';
import { Json } from './cfn';
import { IamWorld, Principal } from './world';

export const PIPELINE_STACK = 'NotesPipeline';

export function id(construct: IConstruct): string {
  return IamWorld.logicalId(construct as never);
}

export interface NotesStackFacts {
  stackName: string;
  stack: NotesStack;
  tableName: string;
  tableArn: string;
  userPoolId: string;
  smokeSecretArn: string;
  apiFunction: string;
  smokeFunction: string;
  smokeUserFunction: string;
}

export function notesStackFacts(world: IamWorld, envName: string): NotesStackFacts {
  const stack = world.built.notesStacks.find((s) => s.stackName === `NotesStack-${envName}`)!;
  const r = world.stack(stack.stackName);
  const table = id(stack.table.table);
  const smoke = stack.node.findChild('SmokeTest') as unknown as { function: IConstruct };
  const smokeUser = stack.node.findChild('SmokeUser') as unknown as { secret: IConstruct } & IConstruct;
  const sync = smokeUser.node.findChild('Sync') as unknown as { function: IConstruct };
  return {
    stackName: stack.stackName,
    stack,
    tableName: r.ref(table),
    tableArn: r.getAtt(table, 'Arn'),
    userPoolId: r.ref(id(stack.auth.userPool)),
    smokeSecretArn: r.ref(id(smokeUser.secret)),
    apiFunction: id(stack.api.handler),
    smokeFunction: id(smoke.function),
    smokeUserFunction: id(sync.function),
  };
}

export interface PipelineFacts {
  archiveBucket: string;
  artifactBucket: string;
  ledgerTable: string;
  ledgerArn: string;
  pipelineKeyArn: string;
}

export function pipelineFacts(world: IamWorld): PipelineFacts {
  const p = world.built.pipelineStack;
  const r = world.stack(PIPELINE_STACK);
  return {
    archiveBucket: r.ref(id(p.archiveBucket)),
    artifactBucket: r.ref(id(p.artifactBucket)),
    ledgerTable: r.ref(id(p.ledgerTable)),
    ledgerArn: r.getAtt(id(p.ledgerTable), 'Arn'),
    pipelineKeyArn: r.getAtt(id(p.pipelineKey), 'Arn'),
  };
}

export interface PipelineAction {
  pipeline: string;
  pipelineLogicalId: string;
  stage: string;
  name: string;
  provider: string;
  category: string;
  /** The role the action runs as (its own role, or the pipeline's), when it is a role of the pipeline stack. */
  roleLogicalId: string;
  /** The ARN of the role the action runs as: a role of another account's support stack for a cross-account action. */
  roleArn: string;
  /** The region the action runs in (the pipeline's unless the action names one). */
  region: string;
  configuration: Record<string, Json>;
  inputs: string[];
  outputs: string[];
}

/** Every action of every pipeline of the pipeline stack, resolved. */
export function pipelineActions(world: IamWorld): PipelineAction[] {
  const r = world.stack(PIPELINE_STACK);
  const out: PipelineAction[] = [];
  for (const pid of r.ofType('AWS::CodePipeline::Pipeline')) {
    const raw = r.resources[pid].Properties as { RoleArn: { 'Fn::GetAtt': [string, string] }; Stages: { Name: string; Actions: Record<string, Json>[] }[] };
    const props = r.props(pid) as { Name: string };
    for (const stage of raw.Stages) {
      for (const a of stage.Actions) {
        const type = a.ActionTypeId as Record<string, string>;
        const role = (a.RoleArn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0] ?? raw.RoleArn['Fn::GetAtt'][0];
        out.push({
          pipeline: props.Name,
          pipelineLogicalId: pid,
          stage: stage.Name,
          name: String(a.Name),
          provider: type.Provider,
          category: type.Category,
          roleLogicalId: role,
          roleArn: a.RoleArn === undefined ? r.getAtt(raw.RoleArn['Fn::GetAtt'][0], 'Arn') : String(r.resolve(a.RoleArn)),
          region: a.Region === undefined ? r.env.region : String(r.resolve(a.Region)),
          configuration: r.resolve((a.Configuration ?? {}) as Json) as Record<string, Json>,
          inputs: ((a.InputArtifacts as { Name: string }[] | undefined) ?? []).map((x) => x.Name),
          outputs: ((a.OutputArtifacts as { Name: string }[] | undefined) ?? []).map((x) => x.Name),
        });
      }
    }
  }
  return out;
}

/** The pipeline's own (service) role. */
export function pipelineRole(world: IamWorld, pipelineLogicalId: string): Principal {
  const raw = world.stack(PIPELINE_STACK).resources[pipelineLogicalId].Properties as { RoleArn: { 'Fn::GetAtt': [string, string] } };
  return world.role(PIPELINE_STACK, raw.RoleArn['Fn::GetAtt'][0]);
}

/** The release and hotfix pipelines. */
export function releasePipelines(world: IamWorld): ReleasePipeline[] {
  return [world.built.pipelineStack.releasePipeline, world.built.pipelineStack.hotfixPipeline];
}
