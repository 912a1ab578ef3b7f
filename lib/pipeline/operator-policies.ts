/**
 * Least-privilege managed policies for the people who operate releases and restore data, so that
 * nobody needs near-admin rights to run `npm run release` or `npm run restore`. Each statement
 * names the tool call it is for; the IAM contract tests (test/iam) simulate every call those tools
 * make against these documents.
 *
 * Attach them through an IAM Identity Center permission set (customer managed policy reference by
 * name) or to a role: docs/runbooks/rollback.md, "Who can run it".
 */
import { ArnFormat, Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './nag';

/** A pipeline action an operator may answer with `approve` / `reject`. */
export interface ApprovalActionRef {
  readonly pipelineName: string;
  readonly stageName: string;
  readonly actionName: string;
}

/** A CloudFormation stack in some account and region (undefined account: the policy's own). */
export interface StackRef {
  readonly stackName: string;
  readonly region: string;
  readonly account?: string;
}

export interface ReleaseOperatorPolicyProps {
  /** Physical name, so a permission set can reference it (e.g. `notes-release-operator`). */
  readonly managedPolicyName: string;
  readonly releasePipelineName: string;
  readonly hotfixPipelineName: string;
  readonly rollbackPipelineName: string;
  /** The release pipeline's production stage: `rollback` pauses and `resume` re-enables its inbound transition. */
  readonly prodStageName: string;
  readonly approvals: ApprovalActionRef[];
  readonly ledgerTableArn: string;
  /** Stacks whose outputs the CLI reads: NotesPipeline (ledger table) and the prod NotesStack (ApiUrl). */
  readonly stacks: StackRef[];
  /** The prod NotesStack: `rollback` diffs its template against the target's archived one. */
  readonly prodStack: StackRef;
  /** Archived cloud assemblies (`releases/v<version>/cloud-assembly.zip`): `rollback` reads the target's to show its plan. */
  readonly archivedAssembliesArn: string;
  /** The prod notes-api function's `live` alias: `status` shows the version it serves. */
  readonly liveAliasArn: string;
  /**
   * Prod in another account: its read-only release role. The CLI reads the prod stack, its template
   * and the live alias as that role, so the policy allows assuming it instead of those reads.
   */
  readonly prodReaderRoleArn?: string;
}

/** The CloudFormation stack ARN pattern (a stack's id is a generated UUID after the name). */
export function stackArnPattern(scope: Construct, stack: StackRef): string {
  return Stack.of(scope).formatArn({
    service: 'cloudformation',
    resource: 'stack',
    resourceName: `${stack.stackName}/*`,
    region: stack.region,
    account: stack.account ?? Aws.ACCOUNT_ID,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

function codepipelineArn(scope: Construct, resource: string): string {
  return Stack.of(scope).formatArn({ service: 'codepipeline', resource, arnFormat: ArnFormat.NO_RESOURCE_NAME });
}

/**
 * `npm run release -- status | history | rollback | resume | approve | reject`. STS
 * GetCallerIdentity (rollback's `requestedBy`) needs no permission.
 */
export function releaseOperatorPolicy(scope: Construct, id: string, props: ReleaseOperatorPolicyProps): iam.ManagedPolicy {
  const pipelines = [props.releasePipelineName, props.hotfixPipelineName, props.rollbackPipelineName];
  const crossAccount = props.prodReaderRoleArn !== undefined;
  const isProd = (s: StackRef) => s.stackName === props.prodStack.stackName && s.account === props.prodStack.account && s.region === props.prodStack.region;
  const stackArns = props.stacks.filter((s) => !(crossAccount && isProd(s))).map((s) => stackArnPattern(scope, s));
  const prodReads = crossAccount
    ? [new iam.PolicyStatement({ sid: 'ReadProdThroughItsReaderRole', actions: ['sts:AssumeRole'], resources: [props.prodReaderRoleArn!] })]
    : [
        new iam.PolicyStatement({
          sid: 'PlanRollbackFromProdTemplate',
          actions: ['cloudformation:GetTemplate'],
          resources: [stackArnPattern(scope, props.prodStack)],
        }),
        new iam.PolicyStatement({
          sid: 'ReadLiveAlias',
          actions: ['lambda:GetAlias'],
          resources: [props.liveAliasArn],
        }),
      ];
  const policy = new iam.ManagedPolicy(scope, id, {
    managedPolicyName: props.managedPolicyName,
    description: 'Notes release operators: npm run release -- status, history, rollback, resume, approve, reject',
    statements: [
      new iam.PolicyStatement({
        sid: 'ReadPipelines',
        actions: [
          'codepipeline:GetPipelineState',
          'codepipeline:ListPipelineExecutions',
          'codepipeline:GetPipelineExecution',
          'codepipeline:ListActionExecutions',
        ],
        resources: pipelines.map((p) => codepipelineArn(scope, p)),
      }),
      new iam.PolicyStatement({
        sid: 'StartRollback',
        actions: ['codepipeline:StartPipelineExecution'],
        resources: [codepipelineArn(scope, props.rollbackPipelineName)],
      }),
      new iam.PolicyStatement({
        sid: 'PauseAndResumePromotionsIntoProd',
        actions: ['codepipeline:DisableStageTransition', 'codepipeline:EnableStageTransition'],
        resources: [codepipelineArn(scope, `${props.releasePipelineName}/${props.prodStageName}`)],
      }),
      new iam.PolicyStatement({
        sid: 'AnswerApprovals',
        actions: ['codepipeline:PutApprovalResult'],
        resources: props.approvals.map((a) => codepipelineArn(scope, `${a.pipelineName}/${a.stageName}/${a.actionName}`)),
      }),
      new iam.PolicyStatement({
        sid: 'ReadReleaseLedger',
        actions: ['dynamodb:GetItem', 'dynamodb:Query'],
        resources: [props.ledgerTableArn],
      }),
      new iam.PolicyStatement({
        sid: 'ReadStackOutputs',
        actions: ['cloudformation:DescribeStacks'],
        resources: stackArns,
      }),
      new iam.PolicyStatement({
        sid: 'PlanRollbackFromArchivedAssembly',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [props.archivedAssembliesArn],
      }),
      ...prodReads,
    ],
  });
  acknowledgeWildcardResource(
    policy,
    props.archivedAssembliesArn,
    'Which release is rolled back to is chosen at run time, so the operator may read any archived cloud assembly (releases/<version>/cloud-assembly.zip) to show the rollback plan, and nothing else in the archive: no release notes, no list, no write.',
  );
  for (const arn of stackArns) {
    acknowledgeWildcardResource(policy, arn, 'A stack ARN ends in the id CloudFormation generates; the name before it is fixed, and the action only reads the stack (outputs).');
  }
  return policy;
}

/** A NotesStack whose notes table (named by CloudFormation `<stackName>-<logical id>-<suffix>`) may be restored. */
export type RestoreSourceRef = StackRef;

/** What a restored table's name contains (lib/restore's default target is `<source>-restore-<time>`). */
export const RESTORED_TABLE_MARK = '-restore-';

export interface DataRestorePolicyProps {
  readonly managedPolicyName: string;
  /** Every NotesStack; the policy allows the tables CloudFormation named after them (`<stackName>-*`). */
  readonly stacks: RestoreSourceRef[];
}

/**
 * `npm run restore`: read the live table, restore it to a point in time into a NEW table named
 * `<source>...-restore-...` (the default `<source>-restore-<time>` is), then protect and verify the
 * new table. Writes are allowed on restored tables only, never on a live one. RestoreTableToPointInTime needs `dynamodb:RestoreTableToPointInTime` on the
 * source and item read/write actions on the target
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/backuprestore_IAM.html).
 * The tables use the AWS managed key aws/dynamodb, whose key policy lets the account's principals
 * use it through DynamoDB, so no KMS statement is needed.
 */
export function dataRestorePolicy(scope: Construct, id: string, props: DataRestorePolicyProps): iam.ManagedPolicy {
  const stack = Stack.of(scope);
  const tableArn = (s: RestoreSourceRef, pattern: string) =>
    stack.formatArn({
      service: 'dynamodb',
      resource: 'table',
      resourceName: pattern,
      region: s.region,
      account: s.account ?? Aws.ACCOUNT_ID,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  /** The live tables and their restored copies. */
  const tables = props.stacks.map((s) => tableArn(s, `${s.stackName}-*`));
  /** Restored copies only: the live table is never written. */
  const restored = props.stacks.map((s) => tableArn(s, `${s.stackName}-*${RESTORED_TABLE_MARK}*`));
  const policy = new iam.ManagedPolicy(scope, id, {
    managedPolicyName: props.managedPolicyName,
    description: 'Notes data restore: npm run restore (point-in-time restore of a notes table into a new table, verified)',
    statements: [
      new iam.PolicyStatement({
        sid: 'ReadLiveAndRestoredTables',
        actions: ['dynamodb:DescribeTable', 'dynamodb:DescribeContinuousBackups', 'dynamodb:Scan', 'dynamodb:GetItem'],
        resources: tables,
      }),
      new iam.PolicyStatement({
        sid: 'RestoreFromSource',
        actions: ['dynamodb:RestoreTableToPointInTime'],
        resources: tables,
      }),
      new iam.PolicyStatement({
        sid: 'WriteRestoredTable',
        // What AWS documents RestoreTableToPointInTime needs on the target table.
        actions: [
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:Scan',
          'dynamodb:BatchWriteItem',
        ],
        resources: restored,
      }),
      new iam.PolicyStatement({
        sid: 'ProtectRestoredTable',
        actions: ['dynamodb:UpdateContinuousBackups', 'dynamodb:UpdateTable'],
        resources: restored,
      }),
    ],
  });
  for (const arn of [...tables, ...restored]) {
    acknowledgeWildcardResource(
      policy,
      arn,
      'CloudFormation names a notes table <stack>-<logical id>-<suffix>; the prefix pins the tables of that NotesStack, and restored copies are <source>-restore-<time>.',
    );
  }
  return policy;
}
