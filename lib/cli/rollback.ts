/**
 * `rollback`: shows the plan, asks for confirmation, refuses when a rollback is already running,
 * pauses promotions into prod (disables the release pipeline's inbound transition into its prod
 * stage, with the reason), starts the rollback pipeline with its variables, and with `--wait`
 * follows the execution to its end.
 */
import {
  DisableStageTransitionCommand,
  GetPipelineExecutionCommand,
  ListPipelineExecutionsCommand,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import { listActionExecutions } from '../release/job';
import { executionConsoleUrl, ROLLBACK_STAGES, ROLLBACK_VARIABLES } from '../release/rollback-execution';
import { rollbackPlan } from '../release/rollback-plan';
import { resolveTarget, RollbackTarget, TargetError } from '../release/rollback-target';
import { normalizeVersion } from '../release/ledger';
import { Context } from './context';
import { CliError, conflict, EXIT, failed, notFound, toCliError, usage } from './errors';

export interface RollbackOptions {
  to?: string;
  reason?: string;
  yes: boolean;
  wait: boolean;
  pollSeconds: number;
  timeoutMinutes: number;
}

/** Characters CodePipeline accepts in a disabled transition's reason (1-300 of them). */
const TRANSITION_REASON_FORBIDDEN = /[^a-zA-Z0-9!@ ().*?-]+/g;

export function transitionReason(targetVersion: string, reason: string): string {
  return `Rollback to v${targetVersion} - ${reason}`.replace(TRANSITION_REASON_FORBIDDEN, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
}

const RUNNING = new Set(['InProgress', 'Stopping']);
const FINISHED_BADLY = new Set(['Failed', 'Stopped', 'Cancelled', 'Superseded']);

/** The running executions of the rollback pipeline (newest first). */
export async function runningRollbacks(ctx: Context): Promise<string[]> {
  const name = ctx.settings.pipelines.rollback;
  const out = await ctx.call({ resource: `pipeline ${name}` }, () =>
    ctx.codepipeline.send(new ListPipelineExecutionsCommand({ pipelineName: name, maxResults: 20 })),
  );
  return (out.pipelineExecutionSummaries ?? []).filter((e) => RUNNING.has(e.status ?? '')).map((e) => e.pipelineExecutionId ?? '');
}

function targetErrorToCli(err: TargetError, requested: string | undefined): CliError {
  switch (err.problem) {
    case 'invalid-version':
      return usage(`--to ${err.message}`);
    case 'already-current':
      return conflict(`Prod ${err.message.replace(/^prod /, '')}`, 'Pass --to with the version you want prod to run.');
    case 'never-released':
      return notFound(`Unknown version: ${err.message}`, 'Run `history` to see what was released.');
    default:
      return notFound(`Cannot roll back${requested ? ` to ${requested}` : ''}: ${err.message}`, 'Run `history` to see what was released.');
  }
}

/**
 * The template diff of the rollback, as one line; a diff that cannot be made here (no read access
 * to the archive, say) is said, not fatal: the pipeline's Plan step shows the plan before approval.
 */
async function planSummary(ctx: Context, target: RollbackTarget['target']): Promise<string> {
  const { prod } = ctx.settings;
  try {
    const plan = await rollbackPlan(ctx.s3, ctx.prodCloudformation(), target, prod.stackName, prod.region);
    return plan.summary;
  } catch (err) {
    return `could not be worked out here (${(err as Error).message}); the rollback's Plan step shows it before the approval`;
  }
}

export async function rollback(ctx: Context, opts: RollbackOptions): Promise<number> {
  const { settings, io } = ctx;
  const reason = (opts.reason ?? '').trim();
  if (!reason) throw usage('--reason is required: say why prod is rolled back (it goes to the ledger, the approval and the paused transition).');
  if (reason.length > 1000) throw usage('--reason is too long (at most 1000 characters).');
  let requested: string | undefined;
  if (opts.to !== undefined) {
    try {
      requested = normalizeVersion(opts.to);
    } catch (e) {
      throw usage(`--to ${(e as Error).message}`);
    }
  }

  // 1. Who asks (and are there credentials at all).
  const requestedBy = await ctx.callerArn();

  // 2. The plan, from the ledger: what prod runs, what it goes back to.
  let plan: RollbackTarget;
  const { ledger, tableName } = await ctx.ledger();
  try {
    plan = await resolveTarget(ledger, requested ?? '');
  } catch (err) {
    if (err instanceof TargetError) throw targetErrorToCli(err, opts.to);
    throw toCliError(err, { resource: `release ledger table ${tableName}`, region: settings.region });
  }
  const target = plan.target;

  // 3. Not while another rollback runs.
  const running = await runningRollbacks(ctx);
  if (running.length > 0) {
    throw conflict(
      `A rollback is already running: execution ${running[0]} of ${settings.pipelines.rollback}.`,
      `Follow it with \`status\` or ${executionConsoleUrl(settings.region, settings.pipelines.rollback, running[0])}; start another only after it ends (stop it in the console if it is stuck).`,
    );
  }

  const progress = (line: string) => (ctx.json ? io.err(line) : io.out(line));
  const approvalNote = 'the ops owner approves that plan (unless rollbackApproval is off), ';
  progress(`Rollback plan`);
  progress(`  Production (${settings.prod.name}) runs v${plan.fromVersion} according to the release ledger.`);
  progress(`  Target:       v${target.version} (commit ${target.commit.slice(0, 12)}, released ${target.releasedAt})`);
  progress(`  Artifact:     s3://${target.artifact.bucket}/${target.artifact.key} (sha256 ${target.artifact.sha256.slice(0, 12)}...)`);
  progress(`  Reason:       ${reason}`);
  progress(`  Requested by: ${requestedBy}`);
  progress(`  Steps: 1. pause promotions into ${settings.prodStage} of ${settings.pipelines.release} (until \`resume\`)`);
  progress(`         2. start ${settings.pipelines.rollback}: Resolve checks the archive, Plan prepares the change set from it, ${approvalNote}`);
  progress(`            Deploy executes that change set (the archived assembly of v${target.version}: no build, no tests), Verify runs the smoke test, Record writes the ledger.`);
  progress(`  Data is not rolled back: notes written since v${target.version} stay (see docs/runbooks/restore-data.md).`);
  progress(`  Prod plan:    ${await planSummary(ctx, target)}`);

  // 4. Confirmation.
  if (!opts.yes) {
    if (!io.interactive) {
      throw usage('Refusing to roll back without confirmation: stdin is not a terminal.', 'Pass --yes to confirm non-interactively.');
    }
    const answer = (await io.ask(`Roll back ${settings.prod.name} to v${target.version}? Type "yes" to continue: `)).trim().toLowerCase();
    if (answer !== 'yes' && answer !== 'y') throw failed('Rollback cancelled; nothing was changed.');
  }

  // 5. Pause promotions.
  const pauseReason = transitionReason(target.version, reason);
  await ctx.call({ resource: `pipeline ${settings.pipelines.release}` }, () =>
    ctx.codepipeline.send(
      new DisableStageTransitionCommand({ pipelineName: settings.pipelines.release, stageName: settings.prodStage, transitionType: 'Inbound', reason: pauseReason }),
    ),
  );
  progress(`Promotions into ${settings.prodStage} of ${settings.pipelines.release} paused.`);

  // 6. Start the rollback.
  let executionId: string;
  try {
    const started = await ctx.call({ resource: `pipeline ${settings.pipelines.rollback}` }, () =>
      ctx.codepipeline.send(
        new StartPipelineExecutionCommand({
          name: settings.pipelines.rollback,
          variables: [
            { name: ROLLBACK_VARIABLES.targetVersion, value: target.version },
            { name: ROLLBACK_VARIABLES.reason, value: reason },
            { name: ROLLBACK_VARIABLES.requestedBy, value: requestedBy },
          ],
        }),
      ),
    );
    executionId = started.pipelineExecutionId ?? '';
  } catch (err) {
    const e = err as CliError;
    throw new CliError(e.exitCode, `Could not start the rollback: ${e.message}`, `${e.hint ? `${e.hint} ` : ''}Promotions stay paused; run \`resume\` if you will not retry.`);
  }
  const link = executionConsoleUrl(settings.region, settings.pipelines.rollback, executionId);
  const started = { executionId, consoleUrl: link, fromVersion: plan.fromVersion, targetVersion: target.version, reason, requestedBy, pausedStage: settings.prodStage };
  if (!opts.wait) {
    ctx.print({ ...started, status: 'InProgress' }, () => [`Rollback started: execution ${executionId}`, `  ${link}`, 'Follow it with `status`, or run again with --wait next time.']);
    return EXIT.OK;
  }
  progress(`Rollback started: execution ${executionId}`);
  progress(`  ${link}`);
  const final = await follow(ctx, executionId, opts, progress);
  ctx.print({ ...started, status: final }, () => [`Rollback succeeded: ${settings.prod.name} runs v${target.version}. Promotions stay paused until \`resume\`.`]);
  return EXIT.OK;
}

/** Polls the execution until it ends, printing each action's changes; throws when it ends badly. */
export async function follow(ctx: Context, executionId: string, opts: Pick<RollbackOptions, 'pollSeconds' | 'timeoutMinutes'>, progress: (line: string) => void): Promise<string> {
  const name = ctx.settings.pipelines.rollback;
  const startedAt = ctx.now().getTime();
  const seen = new Map<string, string>();
  let approvalHinted = false;
  for (;;) {
    const out = await ctx.call({ resource: `pipeline ${name}` }, () => ctx.codepipeline.send(new GetPipelineExecutionCommand({ pipelineName: name, pipelineExecutionId: executionId })));
    const status = out.pipelineExecution?.status ?? 'Unknown';
    const actions = await ctx.call({ resource: `pipeline ${name}` }, () => listActionExecutions(ctx.codepipeline, name, executionId));
    for (const a of actions) {
      const key = `${a.stageName}/${a.actionName}#${a.actionExecutionId ?? ''}`;
      const line = `${a.status}${a.output?.executionResult?.externalExecutionSummary ? ` - ${a.output.executionResult.externalExecutionSummary}` : ''}`;
      if (seen.get(key) !== line) {
        seen.set(key, line);
        progress(`  ${a.stageName}/${a.actionName}: ${line}`);
      }
      if (!approvalHinted && a.stageName === ROLLBACK_STAGES.approve.stage && a.status === 'InProgress') {
        approvalHinted = true;
        progress(`  Waiting for the ops owner: npm run release -- approve --pipeline rollback --comment "..." (or reject)`);
      }
    }
    if (status === 'Succeeded') return status;
    if (FINISHED_BADLY.has(status)) {
      const failedAction = actions.filter((a) => a.status === 'Failed').pop();
      throw failed(
        `Rollback ${executionId} ${status}${failedAction ? ` at ${failedAction.stageName}/${failedAction.actionName}: ${failedAction.output?.executionResult?.externalExecutionSummary ?? 'see the console'}` : ''}.`,
        'Prod may still run the version it ran before; check `status` and follow docs/runbooks/rollback.md (escalate). Promotions stay paused.',
      );
    }
    if (ctx.now().getTime() - startedAt > opts.timeoutMinutes * 60_000) {
      throw failed(
        `Rollback ${executionId} is still ${status} after ${opts.timeoutMinutes} minutes; stopped waiting (the rollback goes on).`,
        `Follow it at ${executionConsoleUrl(ctx.settings.region, name, executionId)}`,
      );
    }
    await ctx.sleep(opts.pollSeconds * 1000);
  }
}
