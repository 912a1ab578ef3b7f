/**
 * Environments as data.
 *
 * Every stage of the release pipeline and every `NotesStack` instance is driven by one typed
 * list read from the `notes` key of `cdk.json` context. Adding an environment is one entry in
 * that list, not a copy of a stage. The values are validated at synth time; a bad value stops
 * the synth with a message that names the key and what is wrong with it.
 *
 * Synthesis needs no AWS credentials and performs no lookups: everything the stacks need is here.
 */
import { z } from 'zod';

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1');
const email = z.string().email('must be an email address');
const envName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,15}$/, 'must be 2-16 lowercase letters, digits or dashes, starting with a letter');

/**
 * How a release moves the API's traffic to the new Lambda version (CodeDeploy on the `live` alias):
 * `canary` sends `percent` of requests to it for `minutes`, then the rest; `linear` adds `percent`
 * every `minutes`; `all-at-once` moves everything at once. CodeDeploy's limits: 1-99 percent, an
 * interval of 1-2880 minutes (two days), and a linear shift must reach 100% within that bound too.
 */
const deploymentStrategySchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('canary'), percent: z.number().int().min(1).max(99), minutes: z.number().int().min(1).max(2880) }).strict(),
    z.object({ type: z.literal('linear'), percent: z.number().int().min(1).max(99), minutes: z.number().int().min(1).max(2880) }).strict(),
    z.object({ type: z.literal('all-at-once') }).strict(),
  ])
  .superRefine((s, ctx) => {
    if (s.type === 'linear' && Math.ceil(100 / s.percent) * s.minutes > 2880) {
      ctx.addIssue({ code: 'custom', message: `a linear shift of ${s.percent}% every ${s.minutes} minutes takes longer than 2880 minutes (CodeDeploy's limit)` });
    }
  });

export type DeploymentStrategy = z.infer<typeof deploymentStrategySchema>;

/** The strategy an environment gets when `cdk.json` names none: prod canary 10% for 5 minutes, others all at once. */
export function defaultDeploymentStrategy(kind: 'pre-production' | 'production'): DeploymentStrategy {
  return kind === 'production' ? { type: 'canary', percent: 10, minutes: 5 } : { type: 'all-at-once' };
}

const environmentSchema = z
  .object({
    /** Short name used in stack names, resource names and pipeline stage names (`dev`, `prod`). */
    name: envName,
    /**
     * `pre-production` environments are deployed and smoke-tested without a gate.
     * The single `production` environment is reached only through manual approval, the backups
     * check and the stateful-change guard, and rolls itself back when its smoke test or alarms fail.
     */
    kind: z.enum(['pre-production', 'production']),
    /** Omitted: the account of the credentials used to deploy (environment-agnostic stack). */
    account: accountId.optional(),
    region,
    /** What happens to the notes table and the user pool when the stack is deleted. */
    removalPolicy: z.enum(['retain', 'destroy']),
    deletionProtection: z.boolean(),
    /** Days of point-in-time recovery kept for the notes table (1-35). */
    pitrRecoveryPeriodDays: z.number().int().min(1).max(35),
    /** Retention of Lambda and API access logs, in days (a value CloudWatch Logs accepts). */
    logRetentionDays: z.union([
      z.literal(1), z.literal(3), z.literal(5), z.literal(7), z.literal(14), z.literal(30),
      z.literal(60), z.literal(90), z.literal(120), z.literal(150), z.literal(180), z.literal(365),
      z.literal(400), z.literal(545), z.literal(731), z.literal(1827), z.literal(3653),
    ]),
    /** API Gateway stage throttling (requests per second and burst). */
    throttle: z
      .object({ rateLimit: z.number().positive(), burstLimit: z.number().int().positive() })
      .refine((t) => t.burstLimit >= t.rateLimit, { message: 'burstLimit must be at least rateLimit' }),
    /** Origins allowed by CORS. Empty: no browser origin is allowed. */
    corsAllowOrigins: z.array(z.string().url('must be an origin such as https://notes.example.com')),
    /** Largest request body accepted, in bytes (413 above it). */
    maxBodyBytes: z.number().int().min(1024).max(10 * 1024 * 1024),
    /** The `/health` latency the smoke test and the p99 alarm hold the API to, in milliseconds. */
    healthSlaMs: z.number().int().positive(),
    /** Optional custom domain for the API. */
    domain: z
      .object({
        domainName: z.string().min(3),
        certificateArn: z.string().startsWith('arn:aws:acm:', 'must be an ACM certificate ARN'),
      })
      .optional(),
    /** Who is told when this environment's alarms fire (and its budget's alerts: at most 10). */
    alarmEmails: z.array(email),
    /**
     * The environment's AWS Budgets cost budget: the monthly amount in USD, and what it counts:
     * the whole `account`, or only costs tagged `notes:environment=<name>` (`environment-tag`,
     * which needs that tag activated as a cost allocation tag, or the budget sees nothing).
     */
    budget: z
      .object({
        monthlyUsd: z.number().positive('must be a positive amount in USD').max(1_000_000, 'must be at most 1000000 USD'),
        scope: z.enum(['account', 'environment-tag']),
      })
      .strict(),
    /** How a release shifts traffic to the new version; default by kind (see `defaultDeploymentStrategy`). */
    deploymentStrategy: deploymentStrategySchema.optional(),
  })
  .strict()
  .transform((e) => ({ ...e, deploymentStrategy: e.deploymentStrategy ?? defaultDeploymentStrategy(e.kind) }));

/** Paths that need an approval from the security group: IAM, pipeline and auth code, and the gate's own inputs. */
export const DEFAULT_SECURITY_PATHS = [
  'lib/pipeline/', 'lib/constructs/', 'lib/release/', 'lib/config.ts', 'cdk.json',
  'lambda/release-recorder/', 'lambda/rollback-resolve/', 'lambda/rollback-record/', 'lambda/backup-check/', 'lambda/smoke-user/',
  'CODEOWNERS', '.github/CODEOWNERS', 'docs/CODEOWNERS',
];
/** Architecture files: a release that changes them should come with a decision-log entry. */
export const DEFAULT_ARCHITECTURE_PATHS = ['lib/constructs/', 'lib/pipeline/', 'lib/*-stack.ts', 'lib/app.ts'];

const pathPattern = z.string().min(1).refine((p) => !/\s/.test(p), 'must be a path pattern without spaces (gitignore style, as in CODEOWNERS)');
const githubLogin = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'must be a GitHub login (without @)');

const pullRequestApprovalsSchema = z
  .object({
    /** Changed paths matching these need an approval from the security group. */
    securityPaths: z.array(pathPattern).min(1).default(DEFAULT_SECURITY_PATHS),
    /** The security group: a GitHub team (`org/team-slug`), a list of logins, or both. */
    securityReviewers: z
      .object({
        team: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/, 'must be a GitHub team as org/team-slug').optional(),
        logins: z.array(githubLogin).optional(),
      })
      .strict()
      .refine((r) => r.team !== undefined || (r.logins?.length ?? 0) > 0, { message: 'must name a team or at least one login' }),
    /** Changed paths matching these, without a decision-log change, raise the decision-log warning. */
    architecturePaths: z.array(pathPattern).default(DEFAULT_ARCHITECTURE_PATHS),
  })
  .strict();

const pipelineSchema = z
  .object({
    account: accountId.optional(),
    region,
    /** The repository the pipeline builds, through an AWS CodeConnections connection. */
    source: z
      .object({
        owner: z.string().min(1),
        repo: z.string().min(1),
        branch: z.string().min(1),
        connectionArn: z
          .string()
          .regex(/^arn:aws:(codeconnections|codestar-connections):/, 'must be a CodeConnections connection ARN'),
      })
      .strict(),
    /** Git branch pattern that starts the hotfix pipeline. */
    hotfixBranchPattern: z.string().min(1),
    /** Told when a release waits for approval. */
    approverEmails: z.array(email),
    /** The second approval a hotfix needs, and the approval a rollback needs. */
    opsOwnerEmails: z.array(email),
    /** Whether a rollback waits for the ops owner's approval before it deploys. */
    rollbackApproval: z.boolean(),
    /** Secrets Manager secret holding the token that may push release tags to the repository. */
    gitTokenSecretName: z.string().min(1),
    /**
     * Secrets Manager secret holding a read-only token (pull requests, contents, team members)
     * that the Build step's approvals gate uses. Its own secret: the build never reads the write token.
     */
    gitReadTokenSecretName: z.string().min(1),
    /** The Build step's pull-request approvals gate (docs/04-release-process.md). */
    pullRequestApprovals: pullRequestApprovalsSchema,
  })
  .strict()
  .refine((p) => p.gitReadTokenSecretName !== p.gitTokenSecretName, {
    path: ['gitReadTokenSecretName'],
    message: 'must name a secret other than gitTokenSecretName (the build may read only a read-only token)',
  });

const appSchema = z
  .object({
    /** Prefix of every stack and resource name. */
    service: envName,
    environments: z.array(environmentSchema).min(1),
    pipeline: pipelineSchema,
  })
  .strict()
  .superRefine((cfg, ctx) => {
    cfg.environments.forEach((e, i) => {
      // AWS Budgets takes at most 10 e-mail subscribers per notification.
      if (e.alarmEmails.length > 10) {
        ctx.addIssue({ code: 'custom', path: ['environments', i, 'alarmEmails'], message: `at most 10 addresses (the budget alerts' limit), got ${e.alarmEmails.length}` });
      }
    });
    // Which targets are in another account is decided against the pipeline's account, so it must be
    // known once any environment names an account (lib/target-account.ts, isCrossAccount).
    if (cfg.pipeline.account === undefined && cfg.environments.some((e) => e.account !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['pipeline', 'account'], message: 'is required when an environment names its account (cross-account roles and trust are built from it)' });
    }
    const names = cfg.environments.map((e) => e.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) ctx.addIssue({ code: 'custom', path: ['environments'], message: `environment "${dup}" is listed twice` });
    const prod = cfg.environments.filter((e) => e.kind === 'production');
    if (prod.length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['environments'], message: `exactly one environment must have kind "production" (found ${prod.length})` });
    } else if (cfg.environments[cfg.environments.length - 1].kind !== 'production') {
      ctx.addIssue({ code: 'custom', path: ['environments'], message: 'the production environment must be the last one (releases are promoted in list order)' });
    }
  });

export type EnvironmentConfig = z.infer<typeof environmentSchema>;
export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type AppConfig = z.infer<typeof appSchema>;

/** The context key under which `cdk.json` holds the configuration. */
export const CONTEXT_KEY = 'notes';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Validates raw context (the object under `notes` in `cdk.json`, possibly overridden with
 * `-c notes='{...}'`) and returns the typed configuration, or throws a `ConfigError` that lists
 * every invalid key with the reason.
 */
export function parseConfig(raw: unknown): AppConfig {
  const value = typeof raw === 'string' ? parseJson(raw) : raw;
  if (value === undefined || value === null) {
    throw new ConfigError(`Missing "${CONTEXT_KEY}" in cdk.json context. Copy the example from docs/02-cicd.md.`);
  }
  const result = appSchema.safeParse(value);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${CONTEXT_KEY}.${formatPath(i.path)}: ${i.message}`);
    throw new ConfigError(`Invalid "${CONTEXT_KEY}" configuration in cdk.json context:\n${lines.join('\n')}`);
  }
  return result.data;
}

/**
 * The context key that picks a layout: `-c layout=three-accounts` reads the configuration from the
 * `notes:three-accounts` context entry instead of `notes`. `cdk.json` holds the single-account quick
 * start as `notes` and the three-account example as `notes:three-accounts` (docs/02-cicd.md).
 */
export const LAYOUT_CONTEXT_KEY = 'layout';

/** The context entry holding a layout's configuration: `notes` by default, `notes:<layout>` otherwise. */
export function layoutContextKey(layout: unknown): string {
  if (layout === undefined || layout === null || layout === '' || layout === CONTEXT_KEY) return CONTEXT_KEY;
  if (typeof layout !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(layout)) {
    throw new ConfigError(`"${LAYOUT_CONTEXT_KEY}" context must be a layout name such as three-accounts (got ${JSON.stringify(layout)})`);
  }
  return `${CONTEXT_KEY}:${layout}`;
}

/**
 * The configuration a context selects (`layout`, default the `notes` entry), validated. A layout
 * with no entry stops with the layouts that exist.
 */
export function configFromContext(context: Record<string, unknown> | undefined, layout?: unknown): AppConfig {
  const ctx = context ?? {};
  const key = layoutContextKey(layout ?? ctx[LAYOUT_CONTEXT_KEY]);
  if (key !== CONTEXT_KEY && ctx[key] === undefined) {
    const known = Object.keys(ctx).filter((k) => k.startsWith(`${CONTEXT_KEY}:`)).map((k) => k.slice(CONTEXT_KEY.length + 1));
    throw new ConfigError(`No "${key}" entry in cdk.json context for layout "${key.slice(CONTEXT_KEY.length + 1)}" (layouts: ${known.join(', ') || 'none'}; the default is "${CONTEXT_KEY}").`);
  }
  return parseConfig(ctx[key]);
}

/** Reads and validates the configuration from a construct's context (`app.node`), honouring `-c layout=<name>`. */
export function loadConfig(node: { tryGetContext(key: string): unknown }): AppConfig {
  const key = layoutContextKey(node.tryGetContext(LAYOUT_CONTEXT_KEY));
  return configFromContext({ [key]: node.tryGetContext(key) }, key === CONTEXT_KEY ? undefined : key.slice(CONTEXT_KEY.length + 1));
}

export function productionEnvironment(cfg: AppConfig): EnvironmentConfig {
  return cfg.environments.find((e) => e.kind === 'production')!;
}

/** The name of an environment's service stack, e.g. `NotesStack-dev`. */
export function notesStackName(env: Pick<EnvironmentConfig, 'name'>): string {
  return `NotesStack-${env.name}`;
}

/** Physical-name prefix for an environment's resources, e.g. `notes-dev`. */
export function resourcePrefix(cfg: Pick<AppConfig, 'service'>, env: Pick<EnvironmentConfig, 'name'>): string {
  return `${cfg.service}-${env.name}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`"${CONTEXT_KEY}" context is a string but not valid JSON: ${(e as Error).message}`);
  }
}

function formatPath(path: PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

/** What is being deployed: the release version and the commit it was built from. */
export interface ReleaseInfo {
  /** Semantic version without a leading `v`, e.g. `1.2.3`. */
  version: string;
  /** Git commit SHA (7-40 hex characters) or `unknown` outside a pipeline build. */
  commit: string;
}

/** Context keys carrying the release identity (`cdk synth -c releaseVersion=1.2.3 -c commitSha=abc1234`). */
export const RELEASE_VERSION_CONTEXT_KEY = 'releaseVersion';
export const COMMIT_SHA_CONTEXT_KEY = 'commitSha';

const semver = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const commitSha = /^([0-9a-f]{7,40}|unknown)$/;

/**
 * Reads the release version and commit from context, defaulting to `package.json`'s version and
 * `unknown`; a malformed value stops the synth with a `ConfigError` naming the key.
 */
export function loadRelease(node: { tryGetContext(key: string): unknown }, packageVersion: string): ReleaseInfo {
  const version = String(node.tryGetContext(RELEASE_VERSION_CONTEXT_KEY) ?? packageVersion);
  const commit = String(node.tryGetContext(COMMIT_SHA_CONTEXT_KEY) ?? 'unknown');
  const problems: string[] = [];
  if (!semver.test(version)) problems.push(`  - ${RELEASE_VERSION_CONTEXT_KEY}: must be a semantic version such as 1.2.3 (got "${version}")`);
  if (!commitSha.test(commit)) problems.push(`  - ${COMMIT_SHA_CONTEXT_KEY}: must be a 7-40 character lower-case hex commit SHA or "unknown" (got "${commit}")`);
  if (problems.length > 0) throw new ConfigError(`Invalid release context:\n${problems.join('\n')}`);
  return { version, commit };
}

/** The environments in the order the release pipeline deploys them: pre-production ones as listed, then production. */
export function deploymentOrder(cfg: AppConfig): EnvironmentConfig[] {
  return [...cfg.environments.filter((e) => e.kind === 'pre-production'), productionEnvironment(cfg)];
}

/**
 * Whether this environment's NotesStack owns the API Gateway account settings (the CloudWatch Logs
 * role, `AWS::ApiGateway::Account`) of its account and region. The setting is one per account and
 * region, so exactly one stack there may declare it: the first the release pipeline deploys into that
 * account and region (dev, when dev and prod share them). An environment without an account is in
 * the pipeline's account.
 */
export function ownsApiGatewayAccountSettings(cfg: AppConfig, env: EnvironmentConfig): boolean {
  const place = (e: EnvironmentConfig) => `${e.account ?? cfg.pipeline.account ?? 'deploying-account'}/${e.region}`;
  return deploymentOrder(cfg).find((e) => place(e) === place(env))?.name === env.name;
}
