/**
 * The hotfix pipeline's first build step: refuses an execution that is not a hotfix.
 *
 * `notes-hotfix` is started by pushes to the hotfix branches, but CodePipeline also starts it once
 * when the pipeline is created (trigger `CreatePipeline`), and an operator's manual start or
 * "Release change" builds the source action's branch, `main`. Either would build `main` as a
 * hotfix: race `notes-release` on dev and ask for a second approval of the same version. This step
 * stops such an execution at once, with a message that says why and what to do instead.
 *
 *   npx tsx lib/release/scripts/hotfix-trigger.ts --pipeline notes-hotfix --execution <id> \
 *     --branch <Source.BranchName> --pattern 'hotfix/**'
 * Exit codes: 0 a hotfix (push to a hotfix branch), 1 refused or the trigger could not be read,
 * 2 usage.
 */
import { CodePipelineClient, GetPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { CREATED_PIPELINE_TRIGGER } from '../rollback-execution';

export interface HotfixExecution {
  pipelineName: string;
  /** The execution's trigger type (GetPipelineExecution `trigger.triggerType`). */
  triggerType: string | undefined;
  /** The branch the Source action read (`#{Source.BranchName}`). */
  branch: string;
  /** The hotfix branch glob of the pipeline's push trigger, e.g. `hotfix/**`. */
  pattern: string;
}

export interface HotfixDecision {
  proceed: boolean;
  message: string;
}

/**
 * Whether `branch` matches a CodePipeline branch glob: `**` any characters, `*` any characters
 * but `/`, `?` one character but `/`; everything else literally.
 */
export function branchMatches(branch: string, pattern: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(branch);
}

/** The verdict on one execution of the hotfix pipeline. */
export function decideHotfix(e: HotfixExecution): HotfixDecision {
  if (e.triggerType === CREATED_PIPELINE_TRIGGER) {
    return {
      proceed: false,
      message:
        `hotfix trigger: ${e.pipelineName} was started by its own creation (trigger ${CREATED_PIPELINE_TRIGGER}), which builds ${e.branch}, not a hotfix; nothing was built or deployed. ` +
        `This happens once after the pipeline stack is first deployed and needs no action. A hotfix starts by a push to a branch matching ${e.pattern}.`,
    };
  }
  if (!branchMatches(e.branch, e.pattern)) {
    return {
      proceed: false,
      message:
        `hotfix trigger: ${e.pipelineName} would build branch ${e.branch} (trigger ${e.triggerType ?? 'unknown'}), which is not a hotfix branch (${e.pattern}); nothing was built or deployed. ` +
        `A manual start of ${e.pipelineName} always builds ${e.branch}: release it through notes-release, or push the fix to a branch matching ${e.pattern}.`,
    };
  }
  return { proceed: true, message: `hotfix trigger: building hotfix branch ${e.branch} (trigger ${e.triggerType ?? 'unknown'}).` };
}

/** Reads the execution's trigger and decides. */
export async function checkHotfixExecution(
  client: CodePipelineClient,
  run: { pipelineName: string; executionId: string; branch: string; pattern: string },
): Promise<HotfixDecision> {
  const out = await client.send(new GetPipelineExecutionCommand({ pipelineName: run.pipelineName, pipelineExecutionId: run.executionId }));
  return decideHotfix({ pipelineName: run.pipelineName, triggerType: out.pipelineExecution?.trigger?.triggerType, branch: run.branch, pattern: run.pattern });
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

export async function main(argv: string[], client: CodePipelineClient = new CodePipelineClient({})): Promise<number> {
  const pipelineName = arg(argv, 'pipeline');
  const executionId = arg(argv, 'execution');
  const branch = arg(argv, 'branch');
  const pattern = arg(argv, 'pattern');
  if (!pipelineName || !executionId || !branch || !pattern) {
    console.error('usage: hotfix-trigger --pipeline NAME --execution ID --branch BRANCH --pattern GLOB');
    return 2;
  }
  let decision: HotfixDecision;
  try {
    decision = await checkHotfixExecution(client, { pipelineName, executionId, branch, pattern });
  } catch (err) {
    console.error(`hotfix trigger: could not read execution ${executionId} of ${pipelineName}, so it is not known to be a hotfix: ${(err as Error).message}`);
    return 1;
  }
  (decision.proceed ? console.log : console.error)(decision.message);
  return decision.proceed ? 0 : 1;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
