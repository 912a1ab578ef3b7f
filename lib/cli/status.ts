/**
 * `status`: the version prod serves (ledger, /health, and the Lambda version its live alias points
 * at, with any CodeDeploy traffic shift in progress), each pipeline's stages and state, pending
 * approvals and paused transitions.
 */
import { DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { GetPipelineStateCommand, GetPipelineStateCommandOutput } from '@aws-sdk/client-codepipeline';
import { Context } from './context';
import { CliError, EXIT } from './errors';
import { LIVE_ALIAS } from '../traffic-shift';

export interface StageStatus {
  name: string;
  status: string;
  executionId?: string;
  /** Set when promotions into this stage are paused. */
  pausedTransition?: { reason: string; by?: string; at?: string };
  pendingApprovals: { action: string; since?: string }[];
}

export interface PipelineStatus {
  name: string;
  found: boolean;
  stages: StageStatus[];
}

export interface ProdStatus {
  environment: string;
  /** What the ledger says prod runs. */
  ledgerVersion?: string;
  ledgerError?: string;
  /** What prod's /health reports. */
  healthVersion?: string;
  healthUrl?: string;
  healthError?: string;
  /** The notes-api function's live alias: the version it serves, and the split while CodeDeploy shifts. */
  alias?: LiveAliasStatus;
}

export interface LiveAliasStatus {
  functionName?: string;
  /** The alias's primary version. */
  version?: string;
  /** While a shift is in progress: every version the alias routes to, with its share (0-1). */
  shifting?: { version: string; weight: number }[];
  error?: string;
}

/** The stack output naming the notes-api function (stacks from before #13 have none). */
export const API_FUNCTION_OUTPUT = 'ApiFunctionName';
export const LIVE_ALIAS_NAME = LIVE_ALIAS;

export interface StatusReport {
  prod: ProdStatus;
  pipelines: PipelineStatus[];
}

export function stagesOf(state: GetPipelineStateCommandOutput): StageStatus[] {
  return (state.stageStates ?? []).map((s) => {
    const t = s.inboundTransitionState;
    const pendingApprovals = (s.actionStates ?? [])
      .filter((a) => a.latestExecution?.status === 'InProgress' && a.latestExecution.token)
      .map((a) => ({ action: a.actionName ?? '', since: a.latestExecution?.lastStatusChange?.toISOString() }));
    return {
      name: s.stageName ?? '',
      status: s.latestExecution?.status ?? 'NotRun',
      executionId: s.latestExecution?.pipelineExecutionId,
      ...(t && t.enabled === false
        ? { pausedTransition: { reason: t.disabledReason ?? '', by: t.lastChangedBy, at: t.lastChangedAt?.toISOString() } }
        : {}),
      pendingApprovals,
    };
  });
}

async function prodStatus(ctx: Context): Promise<ProdStatus> {
  const { prod } = ctx.settings;
  const result: ProdStatus = { environment: prod.name };
  let outputs: Promise<Output[]> | undefined;
  const stackOutputs = (): Promise<Output[]> =>
    (outputs ??= ctx
      .prodCloudformation()
      .send(new DescribeStacksCommand({ StackName: prod.stackName }))
      .then((out) => out.Stacks?.[0]?.Outputs ?? []));
  try {
    result.ledgerVersion = await ctx.withLedger((l) => l.currentVersion());
  } catch (err) {
    if (err instanceof CliError && err.exitCode === EXIT.AUTH) throw err;
    result.ledgerError = (err as Error).message;
  }
  try {
    let base = ctx.settings.healthUrl;
    if (!base) {
      const apiUrl = (await stackOutputs()).find((o) => o.OutputKey === 'ApiUrl')?.OutputValue;
      if (!apiUrl) throw new Error(`stack ${prod.stackName} has no ApiUrl output`);
      base = new URL('health', apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`).toString();
    }
    result.healthUrl = base;
    const res = await ctx.fetch(base, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET ${base} answered ${res.status}`);
    const body = (await res.json()) as { version?: unknown };
    if (typeof body.version !== 'string') throw new Error(`GET ${base} did not report a version`);
    result.healthVersion = body.version;
  } catch (err) {
    result.healthError = (err as Error).message;
  }
  result.alias = await liveAlias(ctx, stackOutputs);
  return result;
}

/** What the live alias serves: GetAlias's version and, during a shift, its RoutingConfig weights. */
async function liveAlias(ctx: Context, stackOutputs: () => Promise<Output[]>): Promise<LiveAliasStatus> {
  let functionName: string | undefined;
  try {
    functionName = (await stackOutputs()).find((o) => o.OutputKey === API_FUNCTION_OUTPUT)?.OutputValue;
    if (!functionName) return { error: `stack ${ctx.settings.prod.stackName} has no ${API_FUNCTION_OUTPUT} output (deployed before traffic shifting: no live alias)` };
    const alias = await ctx.prodLambda().send(new GetAliasCommand({ FunctionName: functionName, Name: LIVE_ALIAS_NAME }));
    if (!alias?.FunctionVersion) throw new Error(`GetAlias ${functionName}:${LIVE_ALIAS_NAME} returned no version`);
    const extra = Object.entries(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).filter(([, w]) => w > 0);
    if (extra.length === 0) return { functionName, version: alias.FunctionVersion };
    const rest = extra.reduce((sum, [, w]) => sum - w, 1);
    return {
      functionName,
      version: alias.FunctionVersion,
      shifting: [{ version: alias.FunctionVersion, weight: Math.round(rest * 1000) / 1000 }, ...extra.map(([version, weight]) => ({ version, weight }))],
    };
  } catch (err) {
    return { ...(functionName ? { functionName } : {}), error: (err as Error).message };
  }
}

function describeAlias(alias: LiveAliasStatus | undefined): string {
  if (!alias || alias.error) return `unknown (${alias?.error ?? 'not read'})`;
  const name = `${alias.functionName}:${LIVE_ALIAS_NAME}`;
  if (!alias.shifting) return `version ${alias.version} (${name}), no traffic shift in progress`;
  const split = alias.shifting.map((s) => `version ${s.version} ${Math.round(s.weight * 100)}%`).join(', ');
  return `SHIFTING (${name}): ${split}`;
}

export async function status(ctx: Context): Promise<number> {
  const { pipelines } = ctx.settings;
  const prod = await prodStatus(ctx);
  const report: StatusReport = { prod, pipelines: [] };
  const missing: string[] = [];
  for (const name of [pipelines.release, pipelines.hotfix, pipelines.rollback]) {
    try {
      const state = await ctx.call({ resource: `pipeline ${name}` }, () => ctx.codepipeline.send(new GetPipelineStateCommand({ name })));
      report.pipelines.push({ name, found: true, stages: stagesOf(state) });
    } catch (err) {
      if (!(err instanceof CliError) || err.exitCode !== EXIT.NOT_FOUND) throw err;
      missing.push(name);
      report.pipelines.push({ name, found: false, stages: [] });
    }
  }

  ctx.print(report, () => {
    const lines: string[] = [];
    const serves = prod.healthVersion ?? prod.ledgerVersion;
    lines.push(`Production (${prod.environment}) serves ${serves ? `v${serves}` : 'an unknown version'}`);
    lines.push(`  ledger:  ${prod.ledgerVersion ? `v${prod.ledgerVersion}` : prod.ledgerError ? `unknown (${prod.ledgerError})` : 'no release recorded'}`);
    lines.push(`  /health: ${prod.healthVersion ? `v${prod.healthVersion} (${prod.healthUrl})` : `unknown (${prod.healthError})`}`);
    lines.push(`  alias:   ${describeAlias(prod.alias)}`);
    if (prod.ledgerVersion && prod.healthVersion && prod.ledgerVersion !== prod.healthVersion) {
      lines.push(`  WARNING: the ledger says v${prod.ledgerVersion} but prod reports v${prod.healthVersion}; a deploy may be in progress or unrecorded.`);
    }
    for (const p of report.pipelines) {
      lines.push('');
      if (!p.found) {
        lines.push(`Pipeline ${p.name}: NOT FOUND in ${ctx.settings.region}`);
        continue;
      }
      lines.push(`Pipeline ${p.name}`);
      for (const s of p.stages) {
        lines.push(`  ${s.name.padEnd(14)} ${s.status}${s.executionId ? `  (${s.executionId})` : ''}`);
        if (s.pausedTransition) {
          lines.push(`    PAUSED: promotions into ${s.name} are disabled: "${s.pausedTransition.reason}"${s.pausedTransition.by ? ` by ${s.pausedTransition.by}` : ''}${s.pausedTransition.at ? ` at ${s.pausedTransition.at}` : ''}`);
        }
        for (const a of s.pendingApprovals) {
          lines.push(`    WAITING FOR APPROVAL: ${a.action}${a.since ? ` since ${a.since}` : ''} (approve/reject --pipeline ${p.name} --action ${a.action})`);
        }
      }
    }
    return lines;
  });

  if (missing.length > 0) {
    throw new CliError(
      EXIT.NOT_FOUND,
      `Pipeline${missing.length > 1 ? 's' : ''} not found in ${ctx.settings.region}: ${missing.join(', ')}`,
      'Deploy the NotesPipeline stack, or pass the right --region / pipeline names.',
    );
  }
  return EXIT.OK;
}
