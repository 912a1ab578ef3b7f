/**
 * dynalite 4's CreateTable answers while the table is still CREATING; a test that writes at once
 * can race it. This waits (DescribeTable polling) until the table is ACTIVE.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';

export async function waitForActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (;;) {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (out.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setImmediate(r));
  }
}
