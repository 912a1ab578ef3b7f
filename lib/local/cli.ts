/**
 * Command-line settings of the local mode: flags first, then environment variables, then defaults.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../config';
import { LocalStackError } from './net';
import { DEFAULT_HOST, DEFAULT_MAX_BODY_BYTES } from './stack';

export const DEFAULT_DATA_DIR = '.notes-local';
export const DEFAULT_PORTS = { api: 3000, dynamo: 8000, cognito: 9229 } as const;

export interface LocalCliSettings {
  dataDir: string;
  host: string;
  apiPort: number;
  dynamoPort: number;
  cognitoPort: number;
  verbose: boolean;
  help: boolean;
}

export const LOCAL_USAGE = `Usage: npm start -- [options]

Runs the notes API locally: the real handler on an embedded DynamoDB (dynalite) and Cognito
(cognito-local), behind a local API Gateway with the Cognito authorizer. Loopback only.

Options (environment variable in brackets):
  --port N          API port [NOTES_LOCAL_PORT] (default ${DEFAULT_PORTS.api}; 0 = any free port)
  --dynamo-port N   DynamoDB port [NOTES_LOCAL_DYNAMO_PORT] (default ${DEFAULT_PORTS.dynamo})
  --cognito-port N  Cognito port [NOTES_LOCAL_COGNITO_PORT] (default ${DEFAULT_PORTS.cognito})
  --data-dir DIR    where the data lives [NOTES_LOCAL_DATA_DIR] (default ${DEFAULT_DATA_DIR})
  --host ADDR       loopback address [NOTES_LOCAL_HOST] (default ${DEFAULT_HOST})
  --verbose         also print the handler's own JSON logs
  --help            this text
`;

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new LocalStackError(`${name} must be a port number between 0 and 65535 (got "${value}").`);
  }
  return n;
}

export function parseLocalArgs(argv: string[], env: NodeJS.ProcessEnv): LocalCliSettings {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        'dynamo-port': { type: 'string' },
        'cognito-port': { type: 'string' },
        'data-dir': { type: 'string' },
        host: { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new LocalStackError(`${err instanceof Error ? err.message : String(err)}\n\n${LOCAL_USAGE}`);
  }
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  return {
    apiPort: port(str('port') ?? env.NOTES_LOCAL_PORT, DEFAULT_PORTS.api, '--port'),
    dynamoPort: port(str('dynamo-port') ?? env.NOTES_LOCAL_DYNAMO_PORT, DEFAULT_PORTS.dynamo, '--dynamo-port'),
    cognitoPort: port(str('cognito-port') ?? env.NOTES_LOCAL_COGNITO_PORT, DEFAULT_PORTS.cognito, '--cognito-port'),
    dataDir: str('data-dir') ?? env.NOTES_LOCAL_DATA_DIR ?? DEFAULT_DATA_DIR,
    host: str('host') ?? env.NOTES_LOCAL_HOST ?? DEFAULT_HOST,
    verbose: values.verbose === true,
    help: values.help === true,
  };
}

/** The data directory for helper commands (`local:user`): `--data-dir DIR` anywhere, else env, else default. */
export function dataDirFromArgs(argv: string[], env: NodeJS.ProcessEnv): { dataDir: string; rest: string[] } {
  const rest: string[] = [];
  let dataDir = env.NOTES_LOCAL_DATA_DIR ?? DEFAULT_DATA_DIR;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--data-dir' && i + 1 < argv.length) dataDir = argv[++i];
    else if (a.startsWith('--data-dir=')) dataDir = a.slice('--data-dir='.length);
    else rest.push(a);
  }
  return { dataDir, rest };
}

/** The API settings local mode borrows from the first pre-production environment in cdk.json. */
export function apiSettingsFromCdkJson(root: string): { corsAllowOrigins: string[]; maxBodyBytes: number; environment?: string } {
  try {
    const cdk = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
    const cfg = parseConfig(cdk.context?.notes);
    const env = cfg.environments.find((e) => e.kind === 'pre-production') ?? cfg.environments[0];
    return { corsAllowOrigins: env.corsAllowOrigins, maxBodyBytes: env.maxBodyBytes, environment: env.name };
  } catch {
    return { corsAllowOrigins: [], maxBodyBytes: DEFAULT_MAX_BODY_BYTES };
  }
}

/** Version from package.json and the checked-out commit, as the deployed /health reports them. */
export function releaseInfo(root: string): { version: string; commit: string } {
  let version = '0.0.0';
  try {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? version;
  } catch {
    // keep the placeholder
  }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    // not a git checkout
  }
  return { version, commit };
}
