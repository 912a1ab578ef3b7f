import {
  ChangeSetNotFoundException,
  CloudFormationClient,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
} from '@aws-sdk/client-cloudformation';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { decide, main, parseOverride, ResourceChangeSummary, runGuard } from '../../lib/release/scripts/stateful-guard';

const STACK = 'NotesStack-prod';
const table = (over: Partial<ResourceChangeSummary>): ResourceChangeSummary => ({
  action: 'Modify',
  logicalResourceId: 'NotesTable1234',
  physicalResourceId: 'NotesStack-prod-NotesTable1234-ABC',
  resourceType: 'AWS::DynamoDB::Table',
  replacement: 'False',
  ...over,
});

describe('stateful-change guard decision', () => {
  test('passes a release that only modifies a table in place and replaces a function', () => {
    const changes = [table({}), { action: 'Modify', logicalResourceId: 'Fn', resourceType: 'AWS::Lambda::Function', replacement: 'True' }];

    const d = decide(changes, false, STACK);

    expect(d.allowed).toBe(true);
    expect(d.findings).toEqual([]);
    expect(d.message).toContain('passed');
  });

  test('blocks a table replacement and names the table and the override variable', () => {
    const d = decide([table({ replacement: 'True' })], false, STACK);

    expect(d.allowed).toBe(false);
    expect(d.message).toContain('stateful-change guard: blocked');
    expect(d.message).toContain('AWS::DynamoDB::Table NotesTable1234 (NotesStack-prod-NotesTable1234-ABC) would be replaced');
    expect(d.message).toContain('ALLOW_STATEFUL_CHANGE=true');
  });

  test('blocks a conditional replacement of a user pool', () => {
    const d = decide([{ action: 'Modify', logicalResourceId: 'UserPool', resourceType: 'AWS::Cognito::UserPool', replacement: 'Conditional' }], false, STACK);

    expect(d.allowed).toBe(false);
    expect(d.findings).toEqual([expect.objectContaining({ effect: 'MAY REPLACE', logicalResourceId: 'UserPool' })]);
  });

  test('blocks removing a global table even when its deletion policy retains it', () => {
    const d = decide([{ action: 'Remove', logicalResourceId: 'Global', resourceType: 'AWS::DynamoDB::GlobalTable', policyAction: 'Retain' }], false, STACK);

    expect(d.allowed).toBe(false);
    expect(d.message).toContain('would be removed from the stack, deletion policy action Retain');
  });

  test('lets the same change through with the override and still lists it', () => {
    const d = decide([table({ action: 'Remove' })], true, STACK);

    expect(d.allowed).toBe(true);
    expect(d.message).toContain('OVERRIDDEN by ALLOW_STATEFUL_CHANGE=true');
    expect(d.message).toContain('NotesTable1234');
  });

  test('only the exact word true overrides', () => {
    expect(parseOverride('true')).toBe(true);
    expect(parseOverride(' TRUE ')).toBe(true);
    expect(parseOverride('false')).toBe(false);
    expect(parseOverride('yes')).toBe(false);
    expect(parseOverride('')).toBe(false);
    expect(parseOverride(undefined)).toBe(false);
  });
});

describe('stateful-change guard against CloudFormation', () => {
  const cfn = mockClient(CloudFormationClient);
  beforeEach(() => cfn.reset());

  test('reads every page of the change set, blocks, and deletes the change set', async () => {
    cfn
      .on(DescribeChangeSetCommand, { NextToken: undefined })
      .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Add', LogicalResourceId: 'Q', ResourceType: 'AWS::SQS::Queue' } }], NextToken: 'p2' })
      .on(DescribeChangeSetCommand, { NextToken: 'p2' })
      .resolves({
        Status: 'CREATE_COMPLETE',
        Changes: [{ ResourceChange: { Action: 'Modify', LogicalResourceId: 'NotesTable', ResourceType: 'AWS::DynamoDB::Table', Replacement: 'True' } }],
      });
    cfn.on(DeleteChangeSetCommand).resolves({});

    const d = await runGuard(cfn as unknown as CloudFormationClient, { stackName: STACK, changeSetName: 'cs-1', allowStatefulChange: false });

    expect(d.allowed).toBe(false);
    expect(d.findings.map((f) => f.logicalResourceId)).toEqual(['NotesTable']);
    expect(cfn).toHaveReceivedCommandTimes(DescribeChangeSetCommand, 2);
    expect(cfn).toHaveReceivedNthCommandWith(1, DescribeChangeSetCommand, { StackName: STACK, ChangeSetName: 'cs-1', NextToken: undefined });
    expect(cfn).toHaveReceivedCommandWith(DeleteChangeSetCommand, { StackName: STACK, ChangeSetName: 'cs-1' });
  });

  test('passes when the CLI left no change set because nothing changes', async () => {
    cfn.on(DescribeChangeSetCommand).rejects(new ChangeSetNotFoundException({ message: 'ChangeSet [cs-1] does not exist', $metadata: {} }));

    const d = await runGuard(cfn as unknown as CloudFormationClient, { stackName: STACK, changeSetName: 'cs-1', allowStatefulChange: false });

    expect(d.allowed).toBe(true);
    expect(d.message).toContain('no change set cs-1');
    expect(cfn).toHaveReceivedCommandTimes(DeleteChangeSetCommand, 0);
  });

  test('passes an empty change set that failed only because there was nothing to change', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: "The submitted information didn't contain changes." });
    cfn.on(DeleteChangeSetCommand).resolves({});

    const d = await runGuard(cfn as unknown as CloudFormationClient, { stackName: STACK, changeSetName: 'cs-1', allowStatefulChange: false });

    expect(d.allowed).toBe(true);
  });

  test('a change set that failed for another reason is an error naming it', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: 'Template format error' });

    await expect(runGuard(cfn as unknown as CloudFormationClient, { stackName: STACK, changeSetName: 'cs-1', allowStatefulChange: false })).rejects.toThrow(
      'change set cs-1 failed: Template format error',
    );
  });

  describe('as the build command', () => {
    const sts = mockClient(STSClient);
    const DEPLOY_ROLE = 'arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-eu-west-1';
    const args = ['--stack', STACK, '--change-set', 'cs-1', '--region', 'eu-west-1'];
    let logged: string[];
    let errors: string[];

    beforeEach(() => {
      sts.reset();
      logged = [];
      errors = [];
      jest.spyOn(console, 'log').mockImplementation((line: string) => void logged.push(line));
      jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
      cfn.on(DescribeChangeSetCommand).resolves({
        Status: 'CREATE_COMPLETE',
        Changes: [{ ResourceChange: { Action: 'Modify', LogicalResourceId: 'NotesTable', ResourceType: 'AWS::DynamoDB::Table', Replacement: 'True' } }],
      });
      cfn.on(DeleteChangeSetCommand).resolves({});
    });
    afterEach(() => jest.restoreAllMocks());

    test('exits 1 when the change set replaces the table, so the build fails', async () => {
      const code = await main(args);

      expect(code).toBe(1);
      expect(logged.join('\n')).toContain('stateful-change guard: blocked');
    });

    test('exits 0 for the same change set with --allow true', async () => {
      const code = await main([...args, '--allow', 'true']);

      expect(code).toBe(0);
      expect(logged.join('\n')).toContain('OVERRIDDEN by ALLOW_STATEFUL_CHANGE=true');
    });

    test('with --role-arn, reads the change set with the credentials of the assumed deploy role', async () => {
      sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'ASIADEPLOYROLE', SecretAccessKey: 'deploy-secret', SessionToken: 'deploy-session', Expiration: new Date() } });

      const code = await main([...args, '--role-arn', DEPLOY_ROLE]);

      expect(code).toBe(1);
      expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([{ RoleArn: DEPLOY_ROLE, RoleSessionName: 'notes-stateful-guard' }]);
      const [firstRead] = cfn.commandCalls(DescribeChangeSetCommand);
      const client = firstRead.thisValue as CloudFormationClient;
      await expect(client.config.credentials()).resolves.toMatchObject({ accessKeyId: 'ASIADEPLOYROLE', secretAccessKey: 'deploy-secret', sessionToken: 'deploy-session' });
    });

    test('exits 2 when the deploy role cannot be assumed, and inspects nothing', async () => {
      sts.on(AssumeRoleCommand).resolves({});

      const code = await main([...args, '--role-arn', DEPLOY_ROLE]);

      expect(code).toBe(2);
      expect(errors).toEqual([`stateful-change guard: could not inspect change set cs-1 of ${STACK}: assuming ${DEPLOY_ROLE} returned no credentials`]);
      expect(cfn).toHaveReceivedCommandTimes(DescribeChangeSetCommand, 0);
    });
  });
});
