/**
 * Point-in-time restore of a DynamoDB table into a NEW table (never over an existing one), then:
 * wait until it is ACTIVE, turn point-in-time recovery and deletion protection on for it, verify it
 * (same keys, item counts, a sample of its items compared with the live table), and say how to cut over.
 */
import {
  AttributeValue,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  KeySchemaElement,
  ResourceNotFoundException,
  RestoreTableToPointInTimeCommand,
  RestoreTableToPointInTimeCommandInput,
  ScanCommand,
  TableDescription,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { conflict, failed, notFound, usage } from '../cli/errors';

const OPERATION = Symbol('DynamoDB operation');

/** The DynamoDB API call (e.g. `DescribeContinuousBackups`) whose failure `err` is, if known. */
export function failedOperation(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as { [OPERATION]?: string })[OPERATION] : undefined;
}

/**
 * The same client, but every error it throws remembers which call failed, so the message can name
 * it: an endpoint without the PITR APIs answers only "UnknownError".
 */
function namingCalls(client: DynamoDBClient): DynamoDBClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      return (command: object, ...rest: unknown[]) =>
        (target.send as (...args: unknown[]) => Promise<unknown>).call(target, command, ...rest).catch((err: unknown) => {
          if (typeof err === 'object' && err !== null) {
            Object.defineProperty(err, OPERATION, { value: command.constructor.name.replace(/Command$/, ''), configurable: true });
          }
          throw err;
        });
    },
  });
}

export interface RestoreOptions {
  sourceTable: string;
  /** Default: `<source>-restore-<YYYYMMDDTHHMMZ of toTime>`. */
  targetTable?: string;
  toTime: Date;
  /** Items of the restored table compared with the live table (default 25). */
  sampleSize: number;
  pollSeconds: number;
  timeoutMinutes: number;
}

export interface RestoreDeps {
  dynamodb: DynamoDBClient;
  sleep(ms: number): Promise<void>;
  now(): Date;
  progress(line: string): void;
  /** Asked after the plan is shown; false stops before anything is created. */
  confirm(plan: RestorePlan): Promise<boolean>;
}

export interface RestorePlan {
  sourceTable: string;
  targetTable: string;
  toTime: string;
  window: { earliest: string; latest: string };
  encryption: string;
  billingMode: string;
}

export interface Verification {
  keySchemaMatches: boolean;
  restoredItemCount: number;
  liveItemCount: number;
  sample: { compared: number; identical: number; changedSince: number; goneFromLive: number };
}

export interface RestoreReport {
  plan: RestorePlan;
  targetTableArn?: string;
  pointInTimeRecovery: boolean;
  deletionProtection: boolean;
  verification: Verification;
  cutOver: string[];
}

/** `notes-prod-Table-ABC` + 2026-11-24T10:15:00Z -> `notes-prod-Table-ABC-restore-20261124T1015Z` (255 characters at most). */
export function defaultTargetName(source: string, toTime: Date): string {
  const stamp = toTime.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace(/(\d{8}T\d{4})\d{2}Z$/, '$1Z');
  const suffix = `-restore-${stamp}`;
  return `${source.slice(0, 255 - suffix.length)}${suffix}`;
}

function isNotFound(err: unknown): boolean {
  return err instanceof ResourceNotFoundException || (err as Error)?.name === 'ResourceNotFoundException';
}

async function describe(dynamodb: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function countItems(dynamodb: DynamoDBClient, tableName: string): Promise<number> {
  let count = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const out = await dynamodb.send(new ScanCommand({ TableName: tableName, Select: 'COUNT', ExclusiveStartKey: startKey }));
    count += out.Count ?? 0;
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return count;
}

/** Attribute values as a canonical string (map keys sorted), to compare items. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value instanceof Uint8Array) return `b:${Buffer.from(value).toString('base64')}`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function sameKeys(a: KeySchemaElement[] | undefined, b: KeySchemaElement[] | undefined): boolean {
  return canonical(a ?? []) === canonical(b ?? []);
}

export function cutOverSteps(plan: RestorePlan): string[] {
  return [
    `The restored table ${plan.targetTable} holds the data as it was at ${plan.toTime}. It is not part of any CloudFormation stack, and the live table ${plan.sourceTable} is unchanged.`,
    'Partial loss or corruption (the usual case): copy back only the affected notes from the restored table into the live table (by userId/noteId), then delete the restored table once the incident is closed (turn its deletion protection off first).',
    'Whole table lost or unusable: follow docs/runbooks/restore-data.md "Full cut-over": pause promotions (npm run release -- rollback or the console), stop writes (API stage throttling to 0), copy the restored items into a table the stack owns or import the restored table into NotesStack with `cdk import` (the stack then sets TABLE_NAME of the notes function to it), run the smoke test, lift throttling.',
    'Notes written after the restore point exist only in the live table: decide with the data owner whether to carry them over before switching.',
  ];
}

export async function restoreTable(deps: RestoreDeps, opts: RestoreOptions): Promise<RestoreReport | undefined> {
  const { progress } = deps;
  const dynamodb = namingCalls(deps.dynamodb);
  const source = opts.sourceTable;

  // 1. The source exists and has point-in-time recovery with the requested time in its window.
  const sourceTable = await describe(dynamodb, source);
  if (!sourceTable) throw notFound(`Source table ${source} does not exist.`, 'Check --source-table and --region (the NotesStack-<env> stack output TableName).');
  const backups = await dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: source }));
  const pitr = backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
  if (pitr?.PointInTimeRecoveryStatus !== 'ENABLED' || !pitr.EarliestRestorableDateTime || !pitr.LatestRestorableDateTime) {
    throw failed(
      `Point-in-time recovery is ${pitr?.PointInTimeRecoveryStatus ?? 'not enabled'} on ${source}; it cannot be restored to a point in time.`,
      'Look for on-demand backups instead (aws dynamodb list-backups --table-name ...) and see docs/runbooks/restore-data.md.',
    );
  }
  const window = { earliest: pitr.EarliestRestorableDateTime.toISOString(), latest: pitr.LatestRestorableDateTime.toISOString() };
  if (opts.toTime < pitr.EarliestRestorableDateTime || opts.toTime > pitr.LatestRestorableDateTime) {
    throw usage(`--to-time ${opts.toTime.toISOString()} is outside the restorable window of ${source}: ${window.earliest} to ${window.latest}.`, 'Choose a time inside the window.');
  }

  // 2. The target is new: a restore never overwrites a table.
  const target = opts.targetTable ?? defaultTargetName(source, opts.toTime);
  if (target === source) throw usage('--target-table must differ from --source-table: a restore never overwrites a table.');
  if (await describe(dynamodb, target)) {
    throw conflict(`Target table ${target} already exists; a restore never overwrites a table.`, 'Pass another --target-table (or delete the old restore after checking it is not needed).');
  }

  const sse = sourceTable.SSEDescription;
  const kmsKey = sse?.SSEType === 'KMS' && sse.Status === 'ENABLED' ? sse.KMSMasterKeyArn : undefined;
  const billingMode = sourceTable.BillingModeSummary?.BillingMode ?? 'PROVISIONED';
  const plan: RestorePlan = {
    sourceTable: source,
    targetTable: target,
    toTime: opts.toTime.toISOString(),
    window,
    encryption: kmsKey ? `KMS key ${kmsKey} (as the source)` : 'DynamoDB owned key (as the source)',
    billingMode,
  };
  progress('Restore plan');
  progress(`  Source:       ${source} (restorable ${window.earliest} to ${window.latest})`);
  progress(`  Restore to:   ${plan.toTime}`);
  progress(`  New table:    ${target} (${billingMode}, ${plan.encryption})`);
  progress('  Then: wait until ACTIVE, enable point-in-time recovery and deletion protection on it, verify, print cut-over steps.');
  progress('  The live table is not changed.');
  if (!(await deps.confirm(plan))) return undefined;

  // 3. Restore.
  const input: RestoreTableToPointInTimeCommandInput = {
    SourceTableName: source,
    TargetTableName: target,
    RestoreDateTime: opts.toTime,
    BillingModeOverride: billingMode === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED',
    ...(kmsKey ? { SSESpecificationOverride: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: kmsKey } } : {}),
  };
  const restored = await dynamodb.send(new RestoreTableToPointInTimeCommand(input));
  progress(`Restore started: ${target} is ${restored.TableDescription?.TableStatus ?? 'CREATING'}.`);

  // 4. Wait until ACTIVE.
  const startedAt = deps.now().getTime();
  let description = restored.TableDescription;
  for (;;) {
    description = (await dynamodb.send(new DescribeTableCommand({ TableName: target }))).Table;
    if (description?.TableStatus === 'ACTIVE') break;
    if (deps.now().getTime() - startedAt > opts.timeoutMinutes * 60_000) {
      throw failed(`${target} is still ${description?.TableStatus ?? 'unknown'} after ${opts.timeoutMinutes} minutes; stopped waiting (the restore goes on).`, 'Run the verification later: see docs/runbooks/restore-data.md.');
    }
    progress(`  ${target}: ${description?.TableStatus ?? 'unknown'}...`);
    await deps.sleep(opts.pollSeconds * 1000);
  }
  progress(`${target} is ACTIVE.`);

  // 5. Protect it like the original: the restore copies neither PITR nor deletion protection.
  const period = pitr.RecoveryPeriodInDays;
  await dynamodb.send(
    new UpdateContinuousBackupsCommand({
      TableName: target,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, ...(period ? { RecoveryPeriodInDays: period } : {}) },
    }),
  );
  await dynamodb.send(new UpdateTableCommand({ TableName: target, DeletionProtectionEnabled: true }));
  progress(`Point-in-time recovery${period ? ` (${period} days)` : ''} and deletion protection enabled on ${target}.`);

  // 6. Verify.
  const keySchemaMatches = sameKeys(description.KeySchema, sourceTable.KeySchema);
  const restoredItemCount = await countItems(dynamodb, target);
  const liveItemCount = await countItems(dynamodb, source);
  const sample = { compared: 0, identical: 0, changedSince: 0, goneFromLive: 0 };
  if (opts.sampleSize > 0 && keySchemaMatches) {
    const page = await dynamodb.send(new ScanCommand({ TableName: target, Limit: opts.sampleSize }));
    const keyNames = (sourceTable.KeySchema ?? []).map((k) => k.AttributeName!);
    for (const item of page.Items ?? []) {
      const key = Object.fromEntries(keyNames.map((k) => [k, item[k]]));
      const live = (await dynamodb.send(new GetItemCommand({ TableName: source, Key: key, ConsistentRead: true }))).Item;
      sample.compared++;
      if (!live) sample.goneFromLive++;
      else if (canonical(live) === canonical(item)) sample.identical++;
      else sample.changedSince++;
    }
  }
  const verification: Verification = { keySchemaMatches, restoredItemCount, liveItemCount, sample };
  progress(`Verification: key schema ${keySchemaMatches ? 'matches' : 'DIFFERS'}; ${restoredItemCount} items restored, ${liveItemCount} in the live table now.`);
  progress(`  Sample of ${sample.compared}: ${sample.identical} identical to live, ${sample.changedSince} changed since, ${sample.goneFromLive} no longer in the live table.`);
  if (!keySchemaMatches) {
    throw failed(`The restored table ${target} does not have the key schema of ${source}; do not cut over to it.`, 'Keep it for investigation; see docs/runbooks/restore-data.md.');
  }
  return {
    plan,
    targetTableArn: description.TableArn,
    pointInTimeRecovery: true,
    deletionProtection: true,
    verification,
    cutOver: cutOverSteps(plan),
  };
}
