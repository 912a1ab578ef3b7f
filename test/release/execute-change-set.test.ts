/**
 * Prod's deploy executes the reviewed change set by name: its exact CloudFormation calls, and
 * every way it can end (executed, nothing to execute, obsolete, failed, timeout).
 */
import {
  ChangeSetNotFoundException,
  CloudFormationClient,
  CreateChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  DescribeStacksCommandOutput,
  InvalidChangeSetStatusException,
  StackStatus,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ExecuteError, executeChangeSet } from '../../lib/release/scripts/execute-change-set';

const STACK = 'NotesStack-prod';
const CHANGE_SET = 'notes-plan-1111-2222';
const cfn = mockClient(CloudFormationClient);
const client = cfn as unknown as CloudFormationClient;

/** A clock that moves only when the executor sleeps. */
function fakeTime() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}
const quiet = { log: () => undefined };
const stack = (status: string, extra: Record<string, unknown> = {}): DescribeStacksCommandOutput => ({
  $metadata: {},
  Stacks: [{ StackName: STACK, StackStatus: status as StackStatus, CreationTime: new Date(0), Outputs: [{ OutputKey: 'ApiUrl', OutputValue: 'https://api.example/v1/' }], ...extra }],
});

beforeEach(() => cfn.reset());
afterAll(() => cfn.restore());

describe('executing the reviewed change set', () => {
  test('executes it by name, waits for UPDATE_COMPLETE, returns the outputs, and never creates a change set', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cfn.on(ExecuteChangeSetCommand).resolves({});
    cfn.on(DescribeStacksCommand).resolvesOnce(stack('UPDATE_IN_PROGRESS')).resolvesOnce(stack('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS')).resolves(stack('UPDATE_COMPLETE'));

    const result = await executeChangeSet(client, { stackName: STACK, changeSetName: CHANGE_SET, ...fakeTime(), ...quiet });

    expect(result).toEqual({ outcome: 'executed', message: `${STACK}: change set ${CHANGE_SET} executed (UPDATE_COMPLETE).`, outputs: { ApiUrl: 'https://api.example/v1/' } });
    expect(cfn).toHaveReceivedCommandWith(DescribeChangeSetCommand, { StackName: STACK, ChangeSetName: CHANGE_SET });
    expect(cfn).toHaveReceivedCommandTimes(ExecuteChangeSetCommand, 1);
    expect(cfn).toHaveReceivedCommandWith(ExecuteChangeSetCommand, { StackName: STACK, ChangeSetName: CHANGE_SET });
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, 3);
    expect(cfn).not.toHaveReceivedCommand(CreateChangeSetCommand);
  });

  test('waits for a change set that is still being created, then executes it', async () => {
    cfn.on(DescribeChangeSetCommand).resolvesOnce({ Status: 'CREATE_IN_PROGRESS', ExecutionStatus: 'UNAVAILABLE' }).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cfn.on(ExecuteChangeSetCommand).resolves({});
    cfn.on(DescribeStacksCommand).resolves(stack('CREATE_COMPLETE'));

    const result = await executeChangeSet(client, { stackName: STACK, changeSetName: CHANGE_SET, ...fakeTime(), ...quiet });

    expect(result.outcome).toBe('executed');
    expect(cfn).toHaveReceivedCommandTimes(DescribeChangeSetCommand, 2);
  });

  test('a plan with no changes passes without executing anything, saying so', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: "The submitted information didn't contain changes. Submit different information to create a change set." });
    cfn.on(DescribeStacksCommand).resolves(stack('UPDATE_COMPLETE'));

    const result = await executeChangeSet(client, { stackName: STACK, changeSetName: CHANGE_SET, ...fakeTime(), ...quiet });

    expect(result.outcome).toBe('no-changes');
    expect(result.message).toBe(`${STACK}: the plan had no changes; nothing to execute.`);
    expect(result.outputs).toEqual({ ApiUrl: 'https://api.example/v1/' });
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand);
  });

  test('an obsolete change set (the stack changed after planning) fails and says to start a new execution', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'OBSOLETE' });

    const run = executeChangeSet(client, { stackName: STACK, changeSetName: CHANGE_SET, ...fakeTime(), ...quiet });

    await expect(run).rejects.toThrow(ExecuteError);
    await expect(run).rejects.toThrow(/is obsolete: the stack changed after it was planned.*Nothing was executed\. Start a new execution/);
    expect(cfn).not.toHaveReceivedCommand(ExecuteChangeSetCommand);
  });

  test('a change set that turns obsolete between the check and the execution fails the same way', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cfn.on(ExecuteChangeSetCommand).rejects(new InvalidChangeSetStatusException({ message: 'ChangeSet [x] cannot be executed in its current status of [OBSOLETE]', $metadata: {} }));

    await expect(executeChangeSet(client, { stackName: STACK, changeSetName: CHANGE_SET, ...fakeTime(), ...quiet })).rejects.toMatchObject({ problem: 'obsolete' });
    expect(cfn).not.toHaveReceivedCommand(DescribeStacksCommand);
  });

  test('a missing change set fails, naming it', async () => {
    cfn.on(DescribeChangeSetCommand).rejects(new ChangeSetNotFoundException({ message: 'ChangeSet [notes-plan-1111-2222] does not exist', $metadata: {} }));

    await expect(executeChangeSet(client, { stackName: STACK, changeSetName: CHANGE_SET, ...fakeTime(), ...quiet })).rejects.toMatchObject({
      problem: 'not-found',
      message: expect.stringContaining(`change set ${CHANGE_SET} of ${STACK} does not exist`),
    });
  });

  test('an execution that rolls back fails with CloudFormation\'s status and reason', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cfn.on(ExecuteChangeSetCommand).resolves({});
    cfn.on(DescribeStacksCommand).resolvesOnce(stack('UPDATE_IN_PROGRESS')).resolvesOnce(stack('UPDATE_ROLLBACK_IN_PROGRESS')).resolves(stack('UPDATE_ROLLBACK_COMPLETE', { StackStatusReason: 'Resource handler returned message: "Invalid request"' }));

    await expect(executeChangeSet(client, { stackName: STACK, changeSetName: CHANGE_SET, ...fakeTime(), ...quiet })).rejects.toMatchObject({
      problem: 'failed',
      message: `${STACK}: executing change set ${CHANGE_SET} ended in UPDATE_ROLLBACK_COMPLETE: Resource handler returned message: "Invalid request"`,
    });
  });

  test('gives up after the timeout, saying the stack is still in progress', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
    cfn.on(ExecuteChangeSetCommand).resolves({});
    cfn.on(DescribeStacksCommand).resolves(stack('UPDATE_IN_PROGRESS'));

    await expect(
      executeChangeSet(client, { stackName: STACK, changeSetName: CHANGE_SET, timeoutMs: 60_000, pollMs: 10_000, ...fakeTime(), ...quiet }),
    ).rejects.toMatchObject({ problem: 'timeout', message: `${STACK}: still UPDATE_IN_PROGRESS after 1 minutes; follow it in the CloudFormation console` });
    // 0, 10, ..., 60 s: seven reads, then it stops.
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, 7);
  });
});
