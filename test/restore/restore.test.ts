/**
 * The restore tool against a mocked DynamoDB control plane (point-in-time restore cannot run
 * locally): the exact calls, in order, and every refusal.
 */
import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ResourceNotFoundException,
  RestoreTableToPointInTimeCommand,
  ScanCommand,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { RestoreCliDeps, runRestore } from '../../lib/restore/main';
import { defaultTargetName } from '../../lib/restore/restore';
import { captureIo } from '../cli/support';

const ddb = mockClient(DynamoDBClient);
const SOURCE = 'NotesStack-prod-NotesTable1234-ABCD';
const TARGET = 'notes-restore-1';
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1111';
const KEYS = [
  { AttributeName: 'userId', KeyType: 'HASH' as const },
  { AttributeName: 'noteId', KeyType: 'RANGE' as const },
];
const notFoundError = () => new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} });
const note = (id: string, title: string) => ({ userId: { S: 'u1' }, noteId: { S: id }, title: { S: title } });

function callNames(): string[] {
  return ddb.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ''));
}

beforeEach(() => {
  ddb.reset();
  ddb.on(DescribeTableCommand, { TableName: SOURCE }).resolves({
    Table: { TableName: SOURCE, KeySchema: KEYS, BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' }, SSEDescription: { Status: 'ENABLED', SSEType: 'KMS', KMSMasterKeyArn: KEY } },
  });
  ddb.on(DescribeContinuousBackupsCommand, { TableName: SOURCE }).resolves({
    ContinuousBackupsDescription: {
      ContinuousBackupsStatus: 'ENABLED',
      PointInTimeRecoveryDescription: {
        PointInTimeRecoveryStatus: 'ENABLED',
        EarliestRestorableDateTime: new Date('2026-10-20T00:00:00Z'),
        LatestRestorableDateTime: new Date('2026-11-24T10:55:00Z'),
        RecoveryPeriodInDays: 35,
      },
    },
  });
  ddb
    .on(DescribeTableCommand, { TableName: TARGET })
    .rejectsOnce(notFoundError())
    .resolvesOnce({ Table: { TableName: TARGET, TableStatus: 'CREATING' } })
    .resolves({ Table: { TableName: TARGET, TableStatus: 'ACTIVE', KeySchema: KEYS, TableArn: `arn:aws:dynamodb:eu-west-1:123456789012:table/${TARGET}` } });
  ddb.on(RestoreTableToPointInTimeCommand).resolves({ TableDescription: { TableName: TARGET, TableStatus: 'CREATING' } });
  ddb.on(UpdateContinuousBackupsCommand).resolves({});
  ddb.on(UpdateTableCommand).resolves({});
  ddb.on(ScanCommand, { TableName: TARGET, Select: 'COUNT' }).resolvesOnce({ Count: 2, LastEvaluatedKey: { userId: { S: 'u1' }, noteId: { S: 'n2' } } }).resolves({ Count: 1 });
  ddb.on(ScanCommand, { TableName: SOURCE, Select: 'COUNT' }).resolves({ Count: 2 });
  ddb.on(ScanCommand, { TableName: TARGET, Limit: 25 }).resolves({ Items: [note('n1', 'same'), note('n2', 'old title'), note('n3', 'deleted later')] });
  ddb.on(GetItemCommand, { TableName: SOURCE, Key: { userId: { S: 'u1' }, noteId: { S: 'n1' } } }).resolves({ Item: note('n1', 'same') });
  ddb.on(GetItemCommand, { TableName: SOURCE, Key: { userId: { S: 'u1' }, noteId: { S: 'n2' } } }).resolves({ Item: note('n2', 'new title') });
  ddb.on(GetItemCommand, { TableName: SOURCE, Key: { userId: { S: 'u1' }, noteId: { S: 'n3' } } }).resolves({});
});

async function restore(args: string[], io = captureIo(), deps: Pick<RestoreCliDeps, 'now'> = {}) {
  const sleeps: number[] = [];
  const code = await runRestore(args, io, { dynamodb: new DynamoDBClient({ region: 'eu-west-1' }), sleep: async (ms) => void sleeps.push(ms), env: {}, ...deps });
  return { code, io, sleeps, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

const base = ['--source-table', SOURCE, '--target-table', TARGET, '--to-time', '2026-11-24T10:15:00Z'];

describe('restore', () => {
  test('restores into a new table, waits for ACTIVE, protects it, verifies it and prints the cut-over steps', async () => {
    const run = await restore([...base, '--yes']);

    expect(run.code).toBe(0);
    expect(callNames()).toEqual([
      'DescribeTable', // source
      'DescribeContinuousBackups', // source PITR window
      'DescribeTable', // target must not exist
      'RestoreTableToPointInTime',
      'DescribeTable', // CREATING
      'DescribeTable', // ACTIVE
      'UpdateContinuousBackups',
      'UpdateTable',
      'Scan', // count restored (page 1)
      'Scan', // count restored (page 2)
      'Scan', // count live
      'Scan', // sample
      'GetItem',
      'GetItem',
      'GetItem',
    ]);
    expect(ddb.commandCalls(RestoreTableToPointInTimeCommand)[0].args[0].input).toEqual({
      SourceTableName: SOURCE,
      TargetTableName: TARGET,
      RestoreDateTime: new Date('2026-11-24T10:15:00Z'),
      BillingModeOverride: 'PAY_PER_REQUEST',
      SSESpecificationOverride: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: KEY },
    });
    expect(ddb.commandCalls(UpdateContinuousBackupsCommand)[0].args[0].input).toEqual({
      TableName: TARGET,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 },
    });
    expect(ddb.commandCalls(UpdateTableCommand)[0].args[0].input).toEqual({ TableName: TARGET, DeletionProtectionEnabled: true });
    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, { TableName: SOURCE, ConsistentRead: true });
    expect(run.sleeps).toEqual([30_000]);
    expect(run.stdout).toContain('Verification: key schema matches; 3 items restored, 2 in the live table now.');
    expect(run.stdout).toContain('Sample of 3: 1 identical to live, 1 changed since, 1 no longer in the live table.');
    expect(run.stdout).toContain(`Restored ${SOURCE} as of 2026-11-24T10:15:00.000Z into ${TARGET}.`);
    expect(run.stdout).toContain('Cut-over:');
  });

  test('--json prints the report', async () => {
    const run = await restore([...base, '--yes', '--json']);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      plan: { sourceTable: SOURCE, targetTable: TARGET, toTime: '2026-11-24T10:15:00.000Z' },
      pointInTimeRecovery: true,
      deletionProtection: true,
      verification: { keySchemaMatches: true, restoredItemCount: 3, liveItemCount: 2, sample: { compared: 3, identical: 1, changedSince: 1, goneFromLive: 1 } },
    });
  });

  test('a time outside the restorable window exits 2 showing the window, and nothing is created', async () => {
    const run = await restore(['--source-table', SOURCE, '--target-table', TARGET, '--to-time', '2026-09-01T00:00:00Z', '--yes']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: --to-time 2026-09-01T00:00:00.000Z is outside the restorable window of ${SOURCE}: 2026-10-20T00:00:00.000Z to 2026-11-24T10:55:00.000Z.`);
    expect(ddb).toHaveReceivedCommandTimes(RestoreTableToPointInTimeCommand, 0);
  });

  test('a time after the newest restorable point exits 2 showing the window, and nothing is created', async () => {
    const run = await restore(['--source-table', SOURCE, '--target-table', TARGET, '--to-time', '2026-11-24T11:00:00Z', '--yes']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: --to-time 2026-11-24T11:00:00.000Z is outside the restorable window of ${SOURCE}: 2026-10-20T00:00:00.000Z to 2026-11-24T10:55:00.000Z.`);
    expect(ddb).toHaveReceivedCommandTimes(RestoreTableToPointInTimeCommand, 0);
  });

  test('a restore still CREATING after --timeout-minutes stops waiting with exit 1, and the table is not touched further', async () => {
    ddb.on(DescribeTableCommand, { TableName: TARGET }).rejectsOnce(notFoundError()).resolves({ Table: { TableName: TARGET, TableStatus: 'CREATING' } });
    let t = Date.UTC(2026, 10, 24, 11, 0);

    const run = await restore([...base, '--yes', '--timeout-minutes', '2', '--poll-seconds', '30'], captureIo(), { now: () => new Date((t += 30_000)) });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: ${TARGET} is still CREATING after 2 minutes; stopped waiting (the restore goes on).`);
    expect(run.sleeps).toEqual([30_000, 30_000, 30_000, 30_000]);
    expect(ddb).toHaveReceivedCommandTimes(UpdateContinuousBackupsCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(UpdateTableCommand, 0);
  });

  test('an existing target table exits 4: a restore never overwrites', async () => {
    ddb.on(DescribeTableCommand, { TableName: TARGET }).resolves({ Table: { TableName: TARGET, TableStatus: 'ACTIVE' } });

    const run = await restore([...base, '--yes']);

    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`error: Target table ${TARGET} already exists; a restore never overwrites a table.`);
    expect(ddb).toHaveReceivedCommandTimes(RestoreTableToPointInTimeCommand, 0);
  });

  test('point-in-time recovery off on the source exits 1 and points to on-demand backups', async () => {
    ddb.on(DescribeContinuousBackupsCommand).resolves({ ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' } } });

    const run = await restore([...base, '--yes']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: Point-in-time recovery is DISABLED on ${SOURCE}; it cannot be restored to a point in time.`);
    expect(run.stderr).toContain('list-backups');
    expect(ddb).toHaveReceivedCommandTimes(RestoreTableToPointInTimeCommand, 0);
  });

  test('a source table that does not exist exits 3', async () => {
    ddb.on(DescribeTableCommand, { TableName: SOURCE }).rejects(notFoundError());

    const run = await restore([...base, '--yes']);

    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`error: Source table ${SOURCE} does not exist.`);
  });

  test('the target may not be the source', async () => {
    const run = await restore(['--source-table', SOURCE, '--target-table', SOURCE, '--to-time', '2026-11-24T10:15:00Z', '--yes']);

    expect(run.code).toBe(2);
    expect(ddb).toHaveReceivedCommandTimes(RestoreTableToPointInTimeCommand, 0);
  });

  test('without a terminal and without --yes it refuses with exit 2 before restoring', async () => {
    const run = await restore(base, captureIo({ interactive: false }));

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('hint: Pass --yes to confirm non-interactively.');
    expect(ddb).toHaveReceivedCommandTimes(RestoreTableToPointInTimeCommand, 0);
  });

  test('in a terminal, answering no creates nothing (exit 1)', async () => {
    const run = await restore(base, captureIo({ interactive: true, answers: ['no'] }));

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Restore cancelled; nothing was created.');
    expect(ddb).toHaveReceivedCommandTimes(RestoreTableToPointInTimeCommand, 0);
  });

  test('missing credentials exit 5', async () => {
    ddb.on(DescribeTableCommand, { TableName: SOURCE }).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));

    const run = await restore([...base, '--yes']);

    expect(run.code).toBe(5);
    expect(run.stderr).toContain(`error: AWS credentials: Could not load credentials from any providers`);
    expect(run.stderr).toContain(`hint: No usable AWS credentials. Sign in to the account that holds the table ${SOURCE} (the NotesStack-<env> stack's account`);
    expect(run.stderr).not.toContain('pipelines');
  });

  test('access denied names the call and the table, and points at the permissions a restore needs', async () => {
    ddb.on(DescribeContinuousBackupsCommand, { TableName: SOURCE }).rejects(Object.assign(new Error('not authorized to perform dynamodb:DescribeContinuousBackups'), { name: 'AccessDeniedException' }));

    const run = await restore([...base, '--yes']);

    expect(run.code).toBe(5);
    expect(run.stderr).toContain(`error: Access denied on DynamoDB DescribeContinuousBackups on ${SOURCE} (eu-west-1)`);
    expect(run.stderr).toContain('docs/runbooks/restore-data.md');
  });

  test('a restored table with other keys fails verification (exit 1)', async () => {
    ddb.on(DescribeTableCommand, { TableName: TARGET }).rejectsOnce(notFoundError()).resolves({ Table: { TableName: TARGET, TableStatus: 'ACTIVE', KeySchema: [KEYS[0]] } });

    const run = await restore([...base, '--yes']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('does not have the key schema');
  });

  test('bad arguments are usage errors before any call; --help works offline', async () => {
    const noSource = await restore(['--to-time', '2026-11-24T10:15:00Z']);
    const badTime = await restore(['--source-table', SOURCE, '--to-time', 'yesterday']);
    const help = await restore(['--help']);

    expect([noSource.code, badTime.code, help.code]).toEqual([2, 2, 0]);
    expect(help.stdout).toContain('Usage: npm run restore');
    expect(ddb.calls()).toHaveLength(0);
  });

  test('the default target name carries the restore time', () => {
    expect(defaultTargetName(SOURCE, new Date('2026-11-24T10:15:42.123Z'))).toBe(`${SOURCE}-restore-20261124T1015Z`);
  });
});
