/**
 * The hotfix pipeline's first build step: the run CodePipeline starts when the pipeline is created
 * and manual starts (both build main) stop at once with a message; a push to a hotfix branch builds.
 */
import { CodePipelineClient, GetPipelineExecutionCommand, TriggerType } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { branchMatches, main } from '../../lib/release/scripts/hotfix-trigger';

const codepipeline = mockClient(CodePipelineClient);
const client = new CodePipelineClient({ region: 'eu-west-1' });
const args = (branch: string) => ['--pipeline', 'notes-hotfix', '--execution', 'exec-1', '--branch', branch, '--pattern', 'hotfix/**'];
const startedBy = (triggerType: TriggerType) =>
  codepipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { pipelineName: 'notes-hotfix', pipelineExecutionId: 'exec-1', trigger: { triggerType } } });

let out: jest.SpyInstance;
let err: jest.SpyInstance;
beforeEach(() => {
  codepipeline.reset();
  out = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

describe('hotfix trigger check', () => {
  test('the run CodePipeline starts on creation (it builds main) stops with a message that says no action is needed', async () => {
    // Arrange
    startedBy('CreatePipeline');

    // Act
    const code = await main(args('main'), client);

    // Assert
    expect(code).toBe(1);
    expect(codepipeline).toHaveReceivedCommandTimes(GetPipelineExecutionCommand, 1);
    expect(codepipeline).toHaveReceivedCommandWith(GetPipelineExecutionCommand, { pipelineName: 'notes-hotfix', pipelineExecutionId: 'exec-1' });
    const message = String(err.mock.calls[0][0]);
    expect(message).toContain('notes-hotfix was started by its own creation (trigger CreatePipeline)');
    expect(message).toContain('needs no action');
    expect(message).toContain('hotfix/**');
  });

  test('a manual start, which builds main, stops and says to release through notes-release or push a hotfix branch', async () => {
    startedBy('StartPipelineExecution');

    const code = await main(args('main'), client);

    expect(code).toBe(1);
    const message = String(err.mock.calls[0][0]);
    expect(message).toContain('would build branch main (trigger StartPipelineExecution), which is not a hotfix branch (hotfix/**)');
    expect(message).toContain('notes-release');
  });

  test('a push to a hotfix branch builds', async () => {
    startedBy('WebhookV2');

    const code = await main(args('hotfix/fix-login'), client);

    expect(code).toBe(0);
    expect(String(out.mock.calls[0][0])).toBe('hotfix trigger: building hotfix branch hotfix/fix-login (trigger WebhookV2).');
    expect(err).not.toHaveBeenCalled();
  });

  test('an execution whose trigger cannot be read is refused, naming the execution', async () => {
    codepipeline.on(GetPipelineExecutionCommand).rejects(Object.assign(new Error('not authorized to perform codepipeline:GetPipelineExecution'), { name: 'AccessDeniedException' }));

    const code = await main(args('hotfix/fix-login'), client);

    expect(code).toBe(1);
    expect(String(err.mock.calls[0][0])).toBe(
      'hotfix trigger: could not read execution exec-1 of notes-hotfix, so it is not known to be a hotfix: not authorized to perform codepipeline:GetPipelineExecution',
    );
  });

  test('missing arguments are a usage error (exit 2) and call nothing', async () => {
    const code = await main(['--pipeline', 'notes-hotfix'], client);

    expect(code).toBe(2);
    expect(codepipeline).toHaveReceivedCommandTimes(GetPipelineExecutionCommand, 0);
  });

  test.each([
    ['hotfix/fix-1', 'hotfix/**', true],
    ['hotfix/team/fix-1', 'hotfix/**', true],
    ['hotfix/team/fix-1', 'hotfix/*', false],
    ['hotfix/fix-1', 'hotfix/*', true],
    ['main', 'hotfix/**', false],
    ['hotfixes/x', 'hotfix/**', false],
    ['release.1', 'release?1', true],
    ['release/1', 'release?1', false],
    ['release.1', 'release.1', true],
    ['releasex1', 'release.1', false],
  ])('branch %s matches %s: %s', (branch, pattern, expected) => {
    expect(branchMatches(branch, pattern)).toBe(expected);
  });
});
