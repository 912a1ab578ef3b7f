/** `resume`: re-enables promotions into prod after the fix (the inbound transition a rollback disabled). */
import { EnableStageTransitionCommand, GetPipelineStateCommand } from '@aws-sdk/client-codepipeline';
import { Context } from './context';
import { conflict, EXIT, notFound } from './errors';
import { runningRollbacks } from './rollback';

export async function resume(ctx: Context, opts: { force: boolean }): Promise<number> {
  const { pipelines, prodStage } = ctx.settings;
  if (!opts.force) {
    const running = await runningRollbacks(ctx);
    if (running.length > 0) {
      throw conflict(
        `A rollback is still running (execution ${running[0]}); resuming now could let a release reach prod before it ends.`,
        'Wait for it to end (`status`), or pass --force.',
      );
    }
  }
  const state = await ctx.call({ resource: `pipeline ${pipelines.release}` }, () => ctx.codepipeline.send(new GetPipelineStateCommand({ name: pipelines.release })));
  const stage = state.stageStates?.find((s) => s.stageName === prodStage);
  if (!stage) throw notFound(`Pipeline ${pipelines.release} has no stage ${prodStage}.`, 'Pass the production stage name with --prod-stage.');
  const t = stage.inboundTransitionState;
  if (t?.enabled !== false) {
    ctx.print({ pipeline: pipelines.release, stage: prodStage, resumed: false, wasPaused: false }, () => [
      `Promotions into ${prodStage} of ${pipelines.release} are not paused; nothing to do.`,
    ]);
    return EXIT.OK;
  }
  await ctx.call({ resource: `pipeline ${pipelines.release}` }, () =>
    ctx.codepipeline.send(new EnableStageTransitionCommand({ pipelineName: pipelines.release, stageName: prodStage, transitionType: 'Inbound' })),
  );
  const was = { reason: t.disabledReason, by: t.lastChangedBy, at: t.lastChangedAt?.toISOString() };
  ctx.print({ pipeline: pipelines.release, stage: prodStage, resumed: true, wasPaused: true, paused: was }, () => [
    `Promotions into ${prodStage} of ${pipelines.release} resumed.`,
    `  They were paused: "${was.reason ?? ''}"${was.by ? ` by ${was.by}` : ''}${was.at ? ` at ${was.at}` : ''}.`,
    '  A release waiting before that stage moves on now (after its approval).',
  ]);
  return EXIT.OK;
}
