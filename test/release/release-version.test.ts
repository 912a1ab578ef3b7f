import { execFileSync } from 'child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { commitTimesFromLog, parseCommitTimes } from '../../lib/release/commit-times';
import { ReleaseRecord } from '../../lib/release/ledger';
import {
  changeSummary,
  checkReleaseVersion,
  exportLines,
  LedgerView,
  main,
  MAX_CHANGE_SUMMARY,
  pullRequestUrl,
} from '../../lib/release/scripts/release-version';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { DEFAULT_ARCHITECTURE_PATHS, DEFAULT_SECURITY_PATHS } from '../../lib/config';
import { RunningDynalite, startDynalite } from '../support/dynalite';
import { GitHubStandIn, startGitHubStandIn } from '../support/github-stand-in';
import { newLedger, threeReleases } from '../support/ledger';

function ledgerWith(released: string[], current?: string): LedgerView {
  return {
    async getRelease(version: string): Promise<ReleaseRecord | undefined> {
      if (!released.includes(version)) return undefined;
      return {
        version,
        commit: 'abc1234',
        releasedAt: '2025-01-02T03:04:05.000Z',
        pipelineName: 'notes-release',
        pipelineExecutionId: 'exec-1',
        artifact: { bucket: 'b', key: `releases/v${version}/cloud-assembly.zip`, sha256: 'a'.repeat(64) },
        approvers: [],
        changeSummary: '',
        smokeSummary: '',
      };
    },
    async currentVersion() {
      return current;
    },
  };
}

describe('version-already-released check', () => {
  test('accepts a new version newer than prod', async () => {
    const result = await checkReleaseVersion({ version: '1.3.0', kind: 'release', ledger: ledgerWith(['1.2.0'], '1.2.0'), tagExists: false });

    expect(result).toEqual({ version: '1.3.0', currentVersion: '1.2.0' });
  });

  test('accepts the very first release', async () => {
    await expect(checkReleaseVersion({ version: '0.1.0', kind: 'release', ledger: ledgerWith([]), tagExists: false })).resolves.toEqual({ version: '0.1.0' });
  });

  test('fails naming the ledger entry when the version is already released', async () => {
    await expect(checkReleaseVersion({ version: '1.2.0', kind: 'release', ledger: ledgerWith(['1.2.0'], '1.2.0'), tagExists: false })).rejects.toThrow(
      /version check: 1\.2\.0 is already released \(ledger: execution exec-1 .*\)\. Bump "version" in package\.json/,
    );
  });

  test('fails when the git tag exists even if the ledger lost the record', async () => {
    await expect(checkReleaseVersion({ version: '1.2.1', kind: 'release', ledger: ledgerWith([]), tagExists: true })).rejects.toThrow(
      'version check: git tag v1.2.1 already exists',
    );
  });

  test('fails a version older than the one prod runs', async () => {
    await expect(checkReleaseVersion({ version: '1.1.9', kind: 'release', ledger: ledgerWith(['1.2.0'], '1.2.0'), tagExists: false })).rejects.toThrow(
      'version check: 1.1.9 is not newer than 1.2.0, the version prod runs',
    );
  });

  test('fails a malformed version', async () => {
    await expect(checkReleaseVersion({ version: 'one', kind: 'release', ledger: ledgerWith([]), tagExists: false })).rejects.toThrow(
      'version check: package.json version "one" is not a semantic version',
    );
  });

  test('a hotfix must be a patch of the prod version', async () => {
    const ledger = ledgerWith(['1.2.0'], '1.2.0');

    await expect(checkReleaseVersion({ version: '1.2.1', kind: 'hotfix', ledger, tagExists: false })).resolves.toEqual({ version: '1.2.1', currentVersion: '1.2.0' });
    await expect(checkReleaseVersion({ version: '1.3.0', kind: 'hotfix', ledger, tagExists: false })).rejects.toThrow(
      'version check: a hotfix must be a patch release of 1.2.0 (1.2.x), got 1.3.0',
    );
  });
});

describe('release metadata', () => {
  test('finds the pull request of a merge commit and of a squash commit', () => {
    expect(pullRequestUrl('Merge pull request #42 from me/feature\n\nbody', 'org', 'repo')).toBe('https://github.com/org/repo/pull/42');
    expect(pullRequestUrl('Add tags to notes (#17)\n\n* detail', 'org', 'repo')).toBe('https://github.com/org/repo/pull/17');
    expect(pullRequestUrl('Fix typo', 'org', 'repo')).toBeUndefined();
  });

  test('summarises commits on one line and cuts it to fit a pipeline variable', () => {
    expect(changeSummary(['Add tags', 'Fix list\tpaging', ''], 'v1.2.0')).toBe('2 commits since v1.2.0: Add tags; Fix list paging');
    const long = changeSummary(Array.from({ length: 100 }, (_, i) => `commit number ${i}`), 'v1.0.0');
    expect(long.length).toBe(MAX_CHANGE_SUMMARY);
    expect(long.endsWith('...')).toBe(true);
  });

  test('exported values survive the shell unchanged, quotes and dollars included', () => {
    const vars = { CHANGE_SUMMARY: `it's $HOME and "quotes" \`tick\``, VERSION: '1.2.3' };

    const script = `${exportLines(vars)}printf '%s|%s' "$CHANGE_SUMMARY" "$VERSION"`;
    const printed = execFileSync('sh', ['-c', script], { encoding: 'utf8' });

    expect(printed).toBe(`${vars.CHANGE_SUMMARY}|1.2.3`);
  });
});

describe('commit times', () => {
  test('keeps the newest 100 commit times in UTC and says when the list was cut', () => {
    const log = Array.from({ length: 101 }, (_, i) => new Date(Date.UTC(2026, 8, 30) - i * 3_600_000).toISOString()).join('\n');

    const times = commitTimesFromLog(log, '2026-09-30T02:00:00+02:00');

    expect(times.releaseCommitAt).toBe('2026-09-30T00:00:00.000Z');
    expect(times.commits).toHaveLength(100);
    expect(times.commits[0]).toBe('2026-09-30T00:00:00.000Z');
    expect(times.commits[99]).toBe('2026-09-25T21:00:00.000Z');
    expect(times.truncated).toBe(true);
    expect(commitTimesFromLog(log.split('\n').slice(0, 100).join('\n'), '2026-09-30T00:00:00Z').truncated).toBe(false);
  });

  test('a malformed or missing COMMIT_TIMES reads as none, never as an error', () => {
    expect(parseCommitTimes(undefined)).toBeUndefined();
    expect(parseCommitTimes('none')).toBeUndefined();
    expect(parseCommitTimes('{"releaseCommitAt":"yesterday","commits":[],"truncated":false}')).toBeUndefined();
    expect(parseCommitTimes('{"releaseCommitAt":"2026-09-30T00:00:00Z","commits":["2026-09-29T00:00:00+01:00"],"truncated":false}')).toEqual({
      releaseCommitAt: '2026-09-30T00:00:00.000Z',
      commits: ['2026-09-28T23:00:00.000Z'],
      truncated: false,
    });
  });
});

describe('as the build step (npx tsx lib/release/scripts/release-version.ts)', () => {
  // The real ledger on dynalite, reached the way the build reaches DynamoDB: through the SDK's
  // endpoint configuration, here AWS_ENDPOINT_URL_DYNAMODB.
  let db: RunningDynalite;
  let table: string;
  let repo: string;
  let errors: string[];
  const endpointEnv = ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
  const savedEnv = endpointEnv.map((name) => [name, process.env[name]] as const);
  const cwd = process.cwd();

  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], {
      cwd: repo,
      encoding: 'utf8',
    }).trim();
  const commit = (subject: string, version: string) => {
    writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'notes', version }));
    git('add', 'package.json');
    git('commit', '-q', '-m', subject);
  };
  const build = async () => {
    process.chdir(repo);
    try {
      return await main(['--kind', 'release', '--out', join(repo, '.pipeline', 'vars.env')], {
        LEDGER_TABLE: table,
        AWS_REGION: 'eu-west-1',
        SOURCE_OWNER: 'example-org',
        SOURCE_REPO: 'notes',
        // The pull-request approvals gate, against the local GitHub stand-in.
        GITHUB_API_URL: gh.url,
        GIT_READ_TOKEN_SECRET_NAME: 'notes/release/git-read-token',
        PR_APPROVALS_POLICY: JSON.stringify({ releaseBranch: 'main', securityPaths: DEFAULT_SECURITY_PATHS, securityReviewers: { team: 'example-org/security' }, architecturePaths: DEFAULT_ARCHITECTURE_PATHS }),
      });
    } finally {
      process.chdir(cwd);
    }
  };
  const varsFile = () => join(repo, '.pipeline', 'vars.env');

  let gh: GitHubStandIn;
  const secrets = mockClient(SecretsManagerClient);
  /** The HEAD commit came to main through PR #17, approved by bob. */
  const mergedThroughPullRequest = (reviews: { user: { login: string }; state: string }[]) => {
    const sha = git('rev-parse', 'HEAD');
    const pr = { number: 17, html_url: 'https://github.com/example-org/notes/pull/17', state: 'closed', merged_at: '2026-11-30T10:00:00Z', merge_commit_sha: sha, user: { login: 'alice' }, head: { sha: 'feedface' }, base: { ref: 'main' } };
    gh.state.pullsByCommit[sha] = [pr];
    gh.state.reviews[17] = reviews.map((r) => ({ ...r, commit_id: 'feedface', submitted_at: '2026-11-30T09:00:00Z' }));
    gh.state.files[17] = [{ filename: 'package.json', status: 'modified' }];
  };

  beforeAll(async () => {
    gh = await startGitHubStandIn('example-org', 'notes');
    db = await startDynalite();
    Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: db.endpoint, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  });
  afterAll(async () => {
    for (const [name, value] of savedEnv) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await db.stop();
    await gh.close();
  });
  beforeEach(async () => {
    gh.reset();
    secrets.reset();
    secrets.on(GetSecretValueCommand, { SecretId: 'notes/release/git-read-token' }).resolves({ SecretString: gh.state.token });
    const created = await newLedger(db);
    table = created.tableName;
    await threeReleases(created.ledger); // prod runs 1.2.0
    repo = mkdtempSync(join(tmpdir(), 'release-version-'));
    git('init', '-q');
    commit('First release', '1.2.0');
    git('tag', 'v1.2.0');
    errors = [];
    jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  test('a new version: exit 0 and the pipeline variables VERSION, COMMIT, CHANGE_SUMMARY, PR_URL, PR_APPROVERS and KNOWN_ISSUES', async () => {
    // No "(#17)" in the message: the pull request comes from GitHub's record of the commit.
    commit('Add note tags', '1.3.0');
    mergedThroughPullRequest([{ user: { login: 'bob' }, state: 'APPROVED' }]);

    const code = await build();

    expect(code).toBe(0);
    const printed = execFileSync('sh', ['-c', `. '${varsFile()}'; printf '%s|%s|%s|%s|%s|%s' "$VERSION" "$COMMIT" "$CHANGE_SUMMARY" "$PR_URL" "$PR_APPROVERS" "$KNOWN_ISSUES"`], { encoding: 'utf8' });
    expect(printed).toBe(`1.3.0|${git('rev-parse', 'HEAD')}|1 commit since v1.2.0: Add note tags|https://github.com/example-org/notes/pull/17|bob|none`);
  });

  test('a release whose pull request lacks an approval stops in Build with a message naming it, and no variables', async () => {
    commit('Add note tags (#17)', '1.3.0');
    mergedThroughPullRequest([{ user: { login: 'bob' }, state: 'CHANGES_REQUESTED' }]);

    const code = await build();

    expect(code).toBe(1);
    expect(errors).toEqual([
      'pull request approvals: release refused: PR #17 (https://github.com/example-org/notes/pull/17): it has no approving review from someone other than its author (alice). Not counted: bob requested changes.',
    ]);
    expect(existsSync(varsFile())).toBe(false);
  });

  test('COMMIT_TIMES: when the release commit and each commit since the previous release tag were made', async () => {
    const at = (date: string, subject: string, version: string) => {
      writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'notes', version }));
      git('add', 'package.json');
      execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', 'commit', '-q', '-m', subject], {
        cwd: repo,
        env: { ...process.env, GIT_COMMITTER_DATE: date },
      });
    };
    at('2026-09-01T08:00:00+02:00', 'Add note tags', '1.3.0-pre');
    at('2026-09-02T09:30:00Z', 'Fix paging', '1.3.0');
    mergedThroughPullRequest([{ user: { login: 'bob' }, state: 'APPROVED' }]);

    const code = await build();

    expect(code).toBe(0);
    const printed = execFileSync('sh', ['-c', `. '${varsFile()}'; printf '%s' "$COMMIT_TIMES"`], { encoding: 'utf8' });
    expect(JSON.parse(printed)).toEqual({
      releaseCommitAt: '2026-09-02T09:30:00.000Z',
      commits: ['2026-09-02T09:30:00.000Z', '2026-09-01T06:00:00.000Z'],
      truncated: false,
    });
  });

  test('a version the ledger records as released: exit 1 with what to do, and no variables for the build', async () => {
    commit('Back to 1.1.0', '1.1.0');

    const code = await build();

    expect(code).toBe(1);
    expect(errors).toEqual([expect.stringMatching(/^version check: 1\.1\.0 is already released \(ledger: execution exec-1\.1\.0 .*Bump "version" in package\.json/)]);
    expect(existsSync(varsFile())).toBe(false);
  });

  test('a version whose git tag exists but that the ledger does not know: exit 1', async () => {
    commit('Prepare 1.4.0', '1.4.0');
    git('tag', 'v1.4.0');

    const code = await build();

    expect(code).toBe(1);
    expect(errors).toEqual([expect.stringContaining('version check: git tag v1.4.0 already exists')]);
    expect(existsSync(varsFile())).toBe(false);
  });

  test('without LEDGER_TABLE the build cannot tell and stops with exit 2', async () => {
    commit('Add note tags (#17)', '1.3.0');
    process.chdir(repo);
    let code: number;
    try {
      code = await main(['--out', varsFile()], { AWS_REGION: 'eu-west-1' });
    } finally {
      process.chdir(cwd);
    }

    expect(code).toBe(2);
    expect(errors).toEqual(['version check: LEDGER_TABLE is not set; the build cannot tell whether this version is released.']);
    expect(existsSync(varsFile())).toBe(false);
  });
});
