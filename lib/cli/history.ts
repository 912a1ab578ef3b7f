/** `history`: releases, rollbacks and failed attempts from the ledger, newest first. */
import { LedgerEntry } from '../release/ledger';
import { Context } from './context';
import { EXIT } from './errors';

export function describeEntry(e: LedgerEntry): string {
  if (e.kind === 'RELEASE') {
    return `${e.releasedAt}  RELEASE   v${e.version}  commit ${e.commit.slice(0, 12)}  ${e.pipelineName}/${e.pipelineExecutionId}  ${e.changeSummary}${e.planSummary ? `  [${e.planSummary}]` : ''}`;
  }
  if (e.kind === 'FAILED') {
    const rollback = e.rollback ? `stage rollback ${e.rollback.outcome} at ${e.rollback.finishedAt}` : 'no stage rollback';
    const version = e.version === 'unknown' ? 'version unknown' : `v${e.version}`;
    const message = e.failureMessage.replace(/\s+/g, ' ').trim();
    return `${e.detectedAt}  FAILED    ${version}  commit ${e.commit.slice(0, 12)}  ${e.pipelineName}/${e.pipelineExecutionId}  ${e.stageName}/${e.failedAction}: ${message}  (${rollback})`;
  }
  return `${e.recordedAt}  ROLLBACK  v${e.fromVersion} -> v${e.toVersion}  ${e.outcome}  by ${e.requestedBy}  "${e.reason}"  (${e.pipelineExecutionId})`;
}

export async function history(ctx: Context, limit: number): Promise<number> {
  const entries = await ctx.withLedger((l) => l.history(limit));
  ctx.print({ entries }, () => (entries.length === 0 ? ['The release ledger has no entries yet.'] : entries.map(describeEntry)));
  return EXIT.OK;
}
