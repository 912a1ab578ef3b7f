/**
 * `npm run restore -- --to-time ISO --source-table NAME [--target-table NAME] [--yes] [--json]`:
 * arguments, confirmation, output and exit codes (the operator CLI's: 0 ok, 1 failed, 2 usage,
 * 3 not found, 4 conflict, 5 credentials) around lib/restore/restore.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CliError, errorReporter, EXIT, strictFlags, toCliError, usage } from '../cli/errors';
import { Io } from '../cli/io';
import { repoConfig } from '../cli/settings';
import { failedOperation, restoreTable } from './restore';

/**
 * A failed DynamoDB call as the operator should read it: which call, in which region, and whose
 * credentials it needs (the account of the table, not the pipelines' account).
 */
export function restoreError(err: unknown, region: string, source: string): CliError {
  const operation = failedOperation(err);
  const name = err instanceof Error ? err.name : '';
  if (operation && name === 'UnknownOperationException') {
    return new CliError(
      EXIT.FAILED,
      `DynamoDB ${operation} failed in ${region}: the endpoint does not implement it (UnknownOperationException).`,
      'Point-in-time restore needs DynamoDB itself. A local endpoint such as dynalite (npm start) has no point-in-time recovery APIs: ' +
        'unset AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_DYNAMODB and use credentials for the account that holds the table.',
    );
  }
  const account = repoConfig()?.environments.find((e) => e.kind === 'production')?.account;
  return toCliError(err, {
    resource: operation ? `DynamoDB ${operation} on ${source} (${region})` : `DynamoDB (${region})`,
    region,
    credentialsHint:
      `No usable AWS credentials. Sign in to the account that holds the table ${source} (the NotesStack-<env> stack's account` +
      `${account ? `; production is ${account} in cdk.json` : ''}), e.g. \`aws sso login --profile <profile>\` and \`export AWS_PROFILE=<profile>\`, then run the command again.`,
    accessHint: 'Your credentials work but may not do this. docs/runbooks/restore-data.md lists the permissions a restore needs.',
  });
}

export const RESTORE_HELP = `Usage: npm run restore -- --to-time ISO --source-table NAME [options]

Restores a DynamoDB table (the notes table) to a point in time into a NEW table, waits until it is
ACTIVE, enables point-in-time recovery and deletion protection on it, verifies it (key schema, item
counts, a sample compared with the live table) and prints the cut-over steps. Never overwrites.

Options:
  --to-time ISO          the point to restore to, e.g. 2026-11-24T10:15:00Z (inside the PITR window)
  --source-table NAME    the live table (NotesStack-<env> output TableName)
  --target-table NAME    the new table (default <source>-restore-<YYYYMMDDTHHMMZ>)
  --region REGION        default: AWS_REGION, else the production region in cdk.json
  --sample N             items compared with the live table (default 25, 0 = none)
  --poll-seconds N       how often to check the restore (default 30)
  --timeout-minutes N    stop waiting after this long (default 240; the restore goes on)
  --yes                  do not ask for confirmation (required without a terminal)
  --json                 machine-readable output on stdout (errors too)
  -h, --help             this help (offline)

Exit codes: 0 ok, 1 failed, 2 usage (bad time, outside the window, confirmation needed),
            3 source not found, 4 target already exists, 5 credentials or permission.
See docs/runbooks/restore-data.md.`;

export interface RestoreCliDeps {
  dynamodb?: DynamoDBClient;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
  env?: NodeJS.ProcessEnv;
}

function positive(v: string | undefined, name: string, fallback: number, allowZero = false): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || (!allowZero && n === 0)) throw usage(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} whole number (got "${v}").`);
  return n;
}

export async function runRestore(argv: string[], io: Io, deps: RestoreCliDeps = {}): Promise<number> {
  const json = argv.includes('--json');
  const report = errorReporter(io, json);
  try {
    const values = strictFlags(argv, {
        'to-time': { type: 'string' },
        'source-table': { type: 'string' },
        'target-table': { type: 'string' },
        region: { type: 'string' },
        sample: { type: 'string' },
        'poll-seconds': { type: 'string' },
        'timeout-minutes': { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      });
    if (values.help) {
      io.out(RESTORE_HELP);
      return EXIT.OK;
    }
    const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
    const source = str('source-table');
    const toTimeText = str('to-time');
    if (!source) throw usage('--source-table is required.', 'It is the NotesStack-<env> stack output TableName.');
    if (!toTimeText) throw usage('--to-time is required (ISO 8601, e.g. 2026-11-24T10:15:00Z).');
    const toTime = new Date(toTimeText);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(toTimeText) || Number.isNaN(toTime.getTime())) throw usage(`--to-time "${toTimeText}" is not an ISO 8601 time such as 2026-11-24T10:15:00Z.`);
    const sampleSize = positive(str('sample'), 'sample', 25, true);
    const pollSeconds = positive(str('poll-seconds'), 'poll-seconds', 30);
    const timeoutMinutes = positive(str('timeout-minutes'), 'timeout-minutes', 240);

    const env = deps.env ?? process.env;
    let region = str('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) {
      const config = repoConfig();
      region = config?.environments.find((e) => e.kind === 'production')?.region ?? 'eu-west-1';
    }
    const dynamodb = deps.dynamodb ?? new DynamoDBClient({ region });
    const progress = (line: string) => (json ? io.err(line) : io.out(line));
    const result = await restoreTable(
      {
        dynamodb,
        sleep: deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
        now: deps.now ?? (() => new Date()),
        progress,
        confirm: async (plan) => {
          if (values.yes) return true;
          if (!io.interactive) throw usage('Refusing to restore without confirmation: stdin is not a terminal.', 'Pass --yes to confirm non-interactively.');
          const answer = (await io.ask(`Restore ${plan.sourceTable} to ${plan.toTime} into ${plan.targetTable}? Type "yes" to continue: `)).trim().toLowerCase();
          return answer === 'yes' || answer === 'y';
        },
      },
      { sourceTable: source, targetTable: str('target-table'), toTime, sampleSize, pollSeconds, timeoutMinutes },
    ).catch((err: unknown) => {
      throw restoreError(err, region as string, source);
    });
    if (!result) throw new CliError(EXIT.FAILED, 'Restore cancelled; nothing was created.');
    if (json) io.out(JSON.stringify(result, null, 2));
    else {
      io.out('');
      io.out(`Restored ${result.plan.sourceTable} as of ${result.plan.toTime} into ${result.plan.targetTable}.`);
      io.out('Cut-over:');
      result.cutOver.forEach((step, i) => io.out(`  ${i + 1}. ${step}`));
    }
    return EXIT.OK;
  } catch (err) {
    return report(toCliError(err));
  }
}
