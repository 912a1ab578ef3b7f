/**
 * Reading a stack's change set and template from CloudFormation: what the Plan step renders and
 * what the operator CLI diffs before a rollback. Shared so both read them the same way.
 */
import {
  Change,
  CloudFormationClient,
  DescribeChangeSetCommand,
  DescribeChangeSetCommandOutput,
  GetTemplateCommand,
} from '@aws-sdk/client-cloudformation';

/** The change set with the `Changes` of every page; throws when it does not exist. */
export async function readFullChangeSet(cfn: CloudFormationClient, stackName: string, changeSetName: string): Promise<DescribeChangeSetCommandOutput> {
  let first: DescribeChangeSetCommandOutput | undefined;
  const changes: Change[] = [];
  let nextToken: string | undefined;
  do {
    const out = await cfn.send(new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName, NextToken: nextToken }));
    first ??= out;
    changes.push(...(out.Changes ?? []));
    nextToken = out.NextToken;
  } while (nextToken);
  return { ...first!, Changes: changes, NextToken: undefined };
}

/** The stack's template as deployed (`Original` stage); `{}` when the stack does not exist yet. */
export async function currentTemplate(cfn: CloudFormationClient, stackName: string): Promise<Record<string, unknown>> {
  try {
    const out = await cfn.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' }));
    return out.TemplateBody ? (JSON.parse(out.TemplateBody) as Record<string, unknown>) : {};
  } catch (err) {
    if (/does not exist/.test((err as Error).message)) return {};
    throw err;
  }
}

