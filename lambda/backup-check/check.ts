/**
 * The "backups validated" gate of the prod stage: the prod notes table must have point-in-time
 * recovery enabled and a latest restorable time close to now, so that whatever the release does
 * to the data, the state from just before it can be restored.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeContinuousBackupsCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface BackupCheckParameters {
  stackName: string;
  region: string;
  /** The newest restorable point may be at most this old (minutes). */
  maxAgeMinutes: number;
  /** Name of the stack output holding the table name. */
  tableOutput: string;
  /** Prod outside the pipeline's account: its read-only release role, assumed for both reads. */
  roleArn?: string;
}

export interface BackupCheckResult {
  summary: string;
  outputVariables: Record<string, string>;
}

export function parseBackupCheckParameters(p: Record<string, unknown>): BackupCheckParameters {
  const stackName = p.stackName;
  const region = p.region;
  const maxAge = p.maxAgeMinutes ?? 15;
  if (typeof stackName !== 'string' || stackName === '') throw new Error('backups validated: UserParameters.stackName is missing');
  if (typeof region !== 'string' || region === '') throw new Error('backups validated: UserParameters.region is missing');
  if (typeof maxAge !== 'number' || !(maxAge > 0)) throw new Error('backups validated: UserParameters.maxAgeMinutes must be a positive number');
  const tableOutput = typeof p.tableOutput === 'string' ? p.tableOutput : 'TableName';
  const roleArn = p.roleArn;
  if (roleArn !== undefined && (typeof roleArn !== 'string' || !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(roleArn))) {
    throw new Error('backups validated: UserParameters.roleArn must be an IAM role ARN');
  }
  return { stackName, region, maxAgeMinutes: maxAge, tableOutput, ...(roleArn ? { roleArn } : {}) };
}

function isStackMissing(err: unknown): boolean {
  return err instanceof Error && err.name === 'ValidationError' && /does not exist/.test(err.message);
}

export async function checkBackups(
  clients: { cloudformation: CloudFormationClient; dynamodb: DynamoDBClient },
  params: BackupCheckParameters,
  now: Date,
): Promise<BackupCheckResult> {
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  let stackStatus: string | undefined;
  try {
    const out = await clients.cloudformation.send(new DescribeStacksCommand({ StackName: params.stackName }));
    outputs = out.Stacks?.[0]?.Outputs ?? [];
    stackStatus = out.Stacks?.[0]?.StackStatus;
  } catch (err) {
    if (isStackMissing(err)) {
      // The first release creates prod: there is no data yet, so nothing to protect.
      return {
        summary: `backups validated: ${params.stackName} does not exist yet (first deployment); no data to protect`,
        outputVariables: { BACKUP_CHECK: 'FIRST_DEPLOYMENT', TABLE_NAME: 'none', LATEST_RESTORABLE: 'none' },
      };
    }
    throw new Error(`backups validated: could not read stack ${params.stackName}: ${(err as Error).message}`);
  }
  if (stackStatus === 'ROLLBACK_COMPLETE' || stackStatus === 'ROLLBACK_FAILED') {
    // The prod stage's RecoverFailedCreate step clears this before; say so if it ever gets here.
    throw new Error(
      `backups validated: stack ${params.stackName} is ${stackStatus} (its first create failed), so it has no table to check; ` +
        'the RecoverFailedCreate step clears it or says how (docs/runbooks/failed-first-create.md)',
    );
  }
  const tableName = outputs.find((o) => o.OutputKey === params.tableOutput)?.OutputValue;
  if (!tableName) throw new Error(`backups validated: stack ${params.stackName} has no ${params.tableOutput} output, so the table cannot be checked`);

  let backups;
  try {
    backups = await clients.dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: tableName }));
  } catch (err) {
    throw new Error(`backups validated: could not read the continuous backups of table ${tableName}: ${(err as Error).message}`);
  }
  const pitr = backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
  const status = pitr?.PointInTimeRecoveryStatus ?? 'UNKNOWN';
  if (status !== 'ENABLED') {
    throw new Error(`backups validated: point-in-time recovery on table ${tableName} is ${status}, not ENABLED; enable it before releasing to prod`);
  }
  const latest = pitr?.LatestRestorableDateTime;
  if (!latest) throw new Error(`backups validated: table ${tableName} reports no latest restorable time`);
  const ageMinutes = (now.getTime() - latest.getTime()) / 60_000;
  if (ageMinutes > params.maxAgeMinutes) {
    throw new Error(
      `backups validated: the latest restorable time of table ${tableName} is ${latest.toISOString()}, ` +
        `${Math.round(ageMinutes)} minutes ago (limit ${params.maxAgeMinutes}); point-in-time recovery is not keeping up`,
    );
  }
  return {
    summary: `backups validated: table ${tableName} has point-in-time recovery ENABLED, restorable to ${latest.toISOString()} (${Math.max(0, Math.round(ageMinutes))} min ago)`,
    outputVariables: { BACKUP_CHECK: 'PASSED', TABLE_NAME: tableName, LATEST_RESTORABLE: latest.toISOString() },
  };
}
