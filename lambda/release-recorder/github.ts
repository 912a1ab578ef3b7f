/**
 * The few GitHub REST calls the release step makes: create the release tag, publish the release,
 * and list the commits since the previous release. Plain `fetch` with a timeout; the base URL is
 * configurable so tests talk to a local HTTP server.
 */
export interface GitHubOptions {
  baseUrl: string;
  token: string;
  owner: string;
  repo: string;
  timeoutMs?: number;
}

export interface CommitSummary {
  sha: string;
  subject: string;
}

export class GitHubError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'GitHubError';
  }
}

export class GitHub {
  constructor(private readonly opts: GitHubOptions) {}

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const url = `${this.opts.baseUrl.replace(/\/$/, '')}/repos/${this.opts.owner}/${this.opts.repo}${path}`;
    const res = await fetch(url, {
      method,
      headers: {
        Accept: 'application/vnd.github+json',
        Authorization: `Bearer ${this.opts.token}`,
        'X-GitHub-Api-Version': '2022-11-28',
        'User-Agent': 'notes-release-recorder',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = { message: text.slice(0, 200) };
    }
    return { status: res.status, json };
  }

  private static describe(status: number, json: unknown): string {
    const message = typeof json === 'object' && json !== null && 'message' in json ? String((json as { message: unknown }).message) : '';
    return `GitHub answered ${status}${message ? ` (${message})` : ''}`;
  }

  /** Creates the lightweight tag `refs/tags/<tag>` at `sha`; an existing tag at the same commit is fine. */
  async createTag(tag: string, sha: string): Promise<'created' | 'existed'> {
    const created = await this.call('POST', '/git/refs', { ref: `refs/tags/${tag}`, sha });
    if (created.status === 201) return 'created';
    if (created.status === 422) {
      const existing = await this.call('GET', `/git/ref/tags/${encodeURIComponent(tag)}`);
      const existingSha = (existing.json as { object?: { sha?: string } } | undefined)?.object?.sha;
      if (existing.status === 200 && existingSha === sha) return 'existed';
      if (existing.status === 200) throw new GitHubError(422, `tag ${tag} already exists at ${existingSha}, not at ${sha}`);
    }
    throw new GitHubError(created.status, `creating tag ${tag}: ${GitHub.describe(created.status, created.json)}`);
  }

  /** Publishes a release for the tag; one that already exists (a retried step) is left as it is. */
  async createRelease(tag: string, sha: string, body: string): Promise<{ url?: string; existed: boolean }> {
    const res = await this.call('POST', '/releases', { tag_name: tag, target_commitish: sha, name: tag, body, draft: false, prerelease: false });
    if (res.status === 201) return { url: (res.json as { html_url?: string }).html_url, existed: false };
    const alreadyExists = res.status === 422 && JSON.stringify(res.json).includes('already_exists');
    if (alreadyExists) return { existed: true };
    throw new GitHubError(res.status, `publishing release ${tag}: ${GitHub.describe(res.status, res.json)}`);
  }

  /** Commits reachable from `head` but not from `base` (oldest first), at most `limit`. */
  async commitsBetween(base: string, head: string, limit = 100): Promise<CommitSummary[]> {
    const res = await this.call('GET', `/compare/${encodeURIComponent(base)}...${encodeURIComponent(head)}`);
    if (res.status !== 200) throw new GitHubError(res.status, `comparing ${base}...${head}: ${GitHub.describe(res.status, res.json)}`);
    const commits = (res.json as { commits?: { sha: string; commit: { message: string } }[] }).commits ?? [];
    return commits.slice(-limit).map((c) => ({ sha: c.sha, subject: c.commit.message.split('\n')[0] }));
  }
}
