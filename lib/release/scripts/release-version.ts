/**
 * Decides what the build is releasing, inside the pipeline's Build action.
 *
 * The version is package.json's `version`. The build refuses (exit 1, with a message that says
 * what to do) a version that the ledger already records or that already has a `v<version>` git
 * tag, and one that is not newer than what prod runs; a hotfix must be a patch release on top of
 * prod's version. It also works out the commit, a one-line change summary and the pull request
 * link, and writes them as shell `export` lines that the buildspec sources, so CodeBuild exports
 * them as the pipeline variables VERSION, COMMIT, CHANGE_SUMMARY and PR_URL.
 *
 *   npx tsx lib/release/scripts/release-version.ts --kind release|hotfix --out .pipeline/vars.env [--summary-max N]
 * Environment: LEDGER_TABLE (release ledger), SOURCE_OWNER, SOURCE_REPO, AWS_REGION.
 */
import { execFileSync } from 'child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { dirname } from 'path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MAX_CHANGE_SUMMARY_CHARS, MAX_COMMIT_CHARS, MAX_PR_NUMBER_DIGITS, MAX_VERSION_CHARS } from '../approval-limits';
import { compareVersions, normalizeVersion, ReleaseLedger, ReleaseRecord } from '../ledger';

export type ReleaseKind = 'release' | 'hotfix';

/** What the check needs from the ledger (a `ReleaseLedger` satisfies it). */
export interface LedgerView {
  getRelease(version: string): Promise<ReleaseRecord | undefined>;
  currentVersion(): Promise<string | undefined>;
}

export interface VersionCheckInput {
  version: string;
  kind: ReleaseKind;
  ledger: LedgerView;
  /** Whether the git tag `v<version>` exists in the repository. */
  tagExists: boolean;
}

export class VersionCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VersionCheckError';
  }
}

/**
 * Throws a `VersionCheckError` naming the failed check when the version may not be released;
 * returns the normalised version and what prod runs now otherwise.
 */
export async function checkReleaseVersion(input: VersionCheckInput): Promise<{ version: string; currentVersion?: string }> {
  let version: string;
  try {
    version = normalizeVersion(input.version);
  } catch (err) {
    throw new VersionCheckError(`version check: package.json version ${(err as Error).message}`);
  }
  if (version.length > MAX_VERSION_CHARS) {
    throw new VersionCheckError(`version check: version ${version} is longer than ${MAX_VERSION_CHARS} characters (it is quoted in the approval text). Use a shorter pre-release suffix.`);
  }
  const existing = await input.ledger.getRelease(version);
  if (existing) {
    throw new VersionCheckError(
      `version check: ${version} is already released (ledger: execution ${existing.pipelineExecutionId} on ${existing.releasedAt}, ` +
        `commit ${existing.commit}). Bump "version" in package.json (npm version patch|minor|major) and push again.`,
    );
  }
  if (input.tagExists) {
    throw new VersionCheckError(
      `version check: git tag v${version} already exists, so ${version} was released before. Bump "version" in package.json and push again.`,
    );
  }
  const current = await input.ledger.currentVersion();
  if (current !== undefined && compareVersions(version, current) <= 0) {
    throw new VersionCheckError(`version check: ${version} is not newer than ${current}, the version prod runs. Bump "version" in package.json.`);
  }
  if (input.kind === 'hotfix' && current !== undefined) {
    const [cMajor, cMinor] = current.split('.');
    const [vMajor, vMinor] = version.split('.');
    if (cMajor !== vMajor || cMinor !== vMinor) {
      throw new VersionCheckError(
        `version check: a hotfix must be a patch release of ${current} (${cMajor}.${cMinor}.x), got ${version}. Use npm version patch on the hotfix branch.`,
      );
    }
  }
  return { version, currentVersion: current };
}

/** The pull request a commit came from, when its message says so (merge commit or squash suffix). */
export function pullRequestUrl(commitMessage: string, owner: string, repo: string): string | undefined {
  const firstLine = commitMessage.split('\n')[0];
  const digits = `(\\d{1,${MAX_PR_NUMBER_DIGITS}})`;
  const merge = new RegExp(`^Merge pull request #${digits}\\b`).exec(firstLine);
  const squash = new RegExp(`\\(#${digits}\\)\\s*$`).exec(firstLine);
  const number = merge?.[1] ?? squash?.[1];
  return number ? `https://github.com/${owner}/${repo}/pull/${number}` : undefined;
}

/** Maximum length of CHANGE_SUMMARY; it travels in a pipeline variable and an approval text. */
export const MAX_CHANGE_SUMMARY = MAX_CHANGE_SUMMARY_CHARS;

/**
 * One line: `<n> commit(s) since <base>: subject; subject; ...`, cut to `max` characters (the
 * pipeline passes the room its approval text leaves, `--summary-max`).
 */
export function changeSummary(subjects: string[], base: string | undefined, max: number = MAX_CHANGE_SUMMARY): string {
  const cleaned = subjects.map((s) => s.replace(/\s+/g, ' ').trim()).filter((s) => s.length > 0);
  if (cleaned.length === 0) return base ? `no commits since ${base}` : 'no commit messages';
  const head = `${cleaned.length} commit${cleaned.length === 1 ? '' : 's'} since ${base ?? 'the start of history'}: `;
  const text = head + cleaned.join('; ');
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** Shell lines that export the variables, each value single-quoted so no character is interpreted. */
export function exportLines(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`)
    .join('\n') + '\n';
}

function git(args: string[]): string {
  return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

function tryGit(args: string[]): string | undefined {
  try {
    return git(args);
  } catch {
    return undefined;
  }
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const kind = (arg(argv, 'kind') ?? 'release') as ReleaseKind;
  const out = arg(argv, 'out') ?? '.pipeline/vars.env';
  const owner = env.SOURCE_OWNER ?? 'unknown';
  const repo = env.SOURCE_REPO ?? 'unknown';
  if (!env.LEDGER_TABLE) {
    console.error('version check: LEDGER_TABLE is not set; the build cannot tell whether this version is released.');
    return 2;
  }
  const packageVersion = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
  const commit = (env.CODEBUILD_RESOLVED_SOURCE_VERSION ?? tryGit(['rev-parse', 'HEAD']) ?? 'unknown').toLowerCase();
  const summaryMax = Number(arg(argv, 'summary-max') ?? MAX_CHANGE_SUMMARY);
  if (!Number.isInteger(summaryMax) || summaryMax < 1 || summaryMax > MAX_CHANGE_SUMMARY) {
    console.error(`version check: --summary-max must be a whole number from 1 to ${MAX_CHANGE_SUMMARY}`);
    return 2;
  }
  if (commit.length > MAX_COMMIT_CHARS) {
    console.error(`version check: commit ${commit} is longer than ${MAX_COMMIT_CHARS} characters; expected a git SHA-1.`);
    return 1;
  }

  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: env.AWS_REGION }));
  const ledger = new ReleaseLedger(client, env.LEDGER_TABLE);
  let version: string;
  try {
    const tagExists = (tryGit(['tag', '--list', `v${packageVersion}`]) ?? '') !== '';
    ({ version } = await checkReleaseVersion({ version: packageVersion, kind, ledger, tagExists }));
  } catch (err) {
    console.error(err instanceof VersionCheckError ? err.message : `version check: could not read the release ledger: ${(err as Error).message}`);
    return 1;
  }

  const base = tryGit(['describe', '--tags', '--abbrev=0', '--match', 'v*', 'HEAD']);
  const range = base ? [`${base}..HEAD`] : ['-n', '20', 'HEAD'];
  const subjects = (tryGit(['log', '--no-merges', '--format=%s', ...range]) ?? '').split('\n');
  const message = tryGit(['log', '-1', '--format=%B', 'HEAD']) ?? '';
  const vars = {
    VERSION: version,
    COMMIT: commit,
    CHANGE_SUMMARY: changeSummary(subjects, base, summaryMax),
    // A pipeline variable cannot be empty when referenced; "none" says there is no link.
    PR_URL: pullRequestUrl(message, owner, repo) ?? 'none',
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, exportLines(vars));
  console.log(`version check: releasing ${version} (${kind}) from commit ${commit}; ${vars.CHANGE_SUMMARY}`);
  return 0;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
