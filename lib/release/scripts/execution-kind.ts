/**
 * Tells the prod deploy step whether it runs in a normal execution or in a stage rollback.
 *
 * A normal execution executes the change set its own Plan step prepared. A rollback (CodePipeline
 * re-running the prod stage with an earlier execution's artifacts, after a failure or the alarm)
 * has no plan of its own: it deploys the earlier release's assembly, which was planned, approved
 * and released before. CloudFormation deletes a stack's other change sets when one executes, so
 * the earlier execution's change set is gone by then anyway.
 *
 *   npx tsx lib/release/scripts/execution-kind.ts --pipeline notes-release --execution-id <id> --region eu-west-1
 * Prints STANDARD or ROLLBACK. Exit codes: 0 printed, 2 usage or could not read the execution.
 */
import { CodePipelineClient, GetPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { arg } from './cloudformation-client';
import { runAsScript } from './run-as-script';

export type ExecutionKind = 'STANDARD' | 'ROLLBACK';

/**
 * CodePipeline says a rollback "will use the variables and artifacts from the execution to which
 * it is rolling back", so `#{codepipeline.PipelineExecutionId}` may name the rollback itself
 * (type ROLLBACK) or the earlier execution it rolls back to (finished long ago). Either is a
 * rollback; only an execution that is itself running and STANDARD runs its own plan.
 */
export async function executionKind(client: CodePipelineClient, pipelineName: string, executionId: string): Promise<ExecutionKind> {
  const out = await client.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: executionId }));
  const execution = out.pipelineExecution;
  if (execution?.executionType === 'ROLLBACK') return 'ROLLBACK';
  return execution?.status === 'InProgress' ? 'STANDARD' : 'ROLLBACK';
}

export async function main(argv: string[], client?: CodePipelineClient): Promise<number> {
  const pipelineName = arg(argv, 'pipeline');
  const executionId = arg(argv, 'execution-id');
  const region = arg(argv, 'region') ?? process.env.AWS_REGION;
  if (!pipelineName || !executionId || !region) {
    console.error('usage: execution-kind --pipeline NAME --execution-id ID --region REGION');
    return 2;
  }
  try {
    console.log(await executionKind(client ?? new CodePipelineClient({ region }), pipelineName, executionId));
    return 0;
  } catch (err) {
    console.error(`execution kind: could not read execution ${executionId} of ${pipelineName}: ${(err as Error).message}`);
    return 2;
  }
}

runAsScript(module, 'execution-kind', main);
