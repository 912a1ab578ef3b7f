/**
 * Creating a DynamoDB table and waiting until it can be used: the one way every test fixture, the
 * local stack and the bench create tables.
 *
 * CreateTable returns while the table is still CREATING (DynamoDB and dynalite alike; dynalite 4
 * flips it to ACTIVE on a timer, even with `createTableMs: 0`), and a PutItem before that fails
 * with ResourceNotFoundException. So we poll DescribeTable until TableStatus is ACTIVE, the check
 * the SDK's `waitUntilTableExists` makes, with a poll interval suited to a local table.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { setTimeout as delay } from 'node:timers/promises';

export interface TableWaitOptions {
  /** Pause between two DescribeTable calls (default 20 ms). */
  pollMs?: number;
  /** Give up after this many DescribeTable calls (default 500, about 10 s locally). */
  maxPolls?: number;
}

/** Waits until the table's status is ACTIVE; throws naming the table and its last status otherwise. */
export async function waitForTableActive(client: DynamoDBClient, tableName: string, opts: TableWaitOptions = {}): Promise<void> {
  const pollMs = opts.pollMs ?? 20;
  const maxPolls = opts.maxPolls ?? 500;
  let status = 'missing';
  for (let poll = 0; poll < maxPolls; poll++) {
    if (poll > 0) await delay(pollMs);
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      status = Table?.TableStatus ?? 'unknown';
      if (status === 'ACTIVE') return;
    } catch (err) {
      // Right after CreateTable an eventually consistent DescribeTable may not see the table yet.
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
  }
  throw new Error(`Table ${tableName} did not become ACTIVE after ${maxPolls} DescribeTable calls (last status: ${status}).`);
}

/** CreateTable, then wait until the table is ACTIVE. Returns the table name. */
export async function createTableAndWait(client: DynamoDBClient, input: CreateTableCommandInput, opts?: TableWaitOptions): Promise<string> {
  const tableName = input.TableName;
  if (!tableName) throw new Error('createTableAndWait needs a TableName.');
  await client.send(new CreateTableCommand(input));
  await waitForTableActive(client, tableName, opts);
  return tableName;
}
