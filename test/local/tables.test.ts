/**
 * The one way tables are created: CreateTable, then wait until DescribeTable says ACTIVE. dynalite
 * (like DynamoDB) answers CreateTable while the table is still CREATING; writing then fails.
 */
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { notesTableCreateInput } from '../../lib/notes-table-schema';
import './support';
import { createTableAndWait, waitForTableActive } from '../../lib/local/tables';

// dynalite's default: a table stays CREATING for a while (here 1 s), as a real one does for a while.
const server = dynalite({ createTableMs: 1000 });
let client: DynamoDBClient;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const item = { userId: { S: 'u' }, noteId: { S: 'n' } };

test('CreateTable alone returns while the table is CREATING, and a write then fails (the race)', async () => {
  await client.send(new CreateTableCommand(notesTableCreateInput('raw')));

  const { Table } = await client.send(new DescribeTableCommand({ TableName: 'raw' }));
  const write = client.send(new PutItemCommand({ TableName: 'raw', Item: item }));

  expect(Table?.TableStatus).toBe('CREATING');
  await expect(write).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  await waitForTableActive(client, 'raw');
});

test('createTableAndWait returns only once the table is ACTIVE, so the first write succeeds', async () => {
  const name = await createTableAndWait(client, notesTableCreateInput('waited'));

  const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
  const write = await client.send(new PutItemCommand({ TableName: name, Item: item }));

  expect(name).toBe('waited');
  expect(Table?.TableStatus).toBe('ACTIVE');
  expect(write.$metadata.httpStatusCode).toBe(200);
});

test('a table that never becomes ACTIVE is reported by name and last status', async () => {
  await client.send(new CreateTableCommand(notesTableCreateInput('slow')));

  await expect(waitForTableActive(client, 'slow', { pollMs: 1, maxPolls: 1 })).rejects.toThrow(
    'Table slow did not become ACTIVE after 1 DescribeTable calls (last status: CREATING).',
  );
  await waitForTableActive(client, 'slow');
});
