/**
 * The operator CLI (`npm run release -- <command>`, or the `notes-release` bin): one place that
 * parses arguments, prints help without touching AWS, runs a command and turns every failure into
 * a message, a hint and a documented exit code.
 */
import { parseArgs, ParseArgsConfig } from 'util';
import type { AppConfig } from '../config';
import { answerApproval } from './approval';
import { CliDeps, Context } from './context';
import { errorReporter, EXIT, toCliError, usage } from './errors';
import { history } from './history';
import { Io } from './io';
import { metrics } from './metrics';
import { resume } from './resume';
import { rollback } from './rollback';
import { GlobalFlags, repoConfig, resolveSettings } from './settings';
import { status } from './status';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

const GLOBAL_OPTIONS: Options = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  region: { type: 'string' },
  'release-pipeline': { type: 'string' },
  'hotfix-pipeline': { type: 'string' },
  'rollback-pipeline': { type: 'string' },
  'prod-stage': { type: 'string' },
  'ledger-table': { type: 'string' },
  'health-url': { type: 'string' },
};

const GLOBAL_HELP = `Options for every command:
  --json                    machine-readable output on stdout (errors too)
  --region REGION           pipelines' region (env NOTES_REGION; default from cdk.json)
  --release-pipeline NAME   default notes-release (env NOTES_RELEASE_PIPELINE)
  --hotfix-pipeline NAME    default notes-hotfix (env NOTES_HOTFIX_PIPELINE)
  --rollback-pipeline NAME  default notes-rollback (env NOTES_ROLLBACK_PIPELINE)
  --prod-stage NAME         the release pipeline's prod stage (env NOTES_PROD_STAGE;
                            default from cdk.json: Prod)
  --ledger-table NAME       release ledger table (env NOTES_LEDGER_TABLE; default: the
                            NotesPipeline stack output LedgerTableName)
  --health-url URL          prod's /health, read by status (env NOTES_HEALTH_URL; default:
                            the prod NotesStack output ApiUrl + health)
  -h, --help                this help (works offline, no credentials needed)

Exit codes: 0 ok, 1 operation failed, 2 usage (or confirmation needed), 3 not found,
            4 conflict (e.g. a rollback already running), 5 credentials or permission.`;

interface Command {
  summary: string;
  usage: string;
  details: string;
  options: Options;
  run(ctx: Context, values: Values): Promise<number>;
}

const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

function positiveNumber(v: string | boolean | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw usage(`--${name} must be a positive number (got "${String(v)}").`);
  return n;
}

const COMMANDS: Record<string, Command> = {
  status: {
    summary: 'what prod serves, each pipeline\'s stages, pending approvals, paused promotions',
    usage: 'status [--health-url URL]',
    details: `Reads the release ledger (what prod runs per the last release or rollback), prod's /health
(URL from the NotesStack-<prod> ApiUrl output, or --health-url), the Lambda version the API's live
alias serves and any CodeDeploy traffic shift in progress (GetAlias: versions and weights), and
GetPipelineState of the release, hotfix and rollback pipelines.`,
    options: {},
    run: (ctx) => status(ctx),
  },
  history: {
    summary: 'releases, rollbacks and failed attempts from the ledger, newest first',
    usage: 'history [--limit N]',
    details: `Lists the release ledger: every RELEASE (version, commit, execution), ROLLBACK (from, to, outcome,
who, why) and FAILED prod attempt (version, commit, execution, the action that failed and its
message, when it was detected and how its stage rollback ended).`,
    options: { limit: { type: 'string' } },
    run: (ctx, v) => history(ctx, positiveNumber(v.limit, 'limit', 20)),
  },
  metrics: {
    summary: 'DORA delivery metrics of a window, from the ledger',
    usage: 'metrics [--since ISO] [--until ISO]',
    details: `Reads the release ledger only (with --ledger-table, no other AWS call) and reports, for the
window [--since, --until) (default: the 90 days up to now):
  deployments (releases + failed attempts), deploymentFrequencyPerWeek / PerDay (releases),
  leadTimeHours {median, p90} (commit to release, over the releases with commit times),
  changeFailureRate (failed attempts + operator-rolled-back releases, over deployments),
  recoveryTimeMinutes {median, max}, counts {releases, failed, rollbacks}, window {from, to},
  and a performance band (elite, high, medium, low) per figure, citing the thresholds used.
Definitions: docs/02-cicd.md, "Delivery metrics".`,
    options: { since: { type: 'string' }, until: { type: 'string' } },
    run: (ctx, v) => metrics(ctx, { since: str(v.since), until: str(v.until) }),
  },
  rollback: {
    summary: 'put an earlier release back in prod (pauses promotions first)',
    usage: 'rollback [--to vX.Y.Z] --reason TEXT [--yes] [--wait] [--poll-seconds N] [--timeout-minutes N]',
    details: `Without --to, goes back to the release before the one prod runs now (per the ledger).
Shows the plan and asks for confirmation (--yes skips it; without a terminal --yes is required).
Refuses (exit 4) when a rollback is already running. Then:
  1. disables the inbound transition into the release pipeline's prod stage, with the reason;
  2. starts the rollback pipeline with TARGET_VERSION, REASON and REQUESTED_BY (your ARN);
  3. prints the execution id and console link; --wait follows it to the end (exit 1 if it fails).
Promotions stay paused until \`resume\`. Data is not rolled back (docs/runbooks/restore-data.md).`,
    options: {
      to: { type: 'string' },
      reason: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      wait: { type: 'boolean' },
      'poll-seconds': { type: 'string' },
      'timeout-minutes': { type: 'string' },
    },
    run: (ctx, v) =>
      rollback(ctx, {
        to: str(v.to),
        reason: str(v.reason),
        yes: v.yes === true,
        wait: v.wait === true,
        pollSeconds: positiveNumber(v['poll-seconds'], 'poll-seconds', 15),
        timeoutMinutes: positiveNumber(v['timeout-minutes'], 'timeout-minutes', 60),
      }),
  },
  resume: {
    summary: 're-enable promotions into prod after the fix',
    usage: 'resume [--force]',
    details: `Enables the inbound transition into the release pipeline's prod stage again. Refuses (exit 4)
while a rollback is running unless --force.`,
    options: { force: { type: 'boolean' } },
    run: (ctx, v) => resume(ctx, { force: v.force === true }),
  },
  approve: {
    summary: 'approve the manual approval waiting in a pipeline',
    usage: 'approve --comment TEXT [--pipeline release|hotfix|rollback|NAME] [--action NAME]',
    details: 'Finds the approval waiting in the pipeline (default: release) and approves it with your comment.',
    options: { pipeline: { type: 'string' }, action: { type: 'string' }, comment: { type: 'string' } },
    run: (ctx, v) => answerApproval(ctx, 'Approved', { pipeline: str(v.pipeline) ?? 'release', action: str(v.action), comment: str(v.comment) }),
  },
  reject: {
    summary: 'reject the manual approval waiting in a pipeline',
    usage: 'reject --comment TEXT [--pipeline release|hotfix|rollback|NAME] [--action NAME]',
    details: 'Finds the approval waiting in the pipeline (default: release) and rejects it with your comment.',
    options: { pipeline: { type: 'string' }, action: { type: 'string' }, comment: { type: 'string' } },
    run: (ctx, v) => answerApproval(ctx, 'Rejected', { pipeline: str(v.pipeline) ?? 'release', action: str(v.action), comment: str(v.comment) }),
  },
};

export function generalHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'notes-release: operate the Notes release pipelines (npm run release -- <command> [options])',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `<command> --help` for a command\'s options.',
    '',
    GLOBAL_HELP,
  ].join('\n');
}

export function commandHelp(name: string): string {
  const c = COMMANDS[name];
  return [`Usage: notes-release ${c.usage} [options]`, '', c.summary, '', c.details, '', GLOBAL_HELP].join('\n');
}

export interface RunOptions extends CliDeps {
  env?: NodeJS.ProcessEnv;
  /** The configuration defaults come from; default: cdk.json of this repository (null: none). */
  config?: AppConfig | null;
}

/** Runs the CLI and returns the exit code. Never throws. */
export async function runCli(argv: string[], io: Io, options: RunOptions = {}): Promise<number> {
  const wantsJson = argv.includes('--json');
  const report = errorReporter(io, wantsJson);

  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic && COMMANDS[topic]) io.out(commandHelp(topic));
    else io.out(generalHelp());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const command = COMMANDS[name];
  if (!command) return report(usage(`Unknown command "${name}".`, `Commands: ${Object.keys(COMMANDS).join(', ')}. Run --help for more.`));

  let values: Values;
  try {
    const parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...command.options }, strict: true, allowPositionals: false });
    values = parsed.values as Values;
  } catch (err) {
    return report(usage(`${(err as Error).message.split('\n')[0]}`, `Run \`${name} --help\` for its options.`));
  }
  if (values.help) {
    io.out(commandHelp(name));
    return EXIT.OK;
  }

  try {
    const config = options.config === undefined ? repoConfig() : options.config ?? undefined;
    const settings = resolveSettings(values as GlobalFlags, options.env ?? process.env, config);
    const ctx = new Context(settings, io, values.json === true, options);
    return await command.run(ctx, values);
  } catch (err) {
    return report(toCliError(err));
  }
}
