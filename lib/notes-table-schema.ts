/**
 * The notes table's key schema: the one definition shared by the CDK stack (`NotesTable`) and the
 * local mode (which creates the same table in dynalite).
 *
 * `userId` is the caller's Cognito `sub`; `noteId` is a ULID, so a Query on one user's partition
 * in descending sort-key order returns that user's notes newest first, and nothing ever scans.
 */
export const NOTES_TABLE_KEYS = {
  partitionKey: 'userId',
  sortKey: 'noteId',
} as const;

/** The `CreateTable` input for the notes table (on-demand billing), used by the local mode. */
export function notesTableCreateInput(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: NOTES_TABLE_KEYS.partitionKey, AttributeType: 'S' as const },
      { AttributeName: NOTES_TABLE_KEYS.sortKey, AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: NOTES_TABLE_KEYS.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: NOTES_TABLE_KEYS.sortKey, KeyType: 'RANGE' as const },
    ],
  };
}
