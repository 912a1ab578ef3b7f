/**
 * The pull-request approvals gate of the Build step (issue #15).
 *
 * A regular release is refused unless the commit came to the release branch through a merged pull
 * request that someone other than its author approved, every changed path with owners in
 * CODEOWNERS has an approval from one of them, and a change to a security-sensitive path has an
 * approval from the security group. Only each reviewer's latest review counts: a dismissed
 * approval, changes requested after it, or an approval of a commit that is no longer the pull
 * request's head (a later push) does not. A hotfix is never refused here; it records the pull
 * request it came from, if any, and who approved it.
 *
 * `decideApprovals` is the pure decision over what GitHub said; `GitHubReader` is the read-only
 * REST client (pagination through the Link header, clear errors when GitHub cannot be asked).
 */
import { matchesAny, ownersOf, CodeOwnersRule } from './codeowners';
import { MAX_KNOWN_ISSUES_CHARS, MAX_PR_APPROVERS_CHARS } from './approval-limits';

export interface PullRequest {
  number: number;
  html_url: string;
  state: string;
  title?: string;
  merged_at: string | null;
  merge_commit_sha: string | null;
  user: { login: string } | null;
  head: { sha: string; ref?: string };
  base: { ref: string };
}

export interface Review {
  user: { login: string } | null;
  state: string;
  commit_id: string | null;
  submitted_at?: string | null;
}

export interface PullRequestFile {
  filename: string;
  status?: string;
  previous_filename?: string;
}

/** The gate's configuration (`notes.pipeline.pullRequestApprovals` in cdk.json, plus the branch). */
export interface ApprovalPolicy {
  /** The branch a regular release is built from (`notes.pipeline.source.branch`). */
  releaseBranch: string;
  /** Gitignore-style patterns of the paths that need a security review. */
  securityPaths: string[];
  /** The security group: a GitHub team (`org/slug`) and/or a list of logins. */
  securityReviewers: { team?: string; logins?: string[] };
  /** Gitignore-style patterns of architecture files (constructs, stacks, pipeline) for the decision-log warning. */
  architecturePaths: string[];
}

export interface ApprovalFacts {
  commit: string;
  pullRequest: PullRequest;
  reviews: Review[];
  files: PullRequestFile[];
  /** The CODEOWNERS file of the release commit, when there is one. */
  codeOwners?: { path: string; rules: CodeOwnersRule[] };
  /** Members of the teams the decision needs, by lower-case `org/slug`. */
  teamMembers: Record<string, string[]>;
  policy: ApprovalPolicy;
}

export interface ApprovalDecision {
  /** Logins whose latest review approves the pull request's head, author excluded. */
  approvers: string[];
  /** Why the release is refused; empty when it may go ahead. */
  problems: string[];
  /** Reviews that did not count, and why (shown with a refusal). */
  ignored: string[];
}

const short = (sha: string | null | undefined) => (sha ?? 'unknown').slice(0, 7);
const lower = (s: string) => s.toLowerCase();

/** `@org/team` -> `org/team`; `@login` -> undefined. */
function teamOf(owner: string): string | undefined {
  const m = /^@([^/\s]+\/[^/\s]+)$/.exec(owner);
  return m ? lower(m[1]) : undefined;
}

/**
 * The pull request that brought `commit` to `branch`: merged, into that branch, with the commit as
 * its merge commit. Without a branch (a hotfix) any merged pull request whose merge commit it is,
 * else an open one whose head it is.
 */
export function selectPullRequest(pulls: PullRequest[], commit: string, branch?: string): PullRequest | undefined {
  const c = lower(commit);
  const merged = pulls.filter((p) => p.merged_at && p.merge_commit_sha && lower(p.merge_commit_sha) === c);
  if (branch !== undefined) return merged.find((p) => p.base.ref === branch);
  return merged[0] ?? pulls.find((p) => p.state === 'open' && lower(p.head.sha) === c);
}

/** Why no pull request qualifies, naming the ones GitHub associates with the commit. */
export function noPullRequestProblem(pulls: PullRequest[], commit: string, branch: string): string {
  const listed = pulls.map((p) => `#${p.number} (${p.merged_at ? 'merged' : p.state} into ${p.base.ref}${p.merged_at && p.merge_commit_sha ? `, merge commit ${short(p.merge_commit_sha)}` : ''})`);
  return (
    `no merged pull request brought commit ${short(commit)} to ${branch} ` +
    (listed.length ? `(GitHub associates it with ${listed.join(', ')} only)` : '(GitHub associates no pull request with it: pushed straight to the branch?)')
  );
}

/** Each reviewer's latest deciding review: approvals that count, and those that do not with the reason. */
export function latestApprovals(reviews: Review[], author: string | undefined, headSha: string): { approvers: string[]; ignored: string[] } {
  const ordered = reviews
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (a.r.submitted_at ?? '').localeCompare(b.r.submitted_at ?? '') || a.i - b.i)
    .map(({ r }) => r);
  const latest = new Map<string, { login: string; state: string; commit: string | null; approvedBefore: boolean }>();
  for (const r of ordered) {
    if (!r.user?.login) continue;
    // A comment does not change a reviewer's decision; a pending review is not submitted.
    if (!['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED'].includes(r.state)) continue;
    const key = lower(r.user.login);
    const before = latest.get(key);
    latest.set(key, { login: r.user.login, state: r.state, commit: r.commit_id, approvedBefore: (before?.approvedBefore ?? false) || before?.state === 'APPROVED' });
  }
  const approvers: string[] = [];
  const ignored: string[] = [];
  for (const { login, state, commit, approvedBefore } of latest.values()) {
    if (state === 'DISMISSED') ignored.push(`${login}'s review was dismissed`);
    else if (state === 'CHANGES_REQUESTED') ignored.push(approvedBefore ? `${login} requested changes after approving` : `${login} requested changes`);
    else if (author && lower(login) === lower(author)) ignored.push(`${login} is the author`);
    else if (!commit || lower(commit) !== lower(headSha)) ignored.push(`${login} approved ${short(commit)}, not the head ${short(headSha)} (pushed after the review)`);
    else approvers.push(login);
  }
  return { approvers: approvers.sort((a, b) => a.localeCompare(b)), ignored };
}

/** Every path the pull request touched, a rename's old name included. */
export function changedPaths(files: PullRequestFile[]): string[] {
  return [...new Set(files.flatMap((f) => (f.previous_filename ? [f.filename, f.previous_filename] : [f.filename])))];
}

/** The teams whose members the decision needs: code-owner teams of the changed paths and the security team. */
export function teamsNeeded(files: PullRequestFile[], codeOwners: ApprovalFacts['codeOwners'], policy: ApprovalPolicy): string[] {
  const teams = new Set<string>();
  if (codeOwners) {
    for (const path of changedPaths(files)) for (const owner of ownersOf(path, codeOwners.rules).owners) {
      const team = teamOf(owner);
      if (team) teams.add(team);
    }
  }
  if (policy.securityReviewers.team && changedPaths(files).some((p) => matchesAny(p, policy.securityPaths))) teams.add(lower(policy.securityReviewers.team));
  return [...teams];
}

function listSome(items: string[], max = 3): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** The decision: which approvals count and what, if anything, is missing. */
export function decideApprovals(f: ApprovalFacts): ApprovalDecision {
  const pr = f.pullRequest;
  const author = pr.user?.login;
  const { approvers, ignored } = latestApprovals(f.reviews, author, pr.head.sha);
  const problems: string[] = [];
  const isMember = (login: string, team: string) => (f.teamMembers[lower(team)] ?? []).some((m) => lower(m) === lower(login));
  const satisfies = (login: string, owner: string) => {
    const team = teamOf(owner);
    return team ? isMember(login, team) : lower(owner) === `@${lower(login)}`;
  };

  if (approvers.length === 0) {
    problems.push(`it has no approving review from someone other than its author${author ? ` (${author})` : ''}`);
  }

  const paths = changedPaths(f.files);
  if (f.codeOwners) {
    // Group the paths no owner approved by the CODEOWNERS line that owns them.
    const unmet = new Map<number, { owners: string[]; paths: string[] }>();
    for (const path of paths) {
      const { owners, rule } = ownersOf(path, f.codeOwners.rules);
      if (!rule || owners.length === 0) continue;
      if (approvers.some((a) => owners.some((o) => satisfies(a, o)))) continue;
      const entry = unmet.get(rule.line) ?? { owners, paths: [] };
      entry.paths.push(path);
      unmet.set(rule.line, entry);
    }
    for (const [line, { owners, paths: owned }] of unmet) {
      problems.push(`no code owner approved ${listSome(owned)} (owners ${owners.join(' ')}, ${f.codeOwners.path} line ${line})`);
    }
  }

  const sensitive = paths.filter((p) => matchesAny(p, f.policy.securityPaths));
  if (sensitive.length > 0) {
    const { team, logins = [] } = f.policy.securityReviewers;
    const security = approvers.filter((a) => logins.some((l) => lower(l) === lower(a)) || (team !== undefined && isMember(a, team)));
    if (security.length === 0) {
      const group = [...(team ? [`@${team}`] : []), ...logins.map((l) => `@${l}`)].join(', ');
      problems.push(`it changes security-sensitive paths (${listSome(sensitive)}) and nobody in the security group (${group}) approved`);
    }
  }
  return { approvers, problems, ignored };
}

/** The refusal text: the pull request, everything missing, and the reviews that did not count. */
export function refusalMessage(pr: PullRequest, decision: ApprovalDecision): string {
  const ignored = decision.ignored.length ? ` Not counted: ${decision.ignored.join('; ')}.` : '';
  return `pull request approvals: release refused: PR #${pr.number} (${pr.html_url}): ${decision.problems.join('; ')}.${ignored}`;
}

/** Longest PR_APPROVERS value; it travels in a pipeline variable and the approval text. */
export const MAX_APPROVERS_TEXT = MAX_PR_APPROVERS_CHARS;

/** `alice, bob`, cut with `(+n more)` to fit the pipeline variable; `none` when empty. */
export function approversText(approvers: string[], max = MAX_APPROVERS_TEXT): string {
  if (approvers.length === 0) return 'none';
  for (let shown = approvers.length; shown > 0; shown--) {
    const rest = approvers.length - shown;
    const text = approvers.slice(0, shown).join(', ') + (rest ? ` (+${rest} more)` : '');
    if (text.length <= max) return text;
  }
  return `${approvers.length} approvers`;
}

// --- the decision-log warning ---------------------------------------------------------------

export const DECISION_LOG = 'docs/01-decision-log.md';
/** Longest KNOWN_ISSUES value (pipeline variable and approval text). */
export const MAX_KNOWN_ISSUES_TEXT = MAX_KNOWN_ISSUES_CHARS;

/**
 * The soft check: architecture files changed since the previous release but no entry of the
 * decision log did. Returns the warning, or undefined. Never refuses.
 */
export function decisionLogWarning(changed: string[], architecturePaths: string[], since: string): string | undefined {
  if (changed.includes(DECISION_LOG)) return undefined;
  const architecture = changed.filter((p) => matchesAny(p, architecturePaths));
  if (architecture.length === 0) return undefined;
  const text = `architecture files changed since ${since} (${listSome(architecture, 2)}) but ${DECISION_LOG} did not`;
  return boundText(text.length <= MAX_KNOWN_ISSUES_TEXT ? text : `architecture files changed since ${since} (${architecture.length} files) but ${DECISION_LOG} did not`);
}

/** Cuts a KNOWN_ISSUES value to its bound. */
export function boundText(text: string, max = MAX_KNOWN_ISSUES_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

// --- the read-only GitHub client ------------------------------------------------------------

export type GitHubReadFailure = 'unreachable' | 'rate-limited' | 'refused';

/** GitHub could not be asked: the gate cannot be decided, so the build stops. */
export class GitHubReadError extends Error {
  constructor(readonly failure: GitHubReadFailure, message: string) {
    super(message);
    this.name = 'GitHubReadError';
  }
}

export interface GitHubReaderOptions {
  baseUrl: string;
  token: string;
  owner: string;
  repo: string;
  timeoutMs?: number;
  /** Safety stop on pagination (GitHub lists at most 3000 files of a pull request). */
  maxPages?: number;
}

/** The `next` link of a Link header, if any. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
    if (m && m[2].split(/\s+/).includes('next')) return m[1];
  }
  return undefined;
}

export class GitHubReader {
  private readonly origin: string;
  private readonly base: string;

  constructor(private readonly opts: GitHubReaderOptions) {
    this.base = opts.baseUrl.replace(/\/$/, '');
    this.origin = new URL(this.base).origin;
  }

  private async get(url: string): Promise<{ json: unknown; next?: string }> {
    const path = url.startsWith(this.base) ? url.slice(this.base.length) : url;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: {
          Accept: 'application/vnd.github+json',
          Authorization: `Bearer ${this.opts.token}`,
          'X-GitHub-Api-Version': '2022-11-28',
          'User-Agent': 'notes-release-build',
        },
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new GitHubReadError('unreachable', `GitHub is unreachable at ${this.origin} (GET ${path}: ${why})`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = { message: text.slice(0, 200) };
    }
    if (res.status === 200) {
      const next = nextLink(res.headers.get('link'));
      // The token is only ever sent to GitHub's own origin, whatever a Link header says.
      if (next && new URL(next).origin !== this.origin) throw new GitHubReadError('refused', `GitHub's next page for GET ${path} points to another origin (${new URL(next).origin})`);
      return { json, next };
    }
    const message = typeof json === 'object' && json !== null && 'message' in json ? String((json as { message: unknown }).message) : '';
    const remaining = res.headers.get('x-ratelimit-remaining');
    if ((res.status === 403 || res.status === 429) && (remaining === '0' || res.headers.get('retry-after') !== null)) {
      const reset = Number(res.headers.get('x-ratelimit-reset'));
      const when = Number.isFinite(reset) && reset > 0 ? `until ${new Date(reset * 1000).toISOString()}` : `for ${res.headers.get('retry-after') ?? 'a while'} s`;
      throw new GitHubReadError('rate-limited', `GitHub's API rate limit is exhausted ${when} (GET ${path} answered ${res.status})`);
    }
    throw new GitHubReadError('refused', `GitHub answered ${res.status}${message ? ` (${message})` : ''} to GET ${path}`);
  }

  /** Every page of a list endpoint, following the Link header. */
  private async list<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let url: string | undefined = `${this.base}${path}${path.includes('?') ? '&' : '?'}per_page=100`;
    for (let page = 0; url; page++) {
      if (page >= (this.opts.maxPages ?? 50)) throw new GitHubReadError('refused', `GitHub kept paginating ${path} past ${page} pages`);
      const { json, next }: { json: unknown; next?: string } = await this.get(url);
      if (!Array.isArray(json)) throw new GitHubReadError('refused', `GitHub answered GET ${path} with something other than a list`);
      items.push(...(json as T[]));
      url = next;
    }
    return items;
  }

  private repoPath(path: string): string {
    return `/repos/${encodeURIComponent(this.opts.owner)}/${encodeURIComponent(this.opts.repo)}${path}`;
  }

  /** The pull requests GitHub associates with a commit. */
  associatedPullRequests(sha: string): Promise<PullRequest[]> {
    return this.list<PullRequest>(this.repoPath(`/commits/${encodeURIComponent(sha)}/pulls`));
  }

  reviews(number: number): Promise<Review[]> {
    return this.list<Review>(this.repoPath(`/pulls/${number}/reviews`));
  }

  files(number: number): Promise<PullRequestFile[]> {
    return this.list<PullRequestFile>(this.repoPath(`/pulls/${number}/files`));
  }

  /** Logins of a team's members (`org/slug`), child teams' members included as GitHub lists them. */
  async teamMembers(team: string): Promise<string[]> {
    const [org, slug] = team.split('/');
    const members = await this.list<{ login: string }>(`/orgs/${encodeURIComponent(org)}/teams/${encodeURIComponent(slug)}/members`);
    return members.map((m) => m.login);
  }
}

// --- the gate, end to end -------------------------------------------------------------------

export interface GateResult {
  pullRequest?: PullRequest;
  approvers: string[];
  /** Set when a regular release must be refused. */
  refusal?: string;
}

/**
 * Asks GitHub about the commit and decides. `kind: 'hotfix'` never refuses: it returns the pull
 * request the commit came from, if any, and its approvers. Throws `GitHubReadError` when GitHub
 * cannot be asked.
 */
export async function checkPullRequestApprovals(
  github: GitHubReader,
  input: { kind: 'release' | 'hotfix'; commit: string; policy: ApprovalPolicy; codeOwners?: ApprovalFacts['codeOwners'] },
): Promise<GateResult> {
  const pulls = await github.associatedPullRequests(input.commit);
  const pr = selectPullRequest(pulls, input.commit, input.kind === 'release' ? input.policy.releaseBranch : undefined);
  if (!pr) {
    if (input.kind === 'hotfix') return { approvers: [] };
    return { approvers: [], refusal: `pull request approvals: release refused: ${noPullRequestProblem(pulls, input.commit, input.policy.releaseBranch)}. Merge the change through a reviewed pull request.` };
  }
  if (input.kind === 'hotfix') {
    const reviews = await github.reviews(pr.number);
    return { pullRequest: pr, approvers: latestApprovals(reviews, pr.user?.login, pr.head.sha).approvers };
  }
  const [reviews, files] = await Promise.all([github.reviews(pr.number), github.files(pr.number)]);
  const teams = teamsNeeded(files, input.codeOwners, input.policy);
  const members = await Promise.all(teams.map((t) => github.teamMembers(t)));
  const teamMembers = Object.fromEntries(teams.map((t, i) => [t, members[i]]));
  const decision = decideApprovals({ commit: input.commit, pullRequest: pr, reviews, files, codeOwners: input.codeOwners, teamMembers, policy: input.policy });
  return { pullRequest: pr, approvers: decision.approvers, ...(decision.problems.length ? { refusal: refusalMessage(pr, decision) } : {}) };
}
