/**
 * The embedded local stack behind `npm start`: dynalite, cognito-local and a local API Gateway,
 * all in this process, on loopback, with their data under one directory that survives restarts.
 *
 *   const stack = await startLocalStack({ dataDir: '.notes-local', apiPort: 0 });
 *   // stack.apiUrl, stack.userPoolId, ...; createUser/getIdToken from ./users
 *   await stack.stop();
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { createLocalAuthorizer, type LocalAuthorizer } from './authorizer';
import { startLocalCognito, type LocalCognito } from './cognito';
import { startLocalDynamo, type LocalDynamo } from './dynamo';
import { answerClientError, createGatewayListener, type NotesHandler } from './gateway';
import { closeServer, httpUrl, listen, LocalStackError } from './net';
import { ensureLocalPool } from './pool';
import { processAlive, readState, writeState, type LocalStackState } from './state';

export type { NotesHandler } from './gateway';
export { LocalStackError, PortInUseError } from './net';

export const LOCAL_REGION = 'local';
export const LOCAL_TABLE_NAME = 'notes-local';
export const DEFAULT_HOST = '127.0.0.1';
/** API Gateway's default for this API (`maxBodyBytes` in cdk.json). */
export const DEFAULT_MAX_BODY_BYTES = 262_144;

export interface LocalStackOptions {
  /** Where DynamoDB (`dynamodb/`), Cognito (`cognito/`) and `local-stack.json` live. */
  dataDir: string;
  /** Loopback address to listen on (default 127.0.0.1). Other addresses are refused. */
  host?: string;
  /** Ports; 0 (the default) picks a free port. */
  apiPort?: number;
  dynamoPort?: number;
  cognitoPort?: number;
  /** Replaces the real notes handler (tests, fault injection). */
  handler?: NotesHandler;
  version?: string;
  commit?: string;
  maxBodyBytes?: number;
  corsAllowOrigins?: string[];
  /** Where request and status lines go (default: nowhere). */
  log?: (line: string) => void;
}

export interface LocalStack {
  /** Base URL of the API, ending in `/` like the deployed stack's ApiUrl output. */
  apiUrl: string;
  cognitoEndpoint: string;
  dynamoEndpoint: string;
  region: string;
  userPoolId: string;
  /** The public app client (end users). */
  clientId: string;
  /** The smoke-test client (ADMIN_USER_PASSWORD_AUTH only). */
  smokeClientId: string;
  tableName: string;
  dataDir: string;
  /** The issuer of the pool's tokens (`<cognitoEndpoint>/<userPoolId>`). */
  issuer: string;
  stop(): Promise<void>;
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/;

async function createNotesHandler(opts: {
  dynamo: LocalDynamo;
  tableName: string;
  version: string;
  commit: string;
  maxBodyBytes: number;
  corsAllowOrigins: string[];
}): Promise<NotesHandler> {
  // Loaded on demand: a stack started with an injected handler never loads the real one.
  const { createNotesApi } = await import('../../lambda/notes-api/app');
  return createNotesApi({
    documentClient: opts.dynamo.documentClient,
    tableName: opts.tableName,
    version: opts.version,
    commit: opts.commit,
    maxBodyBytes: opts.maxBodyBytes,
    corsAllowOrigins: opts.corsAllowOrigins,
  });
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const host = opts.host ?? DEFAULT_HOST;
  if (!LOOPBACK.test(host)) {
    throw new LocalStackError(`The local stack listens on loopback only; "${host}" is not a loopback address (use 127.0.0.1 or ::1).`);
  }
  const log = opts.log ?? ((): void => undefined);
  const dataDir = resolve(opts.dataDir);
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const corsAllowOrigins = opts.corsAllowOrigins ?? [];
  // The first directory this start creates (undefined when the data directory already existed):
  // removed again when the start fails, so a failed start leaves nothing behind.
  const createdDir = makeDataDir(dataDir);
  try {
    return await startInDataDir(opts, host, log, dataDir, maxBodyBytes, corsAllowOrigins);
  } catch (err) {
    if (createdDir) rmSync(createdDir, { recursive: true, force: true });
    throw err;
  }
}

/** Creates the data directory, or says in one line why it cannot be one; returns the first directory created. */
function makeDataDir(dataDir: string): string | undefined {
  try {
    const existing = statSync(dataDir, { throwIfNoEntry: false });
    if (existing && !existing.isDirectory()) {
      throw new LocalStackError(`The data directory ${dataDir} is a file, not a directory. Choose another --data-dir (or move the file away).`);
    }
    return mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    if (err instanceof LocalStackError) throw err;
    const code = (err as { code?: string }).code;
    const why =
      code === 'ENOTDIR' || code === 'EEXIST'
        ? 'a part of that path is a file, not a directory'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EROFS'
            ? 'the file system is read-only'
            : (err as Error).message;
    throw new LocalStackError(`Cannot use ${dataDir} as the data directory: ${why}. Choose another --data-dir.`);
  }
}

async function startInDataDir(
  opts: LocalStackOptions,
  host: string,
  log: (line: string) => void,
  dataDir: string,
  maxBodyBytes: number,
  corsAllowOrigins: string[],
): Promise<LocalStack> {
  const previous = readState(dataDir);
  if (previous?.running && previous.running.pid !== process.pid && processAlive(previous.running.pid)) {
    throw new LocalStackError(
      `Another local stack (process ${previous.running.pid}) is already using ${dataDir} and serves ${previous.running.apiUrl}. ` +
        'Stop it first, or start this one with another --data-dir.',
    );
  }
  const tableName = previous?.tableName ?? LOCAL_TABLE_NAME;

  // Start both engines at once; if either fails, stop the other before reporting.
  const [dynamoResult, cognitoResult] = await Promise.allSettled([
    startLocalDynamo({ directory: resolve(dataDir, 'dynamodb'), host, port: opts.dynamoPort ?? 0, region: LOCAL_REGION, tableName }),
    startLocalCognito({ directory: resolve(dataDir, 'cognito'), host, port: opts.cognitoPort ?? 0, log }),
  ]);
  if (dynamoResult.status === 'rejected' || cognitoResult.status === 'rejected') {
    if (dynamoResult.status === 'fulfilled') await dynamoResult.value.stop().catch(() => undefined);
    if (cognitoResult.status === 'fulfilled') await cognitoResult.value.stop().catch(() => undefined);
    throw dynamoResult.status === 'rejected' ? dynamoResult.reason : (cognitoResult as PromiseRejectedResult).reason;
  }
  const dynamo: LocalDynamo = dynamoResult.value;
  const cognito: LocalCognito = cognitoResult.value;

  let server: Server | undefined;
  const stopEngines = async (): Promise<void> => {
    await Promise.allSettled([cognito.stop(), dynamo.stop()]);
  };

  try {
    const ids = await ensureLocalPool(cognito, previous ?? {});
    const issuer = `${cognito.endpoint}/${ids.userPoolId}`;
    const authorizer: LocalAuthorizer = createLocalAuthorizer({ issuer, clientIds: [ids.clientId, ids.smokeClientId] });
    const handler =
      opts.handler ??
      (await createNotesHandler({
        dynamo,
        tableName,
        version: opts.version ?? 'local',
        commit: opts.commit ?? 'unknown',
        maxBodyBytes,
        corsAllowOrigins,
      }));

    server = createServer(
      createGatewayListener({
        handler: () => handler,
        authorizer: () => authorizer,
        maxBodyBytes,
        corsAllowOrigins,
        log,
      }),
    );
    server.on('clientError', answerClientError);
    const apiPort = await listen(server, host, opts.apiPort ?? 0, 'Local API', '--port');
    const apiUrl = `${httpUrl(host, apiPort)}/`;

    const state: LocalStackState = {
      region: LOCAL_REGION,
      tableName,
      userPoolId: ids.userPoolId,
      clientId: ids.clientId,
      smokeClientId: ids.smokeClientId,
      running: {
        pid: process.pid,
        apiUrl,
        cognitoEndpoint: cognito.endpoint,
        dynamoEndpoint: dynamo.endpoint,
        startedAt: new Date().toISOString(),
      },
    };
    writeState(dataDir, state);
    if (dynamo.tableCreated) log(`created table ${tableName}`);
    if (ids.created) log(`created user pool ${ids.userPoolId} with clients ${ids.clientId} (web), ${ids.smokeClientId} (smoke)`);

    let stopping: Promise<void> | undefined;
    const apiServer = server;
    return {
      apiUrl,
      cognitoEndpoint: cognito.endpoint,
      dynamoEndpoint: dynamo.endpoint,
      region: LOCAL_REGION,
      userPoolId: ids.userPoolId,
      clientId: ids.clientId,
      smokeClientId: ids.smokeClientId,
      tableName,
      dataDir,
      issuer,
      stop(): Promise<void> {
        stopping ??= (async () => {
          await closeServer(apiServer).catch(() => undefined);
          await stopEngines();
          writeState(dataDir, { ...state, running: undefined });
        })();
        return stopping;
      },
    };
  } catch (err) {
    if (server) await closeServer(server).catch(() => undefined);
    await stopEngines();
    throw err;
  }
}
