/** `approve` / `reject`: answers a manual approval that is waiting, with a comment (PutApprovalResult). */
import { GetPipelineStateCommand, PutApprovalResultCommand } from '@aws-sdk/client-codepipeline';
import { Context } from './context';
import { EXIT, notFound, usage } from './errors';

export interface ApprovalOptions {
  pipeline: string;
  action?: string;
  comment?: string;
}

/** `release`, `hotfix`, `rollback` or a pipeline's own name. */
export function pipelineByAlias(ctx: Context, alias: string): string {
  const p = ctx.settings.pipelines;
  return alias === 'release' ? p.release : alias === 'hotfix' ? p.hotfix : alias === 'rollback' ? p.rollback : alias;
}

export async function answerApproval(ctx: Context, decision: 'Approved' | 'Rejected', opts: ApprovalOptions): Promise<number> {
  const comment = (opts.comment ?? '').trim();
  if (!comment) throw usage('--comment is required: say why (it is recorded with the approval).');
  if (comment.length > 512) throw usage('--comment is too long (at most 512 characters).');
  const pipelineName = pipelineByAlias(ctx, opts.pipeline);
  const state = await ctx.call({ resource: `pipeline ${pipelineName}` }, () => ctx.codepipeline.send(new GetPipelineStateCommand({ name: pipelineName })));
  const waiting = (state.stageStates ?? []).flatMap((s) =>
    (s.actionStates ?? [])
      .filter((a) => a.latestExecution?.status === 'InProgress' && a.latestExecution.token)
      .map((a) => ({ stageName: s.stageName ?? '', actionName: a.actionName ?? '', token: a.latestExecution!.token! })),
  );
  const candidates = opts.action ? waiting.filter((w) => w.actionName === opts.action) : waiting;
  if (candidates.length === 0) {
    throw notFound(
      `No approval${opts.action ? ` named ${opts.action}` : ''} is waiting in ${pipelineName}.`,
      waiting.length > 0 ? `Waiting: ${waiting.map((w) => w.actionName).join(', ')}.` : 'Run `status` to see what each pipeline is doing.',
    );
  }
  if (candidates.length > 1) {
    throw usage(`Several approvals are waiting in ${pipelineName}: ${candidates.map((c) => c.actionName).join(', ')}.`, 'Choose one with --action <name>.');
  }
  const [a] = candidates;
  await ctx.call({ resource: `pipeline ${pipelineName}` }, () =>
    ctx.codepipeline.send(
      new PutApprovalResultCommand({ pipelineName, stageName: a.stageName, actionName: a.actionName, token: a.token, result: { summary: comment, status: decision } }),
    ),
  );
  ctx.print({ pipeline: pipelineName, stage: a.stageName, action: a.actionName, decision, comment }, () => [
    `${decision} ${a.actionName} (stage ${a.stageName}) of ${pipelineName}: "${comment}"`,
  ]);
  return EXIT.OK;
}
