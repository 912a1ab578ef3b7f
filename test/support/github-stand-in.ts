/**
 * A local stand-in for the GitHub REST API over real HTTP, recording every request: the calls the
 * release recorder makes (tags, releases, compare) and those the Build step's approvals gate makes
 * (a commit's pull requests, reviews, files, team members), with GitHub's pagination (per_page,
 * page, Link header) and its rate-limit answer. Tests set `state`; `reset()` between tests.
 */
import { createServer, IncomingMessage, Server } from 'http';
import { AddressInfo, createServer as createNetServer } from 'net';
import type { PullRequest, PullRequestFile, Review } from '../../lib/release/pr-approvals';

export interface StandInRequest {
  method: string;
  /** Path and query, as requested. */
  path: string;
  authorization?: string;
  body?: Record<string, unknown>;
}

export interface GitHubState {
  /** The token the stand-in accepts (`Bearer <token>`); anything else is 401. */
  token: string;
  refs: Record<string, string>;
  releases: Set<string>;
  compareCommits: { sha: string; commit: { message: string } }[];
  /** GET /repos/{o}/{r}/commits/{sha}/pulls */
  pullsByCommit: Record<string, PullRequest[]>;
  /** GET /repos/{o}/{r}/pulls/{n}/reviews */
  reviews: Record<number, Review[]>;
  /** GET /repos/{o}/{r}/pulls/{n}/files */
  files: Record<number, PullRequestFile[]>;
  /** GET /orgs/{org}/teams/{slug}/members, by `org/slug` */
  teams: Record<string, string[]>;
  /** The largest page the stand-in serves (GitHub: 100); lower it to exercise pagination. */
  maxPerPage: number;
  /** Answer every request as GitHub does when the rate limit is exhausted. */
  rateLimited: boolean;
}

export interface GitHubStandIn {
  url: string;
  owner: string;
  repo: string;
  requests: StandInRequest[];
  state: GitHubState;
  reset(): void;
  close(): Promise<void>;
}

/** The reset time the rate-limited answer reports (x-ratelimit-reset, epoch seconds). */
export const RATE_LIMIT_RESET = 1767225600; // 2026-01-01T00:00:00Z

function freshState(): GitHubState {
  return {
    token: 'ghp_test_token',
    refs: {},
    releases: new Set(),
    compareCommits: [],
    pullsByCommit: {},
    reviews: {},
    files: {},
    teams: {},
    maxPerPage: 100,
    rateLimited: false,
  };
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : undefined;
}

export async function startGitHubStandIn(owner = 'example-org', repo = 'notes'): Promise<GitHubStandIn> {
  const standIn: GitHubStandIn = {
    url: '',
    owner,
    repo,
    requests: [],
    state: freshState(),
    reset() {
      standIn.requests = [];
      standIn.state = freshState();
    },
    close: async () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = req.url ?? '';
    standIn.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
    const state = standIn.state;
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(json));
    };
    const url = new URL(path, standIn.url);
    const route = url.pathname;
    /** One page of a list, with GitHub's Link header when there are more. */
    const page = (items: unknown[]) => {
      const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30), state.maxPerPage);
      const n = Number(url.searchParams.get('page') ?? 1);
      const last = Math.max(1, Math.ceil(items.length / perPage));
      const link = (p: number) => {
        const u = new URL(url.toString());
        u.searchParams.set('page', String(p));
        return u.toString();
      };
      const headers: Record<string, string> = n < last ? { link: `<${link(n + 1)}>; rel="next", <${link(last)}>; rel="last"` } : {};
      send(200, items.slice((n - 1) * perPage, n * perPage), headers);
    };
    if (state.rateLimited) {
      return send(403, { message: `API rate limit exceeded for user ID 1.` }, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(RATE_LIMIT_RESET) });
    }
    if (req.headers.authorization !== `Bearer ${state.token}`) return send(401, { message: 'Bad credentials' });
    const base = `/repos/${owner}/${repo}`;
    let m: RegExpExecArray | null;
    if (req.method === 'POST' && route === `${base}/git/refs`) {
      const ref = String(body?.ref);
      if (state.refs[ref]) return send(422, { message: 'Reference already exists' });
      state.refs[ref] = String(body?.sha);
      return send(201, { ref, object: { sha: body?.sha } });
    }
    if (req.method === 'GET' && route.startsWith(`${base}/git/ref/tags/`)) {
      const ref = `refs/tags/${decodeURIComponent(route.slice(`${base}/git/ref/tags/`.length))}`;
      return state.refs[ref] ? send(200, { ref, object: { sha: state.refs[ref] } }) : send(404, { message: 'Not Found' });
    }
    if (req.method === 'POST' && route === `${base}/releases`) {
      const tag = String(body?.tag_name);
      if (state.releases.has(tag)) return send(422, { message: 'Validation Failed', errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }] });
      state.releases.add(tag);
      return send(201, { html_url: `https://github.com/${owner}/${repo}/releases/tag/${tag}` });
    }
    if (req.method === 'GET' && route.startsWith(`${base}/compare/`)) return send(200, { commits: state.compareCommits });
    if (req.method === 'GET' && (m = new RegExp(`^${base}/commits/([0-9a-f]+)/pulls$`).exec(route))) return page(state.pullsByCommit[m[1]] ?? []);
    if (req.method === 'GET' && (m = new RegExp(`^${base}/pulls/(\\d+)/reviews$`).exec(route))) {
      const reviews = state.reviews[Number(m[1])];
      return reviews ? page(reviews) : send(404, { message: 'Not Found' });
    }
    if (req.method === 'GET' && (m = new RegExp(`^${base}/pulls/(\\d+)/files$`).exec(route))) {
      const files = state.files[Number(m[1])];
      return files ? page(files) : send(404, { message: 'Not Found' });
    }
    if (req.method === 'GET' && (m = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/members$/.exec(route))) {
      const members = state.teams[`${m[1]}/${m[2]}`];
      return members ? page(members.map((login) => ({ login }))) : send(404, { message: 'Not Found' });
    }
    return send(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return standIn;
}

/**
 * GitHub unreachable, deterministically: a TCP listener that drops every connection as soon as it
 * opens (a freed port could be taken by another process meanwhile).
 */
export async function startUnreachableGitHub(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createNetServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
