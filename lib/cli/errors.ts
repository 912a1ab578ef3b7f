/**
 * Exit codes the operator CLI promises to scripts, and the mapping from AWS errors to them with a
 * hint that says what to do.
 */
import { parseArgs, type ParseArgsConfig } from 'util';

export const EXIT = {
  /** The command did what it was asked. */
  OK: 0,
  /** The operation failed (an AWS call failed, the rollback failed, the operator said no). */
  FAILED: 1,
  /** Bad usage: unknown command or option, missing value, or confirmation needed (--yes). */
  USAGE: 2,
  /** Something named does not exist: pipeline, stage, version, ledger table, approval. */
  NOT_FOUND: 3,
  /** The state forbids it now: a rollback is already running, approval already decided. */
  CONFLICT: 4,
  /** No usable AWS credentials, or they lack permission. */
  AUTH: 5,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const CODE_NAMES: Record<number, string> = { 0: 'OK', 1: 'FAILED', 2: 'USAGE', 3: 'NOT_FOUND', 4: 'CONFLICT', 5: 'AUTH' };
export const exitCodeName = (code: number): string => CODE_NAMES[code] ?? 'FAILED';

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usage = (message: string, hint?: string) => new CliError(EXIT.USAGE, message, hint);
export const notFound = (message: string, hint?: string) => new CliError(EXIT.NOT_FOUND, message, hint);
export const conflict = (message: string, hint?: string) => new CliError(EXIT.CONFLICT, message, hint);
export const failed = (message: string, hint?: string) => new CliError(EXIT.FAILED, message, hint);

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'TokenProviderError',
]);
const ACCESS_ERRORS = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation', 'NotAuthorized']);

const CREDENTIALS_HINT =
  'No usable AWS credentials. Sign in to the account that holds the pipelines (e.g. `aws sso login --profile <profile>` and `export AWS_PROFILE=<profile>`), then run the command again.';

/** What the command was doing when an AWS call failed, to name it in the message. */
export interface ErrorContext {
  /** e.g. `pipeline notes-release` */
  resource?: string;
  region?: string;
  /** Replaces the credentials hint (it names the pipelines' account; restore needs the table's). */
  credentialsHint?: string;
  /** Replaces the access-denied hint (the release operator role), e.g. for restore. */
  accessHint?: string;
}

/** Turns anything thrown into a CliError with the exit code and a hint. */
export function toCliError(err: unknown, context: ErrorContext = {}): CliError {
  if (err instanceof CliError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const name = e.name;
  const where = context.region ? ` in region ${context.region}` : '';
  if (CREDENTIAL_ERRORS.has(name)) return new CliError(EXIT.AUTH, `AWS credentials: ${e.message}`, context.credentialsHint ?? CREDENTIALS_HINT);
  if (ACCESS_ERRORS.has(name)) {
    return new CliError(
      EXIT.AUTH,
      `Access denied${context.resource ? ` on ${context.resource}` : ''}: ${e.message}`,
      context.accessHint ?? 'Your credentials work but may not do this. Use the release operator role (see docs/runbooks/rollback.md, "Who can run it").',
    );
  }
  if (name === 'PipelineNotFoundException') {
    return new CliError(
      EXIT.NOT_FOUND,
      `${context.resource ?? 'The pipeline'} was not found${where}.`,
      'Deploy the NotesPipeline stack first, or pass the right --region / --release-pipeline / --hotfix-pipeline / --rollback-pipeline.',
    );
  }
  if (name === 'StageNotFoundException') {
    return new CliError(EXIT.NOT_FOUND, `Stage not found in ${context.resource ?? 'the pipeline'}: ${e.message}`, 'Pass the production stage name with --prod-stage.');
  }
  if (name === 'PipelineExecutionNotFoundException') return new CliError(EXIT.NOT_FOUND, `Execution not found: ${e.message}`);
  if (name === 'ResourceNotFoundException') {
    return new CliError(
      EXIT.NOT_FOUND,
      `${context.resource ?? 'A resource'} was not found${where}: ${e.message}`,
      'Pass the release ledger table with --ledger-table or NOTES_LEDGER_TABLE (the NotesPipeline stack output LedgerTableName).',
    );
  }
  if (name === 'ApprovalAlreadyCompletedException' || name === 'InvalidApprovalTokenException') {
    return new CliError(EXIT.CONFLICT, `The approval was already decided or has moved on: ${e.message}`, 'Run `status` to see what is waiting now.');
  }
  if (name === 'ConcurrentPipelineExecutionsLimitExceededException' || name === 'ConflictException') {
    return new CliError(EXIT.CONFLICT, e.message, 'Wait for the running execution to finish (`status`).');
  }
  return new CliError(EXIT.FAILED, `${context.resource ? `${context.resource}: ` : ''}${e.message}`);
}

/**
 * How every operator tool reports an error and its exit code: one line (and a hint) on stderr,
 * or with `--json` a JSON document on stdout, so scripts read errors where they read results.
 */
export function errorReporter(io: { out(line: string): void; err(line: string): void }, json: boolean): (e: CliError) => number {
  return (e) => {
    if (json) io.out(JSON.stringify({ error: { code: exitCodeName(e.exitCode), exitCode: e.exitCode, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } }, null, 2));
    else {
      io.err(`error: ${e.message}`);
      if (e.hint) io.err(`hint: ${e.hint}`);
    }
    return e.exitCode;
  };
}

/**
 * A tool's flags, parsed strictly: an unknown flag or a missing value is a usage error (exit 2)
 * naming it, never a stack trace.
 */
export function strictFlags(argv: string[], options: ParseArgsConfig['options']): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw usage((err as Error).message.split('\n')[0], 'Run with --help for the options.');
  }
}
