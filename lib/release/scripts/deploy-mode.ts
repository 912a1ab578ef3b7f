/**
 * Whether the deploy step runs in a release or in CodePipeline's stage rollback (#13): a rollback
 * execution (executionType ROLLBACK) puts the previous assembly back, and must not canary.
 *
 *   node bin/deploy-mode.js --pipeline NAME --execution ID [--region R]
 * Prints `release` or `rollback`. Outside a pipeline (no execution id) it prints `release`.
 * Exit code 1 when the execution cannot be read (the deploy must not guess), 2 on usage.
 */
import { CodePipelineClient, GetPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { arg } from './cloudformation-client';
import { runAsScript } from './run-as-script';

export type DeployMode = 'release' | 'rollback';

/**
 * CodePipeline says a rollback "will use the variables and artifacts from the execution to which
 * it is rolling back", so `#{codepipeline.PipelineExecutionId}` may name the rollback itself (type
 * ROLLBACK) or the earlier execution it rolls back to, which finished long ago. Either is a
 * rollback; only an execution that is itself running and STANDARD is a release.
 */
export async function deployMode(client: Pick<CodePipelineClient, 'send'>, pipelineName: string, executionId: string | undefined): Promise<DeployMode> {
  if (!executionId) return 'release';
  const out = await client.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: executionId }));
  const execution = out.pipelineExecution;
  if (execution?.executionType === 'ROLLBACK') return 'rollback';
  return execution?.status === 'InProgress' ? 'release' : 'rollback';
}


export async function main(argv: string[], client?: Pick<CodePipelineClient, 'send'>): Promise<number> {
  const pipeline = arg(argv, 'pipeline');
  if (!pipeline) {
    console.error('usage: deploy-mode --pipeline NAME --execution ID [--region R]');
    return 2;
  }
  try {
    const mode = await deployMode(client ?? new CodePipelineClient({ region: arg(argv, 'region') }), pipeline, arg(argv, 'execution') || undefined);
    console.error(`deploy mode: ${mode}${mode === 'rollback' ? ' (stage rollback: the previous version goes back all at once)' : ''}`);
    process.stdout.write(`${mode}\n`);
    return 0;
  } catch (err) {
    console.error(`deploy mode: cannot read execution ${arg(argv, 'execution')} of ${pipeline}: ${(err as Error).message}`);
    return 1;
  }
}

runAsScript(module, 'deploy-mode', main);
