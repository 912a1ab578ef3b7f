import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { DescribeContinuousBackupsCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { handler } from '../../lambda/backup-check/index';

const cfn = mockClient(CloudFormationClient);
const ddb = mockClient(DynamoDBClient);
const pipeline = mockClient(CodePipelineClient);

const TABLE = 'NotesStack-prod-NotesTable1234-XYZ';
const params = { stackName: 'NotesStack-prod', region: 'eu-west-1', maxAgeMinutes: 15 };
const jobEvent = (userParameters: string = JSON.stringify(params)) => ({
  'CodePipeline.job': { id: 'job-1', data: { actionConfiguration: { configuration: { UserParameters: userParameters } } } },
});
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

function stackWithTable() {
  cfn.on(DescribeStacksCommand, { StackName: 'NotesStack-prod' }).resolves({
    Stacks: [{ StackName: 'NotesStack-prod', CreationTime: new Date(), StackStatus: 'UPDATE_COMPLETE', Outputs: [{ OutputKey: 'TableName', OutputValue: TABLE }] }],
  });
}

/** The table's continuous backups: PITR enabled, restorable to `latest` (undefined: no time reported). */
function pitrEnabled(latest?: Date) {
  ddb.on(DescribeContinuousBackupsCommand, { TableName: TABLE }).resolves({
    ContinuousBackupsDescription: {
      ContinuousBackupsStatus: 'ENABLED',
      PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED', LatestRestorableDateTime: latest },
    },
  });
}

function failureMessage(): string {
  const calls = pipeline.commandCalls(PutJobFailureResultCommand);
  expect(calls).toHaveLength(1);
  expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 0);
  return calls[0].args[0].input.failureDetails!.message!;
}

beforeEach(() => {
  cfn.reset();
  ddb.reset();
  pipeline.reset();
  pipeline.on(PutJobSuccessResultCommand).resolves({});
  pipeline.on(PutJobFailureResultCommand).resolves({});
});

describe('backups validated check', () => {
  test('a prod stack left in ROLLBACK_COMPLETE by a failed first create fails naming the state and the runbook, not a missing output', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'NotesStack-prod' }).resolves({
      Stacks: [{ StackName: 'NotesStack-prod', CreationTime: new Date(), StackStatus: 'ROLLBACK_COMPLETE' }],
    });

    await handler(jobEvent());

    expect(failureMessage()).toBe(
      'backups validated: stack NotesStack-prod is ROLLBACK_COMPLETE (its first create failed), so it has no table to check; the RecoverFailedCreate step clears it or says how (docs/runbooks/failed-first-create.md)',
    );
    expect(ddb).toHaveReceivedCommandTimes(DescribeContinuousBackupsCommand, 0);
  });

  test('passes when PITR is enabled and the table is restorable to two minutes ago', async () => {
    stackWithTable();
    const latest = minutesAgo(2);
    pitrEnabled(latest);

    await handler(jobEvent());

    expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 1);
    expect(pipeline).toHaveReceivedCommandWith(PutJobSuccessResultCommand, {
      jobId: 'job-1',
      outputVariables: { BACKUP_CHECK: 'PASSED', TABLE_NAME: TABLE, LATEST_RESTORABLE: latest.toISOString() },
    });
    expect(pipeline).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 0);
  });

  test('fails naming the table when point-in-time recovery is disabled', async () => {
    stackWithTable();
    ddb.on(DescribeContinuousBackupsCommand).resolves({
      ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' } },
    });

    await handler(jobEvent());

    expect(failureMessage()).toBe(`backups validated: point-in-time recovery on table ${TABLE} is DISABLED, not ENABLED; enable it before releasing to prod`);
  });

  test('fails when the latest restorable time is older than the limit', async () => {
    stackWithTable();
    pitrEnabled(minutesAgo(42));

    await handler(jobEvent());

    expect(failureMessage()).toMatch(/^backups validated: the latest restorable time of table .* 42 minutes ago \(limit 15\)/);
  });

  test('applies the maxAgeMinutes of the action: ten minutes behind fails a five-minute limit', async () => {
    stackWithTable();
    pitrEnabled(minutesAgo(10));

    await handler(jobEvent(JSON.stringify({ ...params, maxAgeMinutes: 5 })));

    expect(failureMessage()).toMatch(/^backups validated: the latest restorable time of table .* 10 minutes ago \(limit 5\)/);
  });

  test('fails when point-in-time recovery reports no latest restorable time', async () => {
    stackWithTable();
    pitrEnabled();

    await handler(jobEvent());

    expect(failureMessage()).toBe(`backups validated: table ${TABLE} reports no latest restorable time`);
  });

  test('a prod stack that cannot be read fails the gate; it is not taken for a first deployment', async () => {
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));

    await handler(jobEvent());

    expect(failureMessage()).toBe('backups validated: could not read stack NotesStack-prod: Rate exceeded');
    expect(ddb).toHaveReceivedCommandTimes(DescribeContinuousBackupsCommand, 0);
  });

  test('fails when the prod stack has no table output', async () => {
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'NotesStack-prod', CreationTime: new Date(), StackStatus: 'UPDATE_COMPLETE', Outputs: [] }] });

    await handler(jobEvent());

    expect(failureMessage()).toBe('backups validated: stack NotesStack-prod has no TableName output, so the table cannot be checked');
    expect(ddb).toHaveReceivedCommandTimes(DescribeContinuousBackupsCommand, 0);
  });

  test('passes the first deployment, when prod does not exist yet', async () => {
    const missing = Object.assign(new Error('Stack with id NotesStack-prod does not exist'), { name: 'ValidationError' });
    cfn.on(DescribeStacksCommand).rejects(missing);

    await handler(jobEvent());

    expect(pipeline).toHaveReceivedCommandWith(PutJobSuccessResultCommand, { jobId: 'job-1', outputVariables: expect.objectContaining({ BACKUP_CHECK: 'FIRST_DEPLOYMENT' }) });
  });

  test('fails with a message naming the step when UserParameters are broken', async () => {
    await handler(jobEvent('{"stackName":'));

    expect(failureMessage()).toMatch(/^backups validated: UserParameters are not JSON/);
  });

  test('an API error is reported as a failure, not thrown', async () => {
    stackWithTable();
    ddb.on(DescribeContinuousBackupsCommand).rejects(Object.assign(new Error('User is not authorized to perform dynamodb:DescribeContinuousBackups'), { name: 'AccessDeniedException' }));

    await expect(handler(jobEvent())).resolves.toBeUndefined();

    expect(failureMessage()).toBe(`backups validated: could not read the continuous backups of table ${TABLE}: User is not authorized to perform dynamodb:DescribeContinuousBackups`);
  });

  test('when CodePipeline refuses the report, the handler neither throws (no Lambda retry) nor reports again', async () => {
    stackWithTable();
    pitrEnabled(minutesAgo(2));
    pipeline.on(PutJobSuccessResultCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const logged = jest.spyOn(console, 'log').mockImplementation(() => undefined);

    await expect(handler(jobEvent())).resolves.toBeUndefined();

    expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 1);
    expect(pipeline).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 0);
    expect(logged).toHaveBeenCalledWith(JSON.stringify({ message: 'reporting the job failed', jobId: 'job-1', error: 'Rate exceeded' }));
    logged.mockRestore();
  });

  test('prod in another account: both reads are made as the roleArn of the action (prod\'s read-only release role)', async () => {
    const sts = mockClient(STSClient);
    try {
      sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'AKIAPRODREADER', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3600_000) } });
      stackWithTable();
      pitrEnabled(minutesAgo(2));
      const roleArn = 'arn:aws:iam::333333333333:role/notes-release-reader-eu-west-1';

      await handler(jobEvent(JSON.stringify({ ...params, roleArn })));

      expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 1);
      const clients = [cfn.commandCalls(DescribeStacksCommand)[0].thisValue, ddb.commandCalls(DescribeContinuousBackupsCommand)[0].thisValue] as {
        config: { credentials: () => Promise<{ accessKeyId: string }>; region: () => Promise<string> };
      }[];
      for (const client of clients) {
        await expect(client.config.credentials()).resolves.toMatchObject({ accessKeyId: 'AKIAPRODREADER' });
        await expect(client.config.region()).resolves.toBe('eu-west-1');
      }
      // One AssumeRole for both clients' credentials.
      expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([{ RoleArn: roleArn, RoleSessionName: 'notes-backup-check' }]);
    } finally {
      sts.restore();
    }
  });

  test('a roleArn that is not a role ARN fails the step naming the parameter', async () => {
    await handler(jobEvent(JSON.stringify({ ...params, roleArn: 'notes-release-reader' })));

    expect(failureMessage()).toBe('backups validated: UserParameters.roleArn must be an IAM role ARN');
  });
});
