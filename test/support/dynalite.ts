import { AddressInfo } from 'net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { notesTableCreateInput } from '../../lib/notes-table-schema';
import { createTableAndWait } from '../../lib/local/tables';
import { LEDGER_KEYS } from '../../lib/release/ledger';

/** A dynalite server running in this process on a free loopback port, with clients pointed at it. */
export interface RunningDynalite {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** The low-level client (table management). */
  client: DynamoDBClient;
  /** A real DocumentClient talking HTTP to dynalite (the same client type the Lambda uses). */
  documentClient: DynamoDBDocumentClient;
  /** Creates a notes table (the production key schema), waits until it is ACTIVE and returns its name. */
  createNotesTable(name?: string): Promise<string>;
  /** Creates a release-ledger table (string `pk`/`sk`, as NotesPipeline declares it), waits until it is ACTIVE, returns its name. */
  createLedgerTable(name?: string): Promise<string>;
  stop(): Promise<void>;
}

let tableCounter = 0;

/**
 * Starts an in-memory dynalite on 127.0.0.1 (port chosen by the OS). Its tables still pass through
 * CREATING (on a zero-length timer), so the create helpers wait for ACTIVE before returning.
 */
export async function startDynalite(): Promise<RunningDynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;

  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    // dynalite accepts any credentials; these are placeholders, not secrets.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });

  return {
    endpoint,
    client,
    documentClient,
    async createNotesTable(name?: string): Promise<string> {
      const tableName = name ?? `notes-test-${process.pid}-${++tableCounter}`;
      return createTableAndWait(client, notesTableCreateInput(tableName));
    },
    async createLedgerTable(name?: string): Promise<string> {
      const tableName = name ?? `ledger-test-${process.pid}-${++tableCounter}`;
      const { partitionKey, sortKey } = LEDGER_KEYS;
      return createTableAndWait(client, {
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: partitionKey, AttributeType: 'S' },
          { AttributeName: sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: partitionKey, KeyType: 'HASH' },
          { AttributeName: sortKey, KeyType: 'RANGE' },
        ],
      });
    },
    async stop(): Promise<void> {
      documentClient.destroy();
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
