/**
 * The floor for a DynamoDB-backed Lambda: the least a handler that talks to DynamoDB must load at
 * cold start (the DynamoDB document client) and the least it must do per request (one call).
 * Bundled by the benchmark exactly like the real Lambdas, so their size and init time can be read
 * as a ratio against this one. Not deployed anywhere.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    region: process.env.AWS_REGION ?? 'us-east-1',
    ...(process.env.DYNAMODB_ENDPOINT ? { endpoint: process.env.DYNAMODB_ENDPOINT } : {}),
  }),
);

export const handler = async (event: { userId: string; noteId: string }): Promise<unknown> => {
  const out = await client.send(
    new GetCommand({ TableName: process.env.TABLE_NAME, Key: { userId: event.userId, noteId: event.noteId } }),
  );
  return out.Item ?? null;
};
