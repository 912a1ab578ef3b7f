/**
 * The prod alarm watch (lambda/alarm-watch) for prod in another account: checks the alarms as the
 * given role for the watch period, across invocations with a continuation token, and reports each
 * job exactly once. CloudWatch and CodePipeline are mocked (exact calls asserted); the clock is fake.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { CodePipelineClient, GetPipelineExecutionCommand, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handleJob } from '../../lambda/alarm-watch/index';

const cloudwatch = mockClient(CloudWatchClient);
const pipeline = mockClient(CodePipelineClient);
const sts = mockClient(STSClient);

const ALARMS = ['notes-prod-api-5xx-rate', 'notes-prod-api-latency-p99'];
const ROLE = 'arn:aws:iam::333333333333:role/notes-release-reader-eu-west-1';
const params = { alarmNames: ALARMS, region: 'eu-west-1', watchMinutes: 10, roleArn: ROLE };
const POLL = { pollIntervalMs: 60_000, pollBudgetMs: 120_000 };
const T0 = Date.parse('2026-12-01T10:00:00Z');

const jobEvent = (continuationToken?: string, userParameters = JSON.stringify(params)) => ({
  'CodePipeline.job': { id: 'job-7', data: { actionConfiguration: { configuration: { UserParameters: userParameters } }, ...(continuationToken ? { continuationToken } : {}) } },
});

/** A clock that moves only when the code sleeps. */
function fakeClock(start: number) {
  let now = start;
  const slept: number[] = [];
  return { clock: { now: () => now, sleep: async (ms: number) => void (slept.push(ms), (now += ms)) }, slept };
}

const states = (...values: ('OK' | 'ALARM' | 'INSUFFICIENT_DATA')[]) => ({ MetricAlarms: ALARMS.map((AlarmName, i) => ({ AlarmName, StateValue: values[i], StateReason: `${AlarmName} reason` })) });

beforeEach(() => {
  cloudwatch.reset();
  pipeline.reset();
  sts.reset();
  pipeline.on(PutJobSuccessResultCommand).resolves({}).on(PutJobFailureResultCommand).resolves({});
  // An hour from the real clock: the credential provider and the SDK judge expiry by Date.now, not
  // by the watch's fake clock (a fixed date made this test fail from 10:55 UTC on 2026-12-01 on).
  sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'AKIAREADER', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3600_000) } });
});

test('the first invocation checks every minute for two minutes, then reports the job in progress with the start time as token', async () => {
  cloudwatch.on(DescribeAlarmsCommand).resolves(states('OK', 'INSUFFICIENT_DATA'));
  const { clock, slept } = fakeClock(T0);

  await handleJob(jobEvent(), { clock, poll: POLL });

  expect(cloudwatch.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input)).toEqual(
    Array(3).fill({ AlarmNames: ALARMS, AlarmTypes: ['MetricAlarm'], NextToken: undefined }),
  );
  expect(slept).toEqual([60_000, 60_000]);
  expect(pipeline).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 0);
  expect(pipeline.commandCalls(PutJobSuccessResultCommand).map((c) => c.args[0].input)).toEqual([
    { jobId: 'job-7', executionDetails: { summary: 'alarm watch: no alarm after 2 of 10 minutes; still watching' }, continuationToken: JSON.stringify({ startedAt: T0 }) },
  ]);
});

test('an invocation with a token whose watch period is over passes without a continuation token', async () => {
  cloudwatch.on(DescribeAlarmsCommand).resolves(states('OK', 'OK'));
  const { clock } = fakeClock(T0 + 10 * 60_000);

  await handleJob(jobEvent(JSON.stringify({ startedAt: T0 })), { clock, poll: POLL });

  expect(pipeline.commandCalls(PutJobSuccessResultCommand).map((c) => c.args[0].input)).toEqual([
    { jobId: 'job-7', executionDetails: { summary: 'alarm watch: 2 alarms not in ALARM for 10 minutes after the deploy', percentComplete: 100 } },
  ]);
});

test('the last stretch sleeps only until the period ends, then passes', async () => {
  cloudwatch.on(DescribeAlarmsCommand).resolves(states('OK', 'OK'));
  const { clock, slept } = fakeClock(T0 + 9 * 60_000 + 30_000);

  await handleJob(jobEvent(JSON.stringify({ startedAt: T0 })), { clock, poll: POLL });

  expect(slept).toEqual([30_000]);
  expect(pipeline).toHaveReceivedCommandWith(PutJobSuccessResultCommand, { jobId: 'job-7', executionDetails: { summary: expect.stringContaining('for 10 minutes'), percentComplete: 100 } });
});

test('an alarm in ALARM fails the job naming the alarm and its reason (the stage then rolls back)', async () => {
  cloudwatch.on(DescribeAlarmsCommand).resolvesOnce(states('OK', 'OK')).resolves(states('OK', 'ALARM'));
  const { clock } = fakeClock(T0);

  await handleJob(jobEvent(), { clock, poll: POLL });

  expect(pipeline).toHaveReceivedCommandTimes(PutJobSuccessResultCommand, 0);
  expect(pipeline.commandCalls(PutJobFailureResultCommand).map((c) => c.args[0].input)).toEqual([
    {
      jobId: 'job-7',
      failureDetails: {
        type: 'JobFailed',
        message: 'alarm watch: notes-prod-api-latency-p99 in ALARM after the deploy (notes-prod-api-latency-p99: notes-prod-api-latency-p99 reason); the prod stage rolls back',
      },
    },
  ]);
});

test('a watched alarm that does not exist fails the job naming it and where it was looked for', async () => {
  cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: ALARMS[0], StateValue: 'OK' }] });
  const { clock } = fakeClock(T0);

  await handleJob(jobEvent(), { clock, poll: POLL });

  expect(pipeline).toHaveReceivedCommandWith(PutJobFailureResultCommand, {
    failureDetails: { type: 'JobFailed', message: `alarm watch: alarm ${ALARMS[1]} not found in eu-west-1 as ${ROLE} (the prod stack defines them)` },
  });
});

test('the alarms are read as the role of the action (prod\'s read-only release role), in its region', async () => {
  cloudwatch.on(DescribeAlarmsCommand).resolves(states('OK', 'OK'));
  const { clock } = fakeClock(T0 + 10 * 60_000);

  await handleJob(jobEvent(JSON.stringify({ startedAt: T0 })), { clock, poll: POLL });

  const client = cloudwatch.commandCalls(DescribeAlarmsCommand)[0].thisValue as { config: { credentials: () => Promise<{ accessKeyId: string }>; region: () => Promise<string> } };
  await expect(client.config.credentials()).resolves.toMatchObject({ accessKeyId: 'AKIAREADER' });
  await expect(client.config.region()).resolves.toBe('eu-west-1');
  expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([{ RoleArn: ROLE, RoleSessionName: 'notes-alarm-watch' }]);
});

test.each([
  ['no alarm names', { ...params, alarmNames: [] }, 'alarm watch: UserParameters.alarmNames must be a non-empty list of alarm names'],
  ['a watch of 0 minutes', { ...params, watchMinutes: 0 }, 'alarm watch: UserParameters.watchMinutes must be a whole number of minutes from 1 to 60'],
  ['a role that is not an ARN', { ...params, roleArn: 'reader' }, 'alarm watch: UserParameters.roleArn must be an IAM role ARN'],
])('%s fails the job with a message naming the parameter, and reads nothing', async (_label, bad, message) => {
  const { clock } = fakeClock(T0);

  await handleJob(jobEvent(undefined, JSON.stringify(bad)), { clock, poll: POLL });

  expect(cloudwatch).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 0);
  expect(pipeline).toHaveReceivedCommandWith(PutJobFailureResultCommand, { jobId: 'job-7', failureDetails: { type: 'JobFailed', message } });
});

test('a broken continuation token fails the job rather than restarting the watch', async () => {
  const { clock } = fakeClock(T0);

  await handleJob(jobEvent('{"startedAt":"yesterday"}'), { clock, poll: POLL });

  expect(pipeline).toHaveReceivedCommandWith(PutJobFailureResultCommand, { failureDetails: { type: 'JobFailed', message: 'alarm watch: the continuation token has no valid start time' } });
});

test('a CloudWatch error fails the job naming where it read', async () => {
  cloudwatch.on(DescribeAlarmsCommand).rejects(Object.assign(new Error('User is not authorized to perform: cloudwatch:DescribeAlarms'), { name: 'AccessDenied' }));
  const { clock } = fakeClock(T0);

  await handleJob(jobEvent(), { clock, poll: POLL });

  expect(pipeline).toHaveReceivedCommandWith(PutJobFailureResultCommand, {
    failureDetails: { type: 'JobFailed', message: `alarm watch: could not read the prod alarms in eu-west-1 as ${ROLE}: User is not authorized to perform: cloudwatch:DescribeAlarms` },
  });
});

describe('in a stage rollback', () => {
  const rollbackParams = { ...params, pipelineName: 'notes-release', executionId: 'exec-rb' };

  test('the previous release is not held to the alarms of the one rolled back: the job passes without reading them', async () => {
    pipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { pipelineExecutionId: 'exec-rb', executionType: 'ROLLBACK', status: 'InProgress' } });
    const { clock } = fakeClock(T0);

    await handleJob(jobEvent(undefined, JSON.stringify(rollbackParams)), { clock, poll: POLL });

    expect(pipeline.commandCalls(GetPipelineExecutionCommand).map((c) => c.args[0].input)).toEqual([{ pipelineName: 'notes-release', pipelineExecutionId: 'exec-rb' }]);
    expect(cloudwatch).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 0);
    expect(pipeline).toHaveReceivedCommandWith(PutJobSuccessResultCommand, {
      jobId: 'job-7',
      executionDetails: { summary: 'alarm watch: stage rollback, the previous release is back; its alarms are not watched', percentComplete: 100 },
    });
  });

  test('a release (a running STANDARD execution) is watched', async () => {
    pipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { pipelineExecutionId: 'exec-rb', executionType: 'STANDARD', status: 'InProgress' } });
    cloudwatch.on(DescribeAlarmsCommand).resolves(states('ALARM', 'OK'));
    const { clock } = fakeClock(T0);

    await handleJob(jobEvent(undefined, JSON.stringify(rollbackParams)), { clock, poll: POLL });

    expect(cloudwatch).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 1);
    expect(pipeline).toHaveReceivedCommandTimes(PutJobFailureResultCommand, 1);
  });

  test('an execution that cannot be read fails the job saying so, rather than guessing', async () => {
    pipeline.on(GetPipelineExecutionCommand).rejects(new Error('not authorized to perform: codepipeline:GetPipelineExecution'));
    const { clock } = fakeClock(T0);

    await handleJob(jobEvent(undefined, JSON.stringify(rollbackParams)), { clock, poll: POLL });

    expect(pipeline).toHaveReceivedCommandWith(PutJobFailureResultCommand, {
      failureDetails: {
        type: 'JobFailed',
        message: 'alarm watch: cannot tell whether execution exec-rb of notes-release is a stage rollback: not authorized to perform: codepipeline:GetPipelineExecution',
      },
    });
  });
});

