/**
 * The local DynamoDB: dynalite running in this process, its LevelDB files under
 * `<dataDir>/dynamodb`, and the notes table created on first start from the one schema
 * definition the CDK stack also uses.
 */
import { mkdir } from 'node:fs/promises';
import {
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { notesTableCreateInput } from '../notes-table-schema';
import { createTableAndWait } from './tables';
import { closeServer, httpUrl, listen, LocalStackError } from './net';

/** Placeholder credentials: dynalite and cognito-local accept any. Not secrets. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  documentClient: DynamoDBDocumentClient;
  /** True when the table was created by this start (first start on this data dir). */
  tableCreated: boolean;
  stop(): Promise<void>;
}

export async function startLocalDynamo(opts: {
  directory: string;
  host: string;
  port: number;
  region: string;
  tableName: string;
}): Promise<LocalDynamo> {
  await mkdir(opts.directory, { recursive: true });
  // Tables are ACTIVE at once; the item size limit stays DynamoDB's 400 KB.
  const server = dynalite({ path: opts.directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  let port: number;
  try {
    port = await listen(server, opts.host, opts.port, 'Local DynamoDB (dynalite)', '--dynamo-port');
  } catch (err) {
    await releaseStore(server, opts.host);
    throw err;
  }
  const endpoint = httpUrl(opts.host, port);

  const client = new DynamoDBClient({ endpoint, region: opts.region, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 });
  const documentClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

  const stop = async (): Promise<void> => {
    documentClient.destroy();
    client.destroy();
    // dynalite's close also waits for pending LevelDB writes and closes the database.
    await closeServer(server);
  };

  let tableCreated = false;
  try {
    tableCreated = await ensureTable(client, opts.tableName);
  } catch (err) {
    await stop().catch(() => undefined);
    const reason = err instanceof Error ? err.message : String(err);
    throw new LocalStackError(
      `Could not open the local DynamoDB data in ${opts.directory} (${reason}). ` +
        'Is another local stack using this data directory?',
    );
  }
  return { endpoint, client, documentClient, tableCreated, stop };
}

/**
 * dynalite opens its LevelDB when it is created, and closes it only from `server.close()` on a
 * listening server. When the port we asked for is taken, the only way to close that store is to
 * listen on a free loopback port and close again; otherwise the database stays open (its files
 * keep changing under a caller removing the data directory, and its lock blocks the next start).
 */
async function releaseStore(server: Parameters<typeof closeServer>[0], host: string): Promise<void> {
  try {
    await listen(server, host, 0, 'Local DynamoDB (dynalite)', '--dynamo-port');
  } finally {
    await closeServer(server).catch(() => undefined);
  }
}

/** Creates the notes table unless it exists and waits until it is ACTIVE; returns whether it created it. */
async function ensureTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return false;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  await createTableAndWait(client, notesTableCreateInput(tableName));
  return true;
}
