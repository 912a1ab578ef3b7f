/**
 * The Build step's pull-request approvals gate and decision-log warning, as `release-version.ts`
 * runs them (`lib/release/pr-approvals.ts` holds the rules).
 *
 * Environment (set on the build project by `lib/pipeline/steps.ts`):
 *   GIT_READ_TOKEN_SECRET_NAME  Secrets Manager secret with the read-only GitHub token (plain or {"token": "..."});
 *                               read through the SDK so the token is in no environment variable or log
 *   PR_APPROVALS_POLICY         JSON: releaseBranch, securityPaths, securityReviewers, architecturePaths
 *   SOURCE_OWNER, SOURCE_REPO   the repository; GITHUB_API_URL (default https://api.github.com)
 */
import { execFileSync } from 'child_process';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { readCodeOwners } from '../codeowners';
import {
  ApprovalPolicy,
  approversText,
  boundText,
  checkPullRequestApprovals,
  decisionLogWarning,
  GitHubReader,
  GitHubReadError,
  GateResult,
} from '../pr-approvals';

/** The pipeline variables the gate adds to the build's. */
export interface GateVariables {
  PR_URL: string;
  /** The pull request's approvers (GitHub logins), `none`, or `unknown` when GitHub could not be asked (hotfix). */
  PR_APPROVERS: string;
  /** The decision-log warning, or `none`. */
  KNOWN_ISSUES: string;
}

export type GateOutcome = { ok: true; vars: GateVariables; lines: string[] } | { ok: false; code: number; message: string };

const policySchema = z.object({
  releaseBranch: z.string().min(1),
  securityPaths: z.array(z.string().min(1)),
  securityReviewers: z.object({ team: z.string().optional(), logins: z.array(z.string()).optional() }),
  architecturePaths: z.array(z.string().min(1)),
});

function parsePolicy(raw: string | undefined): ApprovalPolicy | string {
  if (!raw) return 'PR_APPROVALS_POLICY is not set';
  try {
    const parsed = policySchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : `PR_APPROVALS_POLICY is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
  } catch (err) {
    return `PR_APPROVALS_POLICY is not JSON: ${(err as Error).message}`;
  }
}

/** The token from its secret: a plain string or JSON `{"token": "..."}`. */
export async function readToken(secrets: SecretsManagerClient, name: string): Promise<string> {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: name }));
  const raw = (out.SecretString ?? '').trim();
  if (!raw) throw new Error(`secret ${name} is empty`);
  if (!raw.startsWith('{')) return raw;
  const token = (JSON.parse(raw) as { token?: unknown }).token;
  if (typeof token !== 'string' || !token) throw new Error(`secret ${name} is JSON without a "token" string`);
  return token;
}

/** Paths that differ between two commits of the checkout, or undefined when git cannot tell. */
function changedSince(cwd: string, base: string): string[] | undefined {
  try {
    const out = execFileSync('git', ['diff', '--name-only', `${base}`, 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').map((l) => l.trim()).filter(Boolean);
  } catch {
    return undefined;
  }
}

/** The decision-log warning against the previous release (its commit from the ledger, else its tag). */
export function knownIssues(cwd: string, policy: ApprovalPolicy, previous?: { version: string; commit: string }): string | undefined {
  if (!previous) return undefined;
  const changed = changedSince(cwd, previous.commit) ?? changedSince(cwd, `v${previous.version}`);
  if (!changed) return boundText(`decision-log check not made: neither commit ${previous.commit.slice(0, 7)} nor tag v${previous.version} of the previous release is in the checkout`);
  return decisionLogWarning(changed, policy.architecturePaths, `v${previous.version}`);
}

/**
 * Runs the gate for the commit. A regular release fails (exit 1) when the pull request lacks an
 * approval or GitHub cannot be asked; a hotfix never fails here and records what it could find.
 */
export async function runPullRequestGate(input: {
  kind: 'release' | 'hotfix';
  commit: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  previousRelease?: { version: string; commit: string };
  /** The PR link parsed from the commit message: a hotfix's fallback when GitHub cannot be asked. */
  messagePullRequestUrl?: string;
  secrets?: SecretsManagerClient;
}): Promise<GateOutcome> {
  const { env } = input;
  const policy = parsePolicy(env.PR_APPROVALS_POLICY);
  if (typeof policy === 'string') return { ok: false, code: 2, message: `pull request approvals: setup: ${policy}` };
  if (!env.GIT_READ_TOKEN_SECRET_NAME) return { ok: false, code: 2, message: 'pull request approvals: setup: GIT_READ_TOKEN_SECRET_NAME is not set' };
  if (!env.SOURCE_OWNER || !env.SOURCE_REPO) return { ok: false, code: 2, message: 'pull request approvals: setup: SOURCE_OWNER and SOURCE_REPO must name the repository' };

  const issues = knownIssues(input.cwd, policy, input.previousRelease);
  const KNOWN_ISSUES = issues ?? 'none';
  const lines = issues ? [`known issues: ${issues}`] : [];

  let result: GateResult;
  try {
    const secrets = input.secrets ?? new SecretsManagerClient({ region: env.AWS_REGION });
    let token: string;
    try {
      token = await readToken(secrets, env.GIT_READ_TOKEN_SECRET_NAME);
    } catch (err) {
      throw new GitHubReadError('refused', `the read-only GitHub token could not be read from ${env.GIT_READ_TOKEN_SECRET_NAME}: ${(err as Error).message}`);
    }
    const github = new GitHubReader({ baseUrl: env.GITHUB_API_URL || 'https://api.github.com', token, owner: env.SOURCE_OWNER, repo: env.SOURCE_REPO });
    result = await checkPullRequestApprovals(github, { kind: input.kind, commit: input.commit, policy, codeOwners: readCodeOwners(input.cwd) });
  } catch (err) {
    if (!(err instanceof GitHubReadError)) throw err;
    if (input.kind === 'release') {
      return { ok: false, code: 1, message: `pull request approvals: the check could not be made, so the release is refused: ${err.message}` };
    }
    lines.push(`pull request approvals: hotfix goes ahead without knowing its pull request's approvers: ${err.message}`);
    return { ok: true, vars: { PR_URL: input.messagePullRequestUrl ?? 'none', PR_APPROVERS: 'unknown', KNOWN_ISSUES }, lines };
  }
  if (result.refusal) return { ok: false, code: 1, message: result.refusal };
  const pr = result.pullRequest;
  lines.push(
    pr
      ? `pull request approvals: PR #${pr.number} ${input.kind === 'release' ? 'passes' : '(hotfix, recorded only)'}; approved by ${approversText(result.approvers)}`
      : 'pull request approvals: hotfix from no pull request (recorded as none)',
  );
  return { ok: true, vars: { PR_URL: pr?.html_url ?? 'none', PR_APPROVERS: pr ? approversText(result.approvers) : 'none', KNOWN_ISSUES }, lines };
}
