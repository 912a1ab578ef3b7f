import { execFileSync } from 'child_process';
import { ReleaseRecord } from '../../lib/release/ledger';
import {
  changeSummary,
  checkReleaseVersion,
  exportLines,
  LedgerView,
  MAX_CHANGE_SUMMARY,
  pullRequestUrl,
} from '../../lib/pipeline/scripts/release-version';

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
