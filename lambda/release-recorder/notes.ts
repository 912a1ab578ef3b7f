/** Release notes as Markdown: what was released, from where, by whose approval, and how it checked out. */
import { CommitSummary } from './github';

export interface ReleaseNotesInput {
  version: string;
  releasedAt: string;
  commit: string;
  repoUrl: string;
  pullRequestUrl?: string;
  /** Who approved the pull request on GitHub; undefined when not known. */
  pullRequestApprovers?: string[];
  /** Warnings the build raised (the decision-log check). */
  knownIssues?: string[];
  previousVersion?: string;
  /** Commits since the previous release's tag, when GitHub could list them. */
  commits?: CommitSummary[];
  /** The build's one-line summary, used when the commit list is unavailable. */
  changeSummary: string;
  pipelineName: string;
  pipelineExecutionId: string;
  approvals: { approver: string; comment?: string; stage: string; action: string }[];
  smokeResults: { stage: string; summary: string }[];
  /** Each stage's CodeDeploy deployment of the live alias (absent: recorded before traffic shifting). */
  trafficShifts?: { stage: string; deploymentId: string; outcome: string }[];
  archive: { bucket: string; key: string; sha256: string; versionId?: string };
  /** The prod plan the approvers saw. */
  plan?: { summary: string; key?: string; sha256?: string };
}

export function renderReleaseNotes(n: ReleaseNotesInput): string {
  const lines: string[] = [];
  lines.push(`# Release v${n.version}`, '');
  lines.push(`- Released: ${n.releasedAt}`);
  lines.push(`- Commit: [${n.commit.slice(0, 12)}](${n.repoUrl}/commit/${n.commit})`);
  lines.push(`- Pull request: ${n.pullRequestUrl ?? 'none recorded'}`);
  if (n.pullRequestApprovers) lines.push(`- Pull request approved by: ${n.pullRequestApprovers.length ? n.pullRequestApprovers.join(', ') : 'nobody'}`);
  lines.push(`- Pipeline: ${n.pipelineName}, execution ${n.pipelineExecutionId}`);
  lines.push(`- Cloud assembly: s3://${n.archive.bucket}/${n.archive.key} (sha256 ${n.archive.sha256}${n.archive.versionId ? `, version ${n.archive.versionId}` : ''})`);
  if (n.plan) {
    const where = n.plan.key ? ` (s3://${n.archive.bucket}/${n.plan.key}${n.plan.sha256 ? `, plan.json sha256 ${n.plan.sha256}` : ''})` : '';
    lines.push(`- Prod plan: ${n.plan.summary}${where}`);
  }
  lines.push('');
  lines.push(n.previousVersion ? `## Changes since v${n.previousVersion}` : '## Changes');
  lines.push('');
  if (n.commits && n.commits.length > 0) {
    for (const c of n.commits) lines.push(`- ${c.subject} (${c.sha.slice(0, 7)})`);
  } else {
    lines.push(n.changeSummary || 'No change summary available.');
  }
  lines.push('', '## Approvals', '');
  if (n.approvals.length === 0) lines.push('- none recorded');
  for (const a of n.approvals) lines.push(`- ${a.stage}/${a.action}: ${a.approver}${a.comment ? ` ("${a.comment}")` : ''}`);
  lines.push('', '## Smoke tests', '');
  if (n.smokeResults.length === 0) lines.push('- none recorded');
  for (const s of n.smokeResults) lines.push(`- ${s.stage}: ${s.summary}`);
  lines.push('', '## Known issues', '');
  if (!n.knownIssues || n.knownIssues.length === 0) lines.push('- none recorded');
  for (const k of n.knownIssues ?? []) lines.push(`- ${k}`);
  if (n.trafficShifts) {
    lines.push('', '## Traffic shift (CodeDeploy)', '');
    if (n.trafficShifts.length === 0) lines.push('- none recorded');
    for (const t of n.trafficShifts) {
      lines.push(`- ${t.stage}: ${t.deploymentId === 'none' ? 'no deployment' : `deployment ${t.deploymentId}`}, ${t.outcome}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}
