/**
 * The prod stage's first step: a NotesStack-prod left in ROLLBACK_COMPLETE by a failed first create
 * is deleted when it holds nothing (termination protection off first), and otherwise the step
 * stops, naming what is left and the exact commands. The CloudFormation calls are asserted exactly.
 */
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  StackStatus,
  UpdateTerminationProtectionCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { main, recoverFailedCreate } from '../../lib/release/scripts/failed-create';

const STACK = 'NotesStack-prod';
const cfnMock = mockClient(CloudFormationClient);
const cfn = new CloudFormationClient({ region: 'eu-west-1' });
const opts = { stackName: STACK, region: 'eu-west-1', pollMs: 0, sleep: async () => undefined };
const stackIn = (status: StackStatus, over: Record<string, unknown> = {}) => ({
  Stacks: [{ StackName: STACK, StackId: `arn:aws:cloudformation:eu-west-1:123456789012:stack/${STACK}/1`, StackStatus: status, CreationTime: new Date(0), EnableTerminationProtection: true, ...over }],
});
const missing = () => Object.assign(new Error(`Stack with id ${STACK} does not exist`), { name: 'ValidationError' });
/** Every call the script sent, as [command, input]. */
const calls = () => cfnMock.calls().map((c) => [c.args[0].constructor.name, c.args[0].input]);

beforeEach(() => cfnMock.reset());

describe('failed first create of the prod stack', () => {
  test('no stack yet: nothing to do, one DescribeStacks', async () => {
    cfnMock.on(DescribeStacksCommand).rejects(missing());

    const result = await recoverFailedCreate(cfn, opts);

    expect(result).toEqual({ outcome: 'none', message: 'failed-create check: NotesStack-prod does not exist yet; the deploy creates it.' });
    expect(calls()).toEqual([['DescribeStacksCommand', { StackName: STACK }]]);
  });

  test('a stack that was created (UPDATE_COMPLETE) is left alone', async () => {
    cfnMock.on(DescribeStacksCommand).resolves(stackIn('UPDATE_COMPLETE'));

    const result = await recoverFailedCreate(cfn, opts);

    expect(result.outcome).toBe('none');
    expect(calls()).toEqual([['DescribeStacksCommand', { StackName: STACK }]]);
  });

  test('ROLLBACK_COMPLETE holding nothing: termination protection off, delete, wait until gone', async () => {
    // Arrange: the rollback deleted everything; the stack is deleting on the next read, then gone
    cfnMock
      .on(DescribeStacksCommand)
      .resolvesOnce(stackIn('ROLLBACK_COMPLETE'))
      .resolvesOnce(stackIn('DELETE_IN_PROGRESS'))
      .rejects(missing());
    cfnMock.on(ListStackResourcesCommand).resolves({
      StackResourceSummaries: [
        { LogicalResourceId: 'ApiHandler', ResourceType: 'AWS::Lambda::Function', ResourceStatus: 'DELETE_COMPLETE', LastUpdatedTimestamp: new Date(0) },
      ],
    });

    // Act
    const result = await recoverFailedCreate(cfn, opts);

    // Assert
    expect(result.outcome).toBe('deleted');
    expect(result.message).toContain('held nothing; turned termination protection off and deleted it');
    expect(calls()).toEqual([
      ['DescribeStacksCommand', { StackName: STACK }],
      ['ListStackResourcesCommand', { StackName: STACK, NextToken: undefined }],
      ['UpdateTerminationProtectionCommand', { StackName: STACK, EnableTerminationProtection: false }],
      ['DeleteStackCommand', { StackName: STACK }],
      ['DescribeStacksCommand', { StackName: STACK }],
      ['DescribeStacksCommand', { StackName: STACK }],
    ]);
  });

  test('ROLLBACK_COMPLETE with retained resources: stops, lists them and the exact commands, deletes nothing', async () => {
    // Arrange: the retained table survived the rollback (listed on the second page)
    cfnMock.on(DescribeStacksCommand).resolves(stackIn('ROLLBACK_COMPLETE'));
    cfnMock
      .on(ListStackResourcesCommand)
      .resolvesOnce({
        StackResourceSummaries: [{ LogicalResourceId: 'ApiHandler', ResourceType: 'AWS::Lambda::Function', ResourceStatus: 'DELETE_COMPLETE', LastUpdatedTimestamp: new Date(0) }],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        StackResourceSummaries: [
          { LogicalResourceId: 'NotesTable12', PhysicalResourceId: 'NotesStack-prod-NotesTable12-XYZ', ResourceType: 'AWS::DynamoDB::Table', ResourceStatus: 'DELETE_SKIPPED', LastUpdatedTimestamp: new Date(0) },
        ],
      });

    // Act
    const result = await recoverFailedCreate(cfn, opts);

    // Assert
    expect(result.outcome).toBe('stopped');
    expect(result.message).toContain('NotesStack-prod is in ROLLBACK_COMPLETE: its first create failed and was rolled back');
    expect(result.message).toContain('  - AWS::DynamoDB::Table NotesTable12 (NotesStack-prod-NotesTable12-XYZ): DELETE_SKIPPED');
    expect(result.message).toContain('  aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name NotesStack-prod --region eu-west-1');
    expect(result.message).toContain('  aws cloudformation delete-stack --stack-name NotesStack-prod --region eu-west-1');
    expect(result.message).toContain('  aws cloudformation wait stack-delete-complete --stack-name NotesStack-prod --region eu-west-1');
    expect(result.message).toContain('docs/runbooks/failed-first-create.md');
    expect(calls()).toEqual([
      ['DescribeStacksCommand', { StackName: STACK }],
      ['ListStackResourcesCommand', { StackName: STACK, NextToken: undefined }],
      ['ListStackResourcesCommand', { StackName: STACK, NextToken: 'page-2' }],
    ]);
    expect(cfnMock).toHaveReceivedCommandTimes(DeleteStackCommand, 0);
    expect(cfnMock).toHaveReceivedCommandTimes(UpdateTerminationProtectionCommand, 0);
  });

  test('ROLLBACK_FAILED stops with the commands (CloudFormation can only delete it)', async () => {
    cfnMock.on(DescribeStacksCommand).resolves(stackIn('ROLLBACK_FAILED'));
    cfnMock.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });

    const result = await recoverFailedCreate(cfn, opts);

    expect(result.outcome).toBe('stopped');
    expect(result.message).toContain('its first create failed and so did the rollback');
    expect(result.message).toContain('aws cloudformation delete-stack --stack-name NotesStack-prod --region eu-west-1');
    expect(cfnMock).toHaveReceivedCommandTimes(DeleteStackCommand, 0);
  });

  test('a delete that fails stops with the reason', async () => {
    cfnMock
      .on(DescribeStacksCommand)
      .resolvesOnce(stackIn('ROLLBACK_COMPLETE', { EnableTerminationProtection: false }))
      .resolves(stackIn('DELETE_FAILED', { StackStatusReason: 'The following resource(s) failed to delete: [AlarmTopicKey]' }));
    cfnMock.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });

    const result = await recoverFailedCreate(cfn, opts);

    expect(result.outcome).toBe('stopped');
    expect(result.message).toContain('deleting it failed: The following resource(s) failed to delete: [AlarmTopicKey].');
    // termination protection was already off: not touched
    expect(cfnMock).toHaveReceivedCommandTimes(UpdateTerminationProtectionCommand, 0);
    expect(cfnMock).toHaveReceivedCommandTimes(DeleteStackCommand, 1);
  });
});

describe('failed-create command line', () => {
  let err: jest.SpyInstance;
  let out: jest.SpyInstance;
  beforeEach(() => {
    err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    out = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  test('a stack that needs a person exits 1 and prints what to do', async () => {
    cfnMock.on(DescribeStacksCommand).resolves(stackIn('ROLLBACK_FAILED'));
    cfnMock.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });

    const code = await main(['--stack', STACK, '--region', 'eu-west-1'], cfn);

    expect(code).toBe(1);
    expect(String(err.mock.calls[0][0])).toContain('aws cloudformation delete-stack');
  });

  test('no stack exits 0', async () => {
    cfnMock.on(DescribeStacksCommand).rejects(missing());

    expect(await main(['--stack', STACK, '--region', 'eu-west-1'], cfn)).toBe(0);
    expect(String(out.mock.calls[0][0])).toContain('does not exist yet');
  });

  test('a stack that cannot be read exits 2 with one line naming the stack', async () => {
    cfnMock.on(DescribeStacksCommand).rejects(Object.assign(new Error('User is not authorized to perform: cloudformation:DescribeStacks'), { name: 'AccessDenied' }));

    expect(await main(['--stack', STACK, '--region', 'eu-west-1'], cfn)).toBe(2);
    expect(String(err.mock.calls[0][0])).toBe(
      'failed-create check: could not check NotesStack-prod: User is not authorized to perform: cloudformation:DescribeStacks. Runbook: docs/runbooks/failed-first-create.md',
    );
  });

  test('missing --stack is a usage error', async () => {
    expect(await main(['--region', 'eu-west-1'], cfn)).toBe(2);
    expect(cfnMock.calls()).toHaveLength(0);
  });
});
