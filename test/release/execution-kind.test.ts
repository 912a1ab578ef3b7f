import { CodePipelineClient, GetPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { main } from '../../lib/release/scripts/execution-kind';

const cp = mockClient(CodePipelineClient);
const client = cp as unknown as CodePipelineClient;
const argv = ['--pipeline', 'notes-release', '--execution-id', 'exec-2', '--region', 'eu-west-1'];
let out: jest.SpyInstance;
let err: jest.SpyInstance;
beforeEach(() => {
  cp.reset();
  out = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());
afterAll(() => cp.restore());

describe('the prod deploy step tells a stage rollback from a normal execution', () => {
  test('a stage rollback is ROLLBACK', async () => {
    cp.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { executionType: 'ROLLBACK', rollbackMetadata: { rollbackTargetPipelineExecutionId: 'exec-1' } } });

    expect(await main(argv, client)).toBe(0);

    expect(out).toHaveBeenCalledWith('ROLLBACK');
    expect(cp).toHaveReceivedCommandWith(GetPipelineExecutionCommand, { pipelineName: 'notes-release', pipelineExecutionId: 'exec-2' });
  });

  test('a normal execution is STANDARD', async () => {
    cp.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { executionType: 'STANDARD', status: 'InProgress' } });

    expect(await main(argv, client)).toBe(0);
    expect(out).toHaveBeenCalledWith('STANDARD');
  });

  test('the execution id of an earlier, finished execution (a rollback reusing its variables) is ROLLBACK', async () => {
    cp.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { executionType: 'STANDARD', status: 'Succeeded' } });

    expect(await main(argv, client)).toBe(0);
    expect(out).toHaveBeenCalledWith('ROLLBACK');
  });

  test('an unreadable execution stops the step (exit 2) naming it, rather than guessing', async () => {
    cp.on(GetPipelineExecutionCommand).rejects(new Error('User is not authorized to perform codepipeline:GetPipelineExecution'));

    expect(await main(argv, client)).toBe(2);
    expect(out).not.toHaveBeenCalled();
    expect(String(err.mock.calls[0][0])).toBe('execution kind: could not read execution exec-2 of notes-release: User is not authorized to perform codepipeline:GetPipelineExecution');
  });
});
