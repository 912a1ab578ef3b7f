import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DEFAULT_ARCHITECTURE_PATHS, DEFAULT_SECURITY_PATHS, parseConfig } from '../../lib/config';
import { repoConfig } from '../infra/fixture';
import { matchesPattern, ownersOf, parseCodeOwners } from '../../lib/release/codeowners';
import { approversText, decisionLogWarning, MAX_APPROVERS_TEXT, MAX_KNOWN_ISSUES_TEXT, PullRequest, PullRequestFile, Review } from '../../lib/release/pr-approvals';
import { GateOutcome, runPullRequestGate } from '../../lib/release/scripts/pr-gate';
import { GitHubStandIn, startGitHubStandIn, startUnreachableGitHub } from '../support/github-stand-in';

const COMMIT = 'c0ffee1234567890c0ffee1234567890c0ffee12';
const HEAD = 'feedface00000000feedface00000000feedface';
const OLD_HEAD = '0123456789abcdef0123456789abcdef01234567';
const SECRET = 'notes/release/git-read-token';
const CODEOWNERS = [
  '# Everything belongs to the maintainers, the pipeline to the platform team',
  '*                  @example-org/maintainers',
  '/lib/pipeline/     @example-org/platform @carol',
  'docs/',
  '',
].join('\n');

let gh: GitHubStandIn;
let checkout: string;
const secrets = mockClient(SecretsManagerClient);

beforeAll(async () => {
  gh = await startGitHubStandIn('example-org', 'notes');
});
afterAll(async () => {
  await gh.close();
});
beforeEach(() => {
  gh.reset();
  gh.state.token = 'ghp_read_only';
  gh.state.teams = { 'example-org/maintainers': ['bob', 'erin'], 'example-org/platform': ['frank'], 'example-org/security': ['sam'] };
  secrets.reset();
  secrets.on(GetSecretValueCommand, { SecretId: SECRET }).resolves({ SecretString: JSON.stringify({ token: 'ghp_read_only' }) });
  checkout = mkdtempSync(join(tmpdir(), 'pr-gate-'));
  write('.github/CODEOWNERS', CODEOWNERS);
});

function write(path: string, text: string): void {
  mkdirSync(dirname(join(checkout, path)), { recursive: true });
  writeFileSync(join(checkout, path), text);
}

function pr(number: number, overrides: Partial<PullRequest> = {}): PullRequest {
  return {
    number,
    html_url: `https://github.com/example-org/notes/pull/${number}`,
    state: 'closed',
    merged_at: '2026-11-30T10:00:00Z',
    merge_commit_sha: COMMIT,
    user: { login: 'alice' },
    head: { sha: HEAD, ref: `feature-${number}` },
    base: { ref: 'main' },
    ...overrides,
  };
}

function review(login: string, state: string, at: string, commit = HEAD): Review {
  return { user: { login }, state, commit_id: commit, submitted_at: `2026-11-30T${at}:00Z` };
}

const files = (...names: string[]): PullRequestFile[] => names.map((filename) => ({ filename, status: 'modified' }));

/** PR #12 merged into main as COMMIT, with these reviews and files. */
function mergedPullRequest(reviews: Review[], changed: PullRequestFile[]): void {
  gh.state.pullsByCommit[COMMIT] = [pr(12)];
  gh.state.reviews[12] = reviews;
  gh.state.files[12] = changed;
}

function env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    AWS_REGION: 'eu-west-1',
    SOURCE_OWNER: 'example-org',
    SOURCE_REPO: 'notes',
    GITHUB_API_URL: gh.url,
    GIT_READ_TOKEN_SECRET_NAME: SECRET,
    PR_APPROVALS_POLICY: JSON.stringify({
      releaseBranch: 'main',
      securityPaths: DEFAULT_SECURITY_PATHS,
      securityReviewers: { team: 'example-org/security' },
      architecturePaths: DEFAULT_ARCHITECTURE_PATHS,
    }),
    ...overrides,
  };
}

function gate(kind: 'release' | 'hotfix' = 'release', overrides: Record<string, string> = {}, previousRelease?: { version: string; commit: string }): Promise<GateOutcome> {
  return runPullRequestGate({ kind, commit: COMMIT, env: env(overrides), cwd: checkout, previousRelease, secrets: new SecretsManagerClient({ region: 'eu-west-1' }) });
}

function refusal(outcome: GateOutcome): string {
  if (outcome.ok) throw new Error(`expected a refusal, got ${JSON.stringify(outcome.vars)}`);
  expect(outcome.code).toBe(1);
  return outcome.message;
}

function passed(outcome: GateOutcome): Extract<GateOutcome, { ok: true }>['vars'] {
  if (!outcome.ok) throw new Error(`expected the gate to pass, got: ${outcome.message}`);
  return outcome.vars;
}

const paths = () => gh.requests.map((r) => r.path.replace(/[?&]per_page=100/, ''));

describe('pull-request approvals gate (regular release)', () => {
  test('approved by a code owner: passes and names the approver and the pull request', async () => {
    mergedPullRequest([review('bob', 'APPROVED', '09:00')], files('lambda/notes-api/routes.ts'));

    const vars = passed(await gate());

    expect(vars).toEqual({ PR_URL: 'https://github.com/example-org/notes/pull/12', PR_APPROVERS: 'bob', KNOWN_ISSUES: 'none' });
    expect(paths()).toEqual([
      `/repos/example-org/notes/commits/${COMMIT}/pulls`,
      '/repos/example-org/notes/pulls/12/reviews',
      '/repos/example-org/notes/pulls/12/files',
      '/orgs/example-org/teams/maintainers/members',
    ]);
    expect(gh.requests.every((r) => r.method === 'GET' && r.authorization === 'Bearer ghp_read_only')).toBe(true);
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET });
  });

  test('approved only by the author: refused, naming the missing review', async () => {
    mergedPullRequest([review('alice', 'APPROVED', '09:00')], files('lambda/notes-api/routes.ts'));

    const message = refusal(await gate());

    expect(message).toBe(
      'pull request approvals: release refused: PR #12 (https://github.com/example-org/notes/pull/12): ' +
        'it has no approving review from someone other than its author (alice); no code owner approved lambda/notes-api/routes.ts ' +
        '(owners @example-org/maintainers, .github/CODEOWNERS line 2). Not counted: alice is the author.',
    );
  });

  test('a dismissed approval does not count', async () => {
    // GitHub turns a dismissed approval's state into DISMISSED.
    mergedPullRequest([review('bob', 'DISMISSED', '09:00'), review('erin', 'COMMENTED', '09:30')], files('README.md'));

    const message = refusal(await gate());

    expect(message).toContain('it has no approving review from someone other than its author (alice)');
    expect(message).toContain("Not counted: bob's review was dismissed.");
  });

  test('changes requested after an approval cancel it; a later comment does not restore it', async () => {
    mergedPullRequest(
      [review('bob', 'APPROVED', '09:00'), review('bob', 'CHANGES_REQUESTED', '10:00'), review('bob', 'COMMENTED', '11:00')],
      files('README.md'),
    );

    const message = refusal(await gate());

    expect(message).toContain('it has no approving review from someone other than its author (alice)');
    expect(message).toContain('Not counted: bob requested changes after approving.');
  });

  test('an approval of an earlier push does not count; the latest review per reviewer does', async () => {
    mergedPullRequest([review('erin', 'APPROVED', '08:00', OLD_HEAD), review('bob', 'CHANGES_REQUESTED', '08:30'), review('bob', 'APPROVED', '09:00')], files('README.md'));

    const vars = passed(await gate());

    expect(vars.PR_APPROVERS).toBe('bob');
  });

  test('a stale approval alone: refused, saying it approved an earlier commit', async () => {
    mergedPullRequest([review('erin', 'APPROVED', '08:00', OLD_HEAD)], files('README.md'));

    expect(refusal(await gate())).toContain('Not counted: erin approved 0123456, not the head feedfac (pushed after the review).');
  });

  test('a path with code owners none of whom approved: refused, naming the path and its owners', async () => {
    mergedPullRequest([review('bob', 'APPROVED', '09:00'), review('sam', 'APPROVED', '09:10')], files('lib/pipeline/steps.ts', 'README.md'));

    const message = refusal(await gate());

    expect(message).toBe(
      'pull request approvals: release refused: PR #12 (https://github.com/example-org/notes/pull/12): ' +
        'no code owner approved lib/pipeline/steps.ts (owners @example-org/platform @carol, .github/CODEOWNERS line 3).',
    );
  });

  test('a security path without a security review: refused, naming the path and the group', async () => {
    mergedPullRequest([review('carol', 'APPROVED', '09:00')], files('lib/pipeline/steps.ts'));

    const message = refusal(await gate());

    expect(message).toBe(
      'pull request approvals: release refused: PR #12 (https://github.com/example-org/notes/pull/12): ' +
        'it changes security-sensitive paths (lib/pipeline/steps.ts) and nobody in the security group (@example-org/security) approved.',
    );
    expect(paths()).toContain('/orgs/example-org/teams/security/members');
  });

  test('a security path with a review from the security team and a code owner: passes', async () => {
    mergedPullRequest([review('carol', 'APPROVED', '09:00'), review('sam', 'APPROVED', '09:05')], files('lib/pipeline/steps.ts'));

    expect(passed(await gate()).PR_APPROVERS).toBe('carol, sam');
  });

  test('the security group as a list of logins; a renamed file counts under its old path too', async () => {
    mergedPullRequest([review('bob', 'APPROVED', '09:00')], [{ filename: 'lib/auth-notes.ts', previous_filename: 'lib/constructs/notes-auth.ts', status: 'renamed' }]);
    const policy = JSON.parse(String(env().PR_APPROVALS_POLICY)) as Record<string, unknown>;

    const refused = refusal(await gate('release', { PR_APPROVALS_POLICY: JSON.stringify({ ...policy, securityReviewers: { logins: ['Mallory'] } }) }));
    mergedPullRequest([review('bob', 'APPROVED', '09:00'), review('mallory', 'APPROVED', '09:01')], gh.state.files[12]);
    const vars = passed(await gate('release', { PR_APPROVALS_POLICY: JSON.stringify({ ...policy, securityReviewers: { logins: ['Mallory'] } }) }));

    expect(refused).toContain('it changes security-sensitive paths (lib/constructs/notes-auth.ts) and nobody in the security group (@Mallory) approved');
    expect(vars.PR_APPROVERS).toBe('bob, mallory');
  });

  test('a commit with no pull request: refused, and nothing else is asked', async () => {
    const message = refusal(await gate());

    expect(message).toBe(
      'pull request approvals: release refused: no merged pull request brought commit c0ffee1 to main ' +
        '(GitHub associates no pull request with it: pushed straight to the branch?). Merge the change through a reviewed pull request.',
    );
    expect(paths()).toEqual([`/repos/example-org/notes/commits/${COMMIT}/pulls`]);
  });

  test('several pull requests associated with the commit: the one merged into main as this commit is judged', async () => {
    gh.state.pullsByCommit[COMMIT] = [
      pr(8, { base: { ref: 'develop' }, merge_commit_sha: OLD_HEAD }),
      pr(13, { state: 'open', merged_at: null, merge_commit_sha: null }),
      pr(12),
    ];
    gh.state.reviews = { 8: [review('bob', 'APPROVED', '09:00')], 12: [review('erin', 'APPROVED', '09:00')], 13: [] };
    gh.state.files = { 8: files('README.md'), 12: files('README.md'), 13: files('README.md') };

    const vars = passed(await gate());

    expect(vars).toEqual(expect.objectContaining({ PR_URL: 'https://github.com/example-org/notes/pull/12', PR_APPROVERS: 'erin' }));
    expect(paths().filter((p) => p.includes('/pulls/'))).toEqual(['/repos/example-org/notes/pulls/12/reviews', '/repos/example-org/notes/pulls/12/files']);
  });

  test('several pull requests, none merged into main as this commit: refused, listing them', async () => {
    gh.state.pullsByCommit[COMMIT] = [pr(8, { base: { ref: 'develop' } }), pr(13, { state: 'open', merged_at: null, merge_commit_sha: null })];

    expect(refusal(await gate())).toContain(
      'no merged pull request brought commit c0ffee1 to main (GitHub associates it with #8 (merged into develop, merge commit c0ffee1), #13 (open into main) only)',
    );
  });

  test('reviews and files are read across pages: an approval and a security path on the last page count', async () => {
    gh.state.maxPerPage = 2;
    mergedPullRequest(
      [review('erin', 'COMMENTED', '08:00'), review('bob', 'APPROVED', '08:10'), review('frank', 'COMMENTED', '08:20'), review('erin', 'COMMENTED', '08:30'), review('carol', 'APPROVED', '08:40')],
      files('README.md', 'docs/02-cicd.md', 'lambda/notes-api/app.ts', 'test/x.test.ts', 'lib/pipeline/steps.ts'),
    );

    const message = refusal(await gate());

    // carol (on page 3) approved as the pipeline's code owner; the pipeline file (page 3) needs security.
    expect(message).toContain('it changes security-sensitive paths (lib/pipeline/steps.ts) and nobody in the security group (@example-org/security) approved.');
    expect(message).not.toContain('no code owner approved');
    for (const list of ['reviews', 'files']) {
      expect(gh.requests.map((r) => r.path).filter((p) => p.startsWith(`/repos/example-org/notes/pulls/12/${list}`))).toEqual([
        `/repos/example-org/notes/pulls/12/${list}?per_page=100`,
        `/repos/example-org/notes/pulls/12/${list}?per_page=100&page=2`,
        `/repos/example-org/notes/pulls/12/${list}?per_page=100&page=3`,
      ]);
    }
  });

  test('GitHub unreachable: the build fails and says the check could not be made', async () => {
    const down = await startUnreachableGitHub();
    try {
      const message = refusal(await gate('release', { GITHUB_API_URL: down.url }));

      expect(message).toMatch(
        new RegExp(`^pull request approvals: the check could not be made, so the release is refused: GitHub is unreachable at ${down.url.replace(/\./g, '\\.')} \\(GET /repos/example-org/notes/commits/${COMMIT}/pulls\\?per_page=100: .+\\)$`),
      );
    } finally {
      await down.close();
    }
  });

  test('GitHub rate-limited: the build fails, saying until when', async () => {
    mergedPullRequest([review('bob', 'APPROVED', '09:00')], files('README.md'));
    gh.state.rateLimited = true;

    const message = refusal(await gate());

    expect(message).toBe(
      "pull request approvals: the check could not be made, so the release is refused: GitHub's API rate limit is exhausted until 2026-01-01T00:00:00.000Z " +
        `(GET /repos/example-org/notes/commits/${COMMIT}/pulls?per_page=100 answered 403)`,
    );
  });

  test('a token GitHub refuses: the build fails naming the answer', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: SECRET }).resolves({ SecretString: 'ghp_revoked' });

    expect(refusal(await gate())).toBe(
      `pull request approvals: the check could not be made, so the release is refused: GitHub answered 401 (Bad credentials) to GET /repos/example-org/notes/commits/${COMMIT}/pulls?per_page=100`,
    );
  });

  test('without its policy or token secret name the gate is not configured: exit 2, nothing asked', async () => {
    const noPolicy = await gate('release', { PR_APPROVALS_POLICY: '' });
    const noSecret = await gate('release', { GIT_READ_TOKEN_SECRET_NAME: '' });

    expect(noPolicy).toEqual({ ok: false, code: 2, message: 'pull request approvals: setup: PR_APPROVALS_POLICY is not set' });
    expect(noSecret).toEqual({ ok: false, code: 2, message: 'pull request approvals: setup: GIT_READ_TOKEN_SECRET_NAME is not set' });
    expect(gh.requests).toEqual([]);
  });
});

describe('hotfix: recorded, never refused', () => {
  test('records the open pull request the hotfix commit heads and its approvers', async () => {
    gh.state.pullsByCommit[COMMIT] = [pr(20, { state: 'open', merged_at: null, merge_commit_sha: null, head: { sha: COMMIT }, base: { ref: 'main' } })];
    gh.state.reviews[20] = [review('bob', 'APPROVED', '09:00', COMMIT)];

    const vars = passed(await gate('hotfix'));

    expect(vars).toEqual({ PR_URL: 'https://github.com/example-org/notes/pull/20', PR_APPROVERS: 'bob', KNOWN_ISSUES: 'none' });
  });

  test('a hotfix from no pull request, without approvals, goes ahead and records none', async () => {
    expect(passed(await gate('hotfix'))).toEqual({ PR_URL: 'none', PR_APPROVERS: 'none', KNOWN_ISSUES: 'none' });
  });

  test('GitHub unreachable: the hotfix goes ahead, its approvers recorded as unknown', async () => {
    const down = await startUnreachableGitHub();
    try {
      const outcome = await gate('hotfix', { GITHUB_API_URL: down.url });

      expect(outcome).toEqual({ ok: true, vars: { PR_URL: 'none', PR_APPROVERS: 'unknown', KNOWN_ISSUES: 'none' }, lines: [expect.stringContaining('GitHub is unreachable')] });
    } finally {
      await down.close();
    }
  });
});

describe('decision-log warning (a warning, not a refusal)', () => {
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], {
      cwd: checkout,
      encoding: 'utf8',
    }).trim();
  const commitAll = (subject: string) => {
    git('add', '-A');
    git('commit', '-q', '-m', subject);
    return git('rev-parse', 'HEAD');
  };
  let previous: { version: string; commit: string };

  beforeEach(() => {
    git('init', '-q');
    write('docs/01-decision-log.md', '# Decision log\n');
    write('lib/pipeline/steps.ts', 'export {};\n');
    previous = { version: '1.2.0', commit: commitAll('Release 1.2.0') };
    git('tag', 'v1.2.0');
    mergedPullRequest([review('carol', 'APPROVED', '09:00'), review('sam', 'APPROVED', '09:05')], files('lib/pipeline/steps.ts'));
  });

  test('architecture changed and no decision-log entry: the release goes ahead with the warning', async () => {
    write('lib/pipeline/steps.ts', 'export const changed = true;\n');
    write('lib/notes-stack.ts', 'export {};\n');
    commitAll('Change the pipeline');

    const outcome = await gate('release', {}, previous);

    expect(passed(outcome).KNOWN_ISSUES).toBe('architecture files changed since v1.2.0 (lib/notes-stack.ts, lib/pipeline/steps.ts) but docs/01-decision-log.md did not');
  });

  test('architecture changed with a decision-log entry: no warning', async () => {
    write('lib/pipeline/steps.ts', 'export const changed = true;\n');
    write('docs/01-decision-log.md', '# Decision log\n\n## #15: a decision\n');
    commitAll('Change the pipeline, say why');

    expect(passed(await gate('release', {}, previous)).KNOWN_ISSUES).toBe('none');
  });

  test('only non-architecture files changed: no warning', async () => {
    write('README.md', 'more words\n');
    commitAll('Docs');

    expect(passed(await gate('release', {}, previous)).KNOWN_ISSUES).toBe('none');
  });

  test("the previous release's commit is not in the checkout: compared with its tag", async () => {
    write('lib/app.ts', 'export {};\n');
    commitAll('Change the app');

    const vars = passed(await gate('release', {}, { version: '1.2.0', commit: 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef' }));

    expect(vars.KNOWN_ISSUES).toBe('architecture files changed since v1.2.0 (lib/app.ts) but docs/01-decision-log.md did not');
  });
});

describe('CODEOWNERS and path patterns (as GitHub reads them)', () => {
  test.each([
    ['docs/*', 'docs/a.md', true],
    ['docs/*', 'docs/build/a.md', false],
    ['*.js', 'src/deep/a.js', true],
    ['apps/', 'src/apps/x.ts', true],
    ['/docs/', 'src/docs/a.md', false],
    ['**/logs', 'a/b/logs/x.txt', true],
    ['lib/*-stack.ts', 'lib/notes-stack.ts', true],
    ['lib/*-stack.ts', 'lib/x/notes-stack.ts', false],
    ['/lib/pipeline/', 'lib/pipeline/deep/a.ts', true],
    ['cdk.json', 'cdk.json', true],
    ['lib/app.ts', 'lib/app.tsx', false],
  ])('%s matches %s: %s', (pattern, path, expected) => {
    expect(matchesPattern(path, pattern)).toBe(expected);
  });

  test('the last matching line wins; a line without owners leaves its paths unowned', () => {
    const rules = parseCodeOwners(CODEOWNERS);

    expect(ownersOf('lib/pipeline/steps.ts', rules).owners).toEqual(['@example-org/platform', '@carol']);
    expect(ownersOf('README.md', rules).owners).toEqual(['@example-org/maintainers']);
    expect(ownersOf('docs/02-cicd.md', rules).owners).toEqual([]);
  });

  test('KNOWN_ISSUES is cut to fit the pipeline variable, still naming the decision log', () => {
    const changed = Array.from({ length: 40 }, (_, i) => `lib/constructs/a-rather-long-construct-file-name-number-${i}.ts`);

    const text = decisionLogWarning(changed, DEFAULT_ARCHITECTURE_PATHS, 'v1.2.0')!;

    expect(text.length).toBeLessThanOrEqual(MAX_KNOWN_ISSUES_TEXT);
    expect(text).toBe('architecture files changed since v1.2.0 (40 files) but docs/01-decision-log.md did not');
  });

  test('PR_APPROVERS is cut to fit the pipeline variable', () => {
    const many = Array.from({ length: 30 }, (_, i) => `reviewer-number-${i}`);

    const text = approversText(many);

    expect(text.length).toBeLessThanOrEqual(MAX_APPROVERS_TEXT);
    expect(text).toMatch(/^reviewer-number-0, .* \(\+\d+ more\)$/);
    expect(approversText([])).toBe('none');
  });
});

describe("the gate's cdk.json keys (notes.pipeline)", () => {
  const withPipeline = (change: Record<string, unknown>) => {
    const config = repoConfig();
    return { ...config, pipeline: { ...config.pipeline, ...change } };
  };

  test('the read-only token must be a secret other than the write token', () => {
    expect(() => parseConfig(withPipeline({ gitReadTokenSecretName: 'notes/release/git-token' }))).toThrow(
      'notes.pipeline.gitReadTokenSecretName: must name a secret other than gitTokenSecretName (the build may read only a read-only token)',
    );
  });

  test('the security group must name a team or at least one login', () => {
    expect(() => parseConfig(withPipeline({ pullRequestApprovals: { securityReviewers: { logins: [] } } }))).toThrow(
      'notes.pipeline.pullRequestApprovals.securityReviewers: must name a team or at least one login',
    );
    expect(() => parseConfig(withPipeline({ pullRequestApprovals: { securityReviewers: { team: 'security' } } }))).toThrow(
      'notes.pipeline.pullRequestApprovals.securityReviewers.team: must be a GitHub team as org/team-slug',
    );
  });

  test('omitted path lists default to IAM, pipeline and auth code, and to the architecture files', () => {
    const parsed = parseConfig(withPipeline({ pullRequestApprovals: { securityReviewers: { logins: ['sam'] } } }));

    expect(parsed.pipeline.pullRequestApprovals).toEqual({ securityReviewers: { logins: ['sam'] }, securityPaths: DEFAULT_SECURITY_PATHS, architecturePaths: DEFAULT_ARCHITECTURE_PATHS });
  });
});
