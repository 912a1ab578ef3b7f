/**
 * What IAM authorizes for each AWS SDK command and AWS CLI call the code makes: the action(s) and
 * the resource ARN, built from the call's input. Sources: the Service Authorization Reference
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html),
 * one page per service, "Actions defined by ...". lib-dynamodb's document commands are authorized
 * as the DynamoDB operation they send (GetCommand is dynamodb:GetItem).
 *
 * A command missing here fails the contract test that meets it: add its row with the page it
 * comes from.
 */
import { PARTITION } from './cfn';

export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  /** Request context AWS sets for this request (e.g. kms:ViaService when S3 calls KMS for the caller). */
  readonly context?: Record<string, string | string[]>;
}

export interface ArnContext {
  readonly account: string;
  readonly region: string;
  /** The KMS key ARN that encrypts a topic, if any (publishers need it). */
  topicKey(topicArn: string): string | undefined;
}

type Input = Record<string, unknown>;
type Mapper = (input: Input, ctx: ArnContext) => IamRequest[];

const s = (v: unknown): string => String(v);
const arn = (ctx: ArnContext, service: string, resource: string) => `arn:${PARTITION}:${service}:${ctx.region}:${ctx.account}:${resource}`;

/** A table ARN; a value that already is an ARN stays as it is. */
function table(ctx: ArnContext, name: unknown, index?: unknown): string {
  const base = s(name).startsWith('arn:') ? s(name) : arn(ctx, 'dynamodb', `table/${s(name)}`);
  return index ? `${base}/index/${s(index)}` : base;
}

function object(input: Input): string {
  return `arn:${PARTITION}:s3:::${s(input.Bucket)}/${s(input.Key)}`;
}

/** A secret by ARN, or by name: Secrets Manager appends "-" and six random characters to the name. */
function secret(ctx: ArnContext, id: unknown): string {
  return s(id).startsWith('arn:') ? s(id) : arn(ctx, 'secretsmanager', `secret:${s(id)}-AbCdEf`);
}

/** A stack ARN ends in the stack's unique id. */
function stack(ctx: ArnContext, name: unknown): string {
  return s(name).startsWith('arn:') ? s(name) : arn(ctx, 'cloudformation', `stack/${s(name)}/00000000-1111-4222-8333-444444444444`);
}

const one = (action: string, resource: (i: Input, c: ArnContext) => string): Mapper => (i, c) => [{ action, resource: resource(i, c) }];
const onTable = (action: string): Mapper => one(action, (i, c) => table(c, i.TableName, i.IndexName));
const pipeline = (i: Input, c: ArnContext) => arn(c, 'codepipeline', s(i.pipelineName ?? i.name));
const anyResource = () => '*';
const userPool = (i: Input, c: ArnContext) => arn(c, 'cognito-idp', `userpool/${s(i.UserPoolId)}`);

/** S3 object reads: a read of a given version is authorized as s3:GetObjectVersion. */
const objectRead: Mapper = (i) => [{ action: i.VersionId ? 's3:GetObjectVersion' : 's3:GetObject', resource: object(i) }];

/** The deployment group a deployment belongs to: the row's binding of its id, else any group of the account. */
const deploymentGroupOf = (i: Input, c: ArnContext) => (s(i.deploymentId).startsWith('arn:') ? s(i.deploymentId) : arn(c, 'codedeploy', 'deploymentgroup:*'));

/** SDK command class name -> the IAM requests it makes. */
export const SDK_COMMANDS: Record<string, Mapper> = {
  // Amazon S3 (HeadObject is authorized as GetObject)
  GetObjectCommand: objectRead,
  HeadObjectCommand: objectRead,
  PutObjectCommand: one('s3:PutObject', object),
  // Bucket-level: ListObjectsV2 is authorized as s3:ListBucket, GetBucketEncryption as s3:GetEncryptionConfiguration.
  ListObjectsV2Command: one('s3:ListBucket', (i) => `arn:${PARTITION}:s3:::${s(i.Bucket)}`),
  GetBucketEncryptionCommand: one('s3:GetEncryptionConfiguration', (i) => `arn:${PARTITION}:s3:::${s(i.Bucket)}`),
  // Amazon DynamoDB, low-level and document client
  GetItemCommand: onTable('dynamodb:GetItem'),
  GetCommand: onTable('dynamodb:GetItem'),
  PutItemCommand: onTable('dynamodb:PutItem'),
  PutCommand: onTable('dynamodb:PutItem'),
  UpdateItemCommand: onTable('dynamodb:UpdateItem'),
  UpdateCommand: onTable('dynamodb:UpdateItem'),
  DeleteItemCommand: onTable('dynamodb:DeleteItem'),
  DeleteCommand: onTable('dynamodb:DeleteItem'),
  QueryCommand: onTable('dynamodb:Query'),
  ScanCommand: onTable('dynamodb:Scan'),
  BatchWriteItemCommand: onTable('dynamodb:BatchWriteItem'),
  DescribeTableCommand: onTable('dynamodb:DescribeTable'),
  UpdateTableCommand: onTable('dynamodb:UpdateTable'),
  DescribeContinuousBackupsCommand: onTable('dynamodb:DescribeContinuousBackups'),
  UpdateContinuousBackupsCommand: onTable('dynamodb:UpdateContinuousBackups'),
  // "Restoring a table to a point in time" needs these on the target table too:
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/backuprestore_IAM.html
  RestoreTableToPointInTimeCommand: (i, c) => [
    { action: 'dynamodb:RestoreTableToPointInTime', resource: table(c, i.SourceTableArn ?? i.SourceTableName) },
    ...['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchWriteItem'].map((action) => ({
      action,
      resource: table(c, i.TargetTableName),
    })),
  ],
  // AWS Secrets Manager
  GetSecretValueCommand: one('secretsmanager:GetSecretValue', (i, c) => secret(c, i.SecretId)),
  DescribeSecretCommand: one('secretsmanager:DescribeSecret', (i, c) => secret(c, i.SecretId)),
  // Amazon SNS: publishing to an encrypted topic also uses its key as the publisher
  // (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#sns-what-permissions-for-sse).
  PublishCommand: (i, c) => {
    const topic = s(i.TopicArn ?? i.TargetArn);
    const key = c.topicKey(topic);
    return [
      { action: 'sns:Publish', resource: topic },
      ...(key ? [{ action: 'kms:GenerateDataKey', resource: key }, { action: 'kms:Decrypt', resource: key }] : []),
    ];
  },
  // Amazon Cognito user pools
  AdminInitiateAuthCommand: one('cognito-idp:AdminInitiateAuth', userPool),
  // A public, unsigned API: "InitiateAuth ... is not authorized with IAM" (API reference, Authorization).
  InitiateAuthCommand: () => [],
  AdminCreateUserCommand: one('cognito-idp:AdminCreateUser', userPool),
  AdminSetUserPasswordCommand: one('cognito-idp:AdminSetUserPassword', userPool),
  AdminDeleteUserCommand: one('cognito-idp:AdminDeleteUser', userPool),
  AdminGetUserCommand: one('cognito-idp:AdminGetUser', userPool),
  // AWS CodePipeline (job results support no resource-level permissions)
  PutJobSuccessResultCommand: one('codepipeline:PutJobSuccessResult', anyResource),
  PutJobFailureResultCommand: one('codepipeline:PutJobFailureResult', anyResource),
  ListActionExecutionsCommand: one('codepipeline:ListActionExecutions', pipeline),
  GetPipelineExecutionCommand: one('codepipeline:GetPipelineExecution', pipeline),
  ListPipelineExecutionsCommand: one('codepipeline:ListPipelineExecutions', pipeline),
  GetPipelineStateCommand: one('codepipeline:GetPipelineState', pipeline),
  GetPipelineCommand: one('codepipeline:GetPipeline', pipeline),
  StartPipelineExecutionCommand: one('codepipeline:StartPipelineExecution', pipeline),
  StopPipelineExecutionCommand: one('codepipeline:StopPipelineExecution', pipeline),
  EnableStageTransitionCommand: one('codepipeline:EnableStageTransition', (i, c) => `${pipeline(i, c)}/${s(i.stageName)}`),
  DisableStageTransitionCommand: one('codepipeline:DisableStageTransition', (i, c) => `${pipeline(i, c)}/${s(i.stageName)}`),
  PutApprovalResultCommand: one('codepipeline:PutApprovalResult', (i, c) => `${pipeline(i, c)}/${s(i.stageName)}/${s(i.actionName)}`),
  // AWS CloudFormation (change-set actions are authorized on the stack)
  DescribeStacksCommand: one('cloudformation:DescribeStacks', (i, c) => stack(c, i.StackName)),
  DescribeStackEventsCommand: one('cloudformation:DescribeStackEvents', (i, c) => stack(c, i.StackName)),
  DescribeChangeSetCommand: one('cloudformation:DescribeChangeSet', (i, c) => stack(c, i.StackName)),
  DeleteChangeSetCommand: one('cloudformation:DeleteChangeSet', (i, c) => stack(c, i.StackName)),
  ListStackResourcesCommand: one('cloudformation:ListStackResources', (i, c) => stack(c, i.StackName)),
  UpdateTerminationProtectionCommand: one('cloudformation:UpdateTerminationProtection', (i, c) => stack(c, i.StackName)),
  DeleteStackCommand: one('cloudformation:DeleteStack', (i, c) => stack(c, i.StackName)),
  ExecuteChangeSetCommand: one('cloudformation:ExecuteChangeSet', (i, c) => stack(c, i.StackName)),
  GetTemplateCommand: one('cloudformation:GetTemplate', (i, c) => stack(c, i.StackName)),
  CreateChangeSetCommand: one('cloudformation:CreateChangeSet', (i, c) => stack(c, i.StackName)),
  // AWS Systems Manager Parameter Store (parameter names start with "/")
  GetParameterCommand: one('ssm:GetParameter', (i, c) => arn(c, 'ssm', `parameter${s(i.Name)}`)),
  // AWS CodeDeploy: deployments are authorized on their deployment group. A call that names only the
  // deployment id is checked on the group a contract row binds that id to (the id as the group's ARN).
  ListDeploymentsCommand: one('codedeploy:ListDeployments', (i, c) => arn(c, 'codedeploy', `deploymentgroup:${s(i.applicationName)}/${s(i.deploymentGroupName)}`)),
  GetDeploymentCommand: one('codedeploy:GetDeployment', (i, c) => deploymentGroupOf(i, c)),
  // No resource type in the Service Authorization Reference: only "*" is ever evaluated.
  PutLifecycleEventHookExecutionStatusCommand: one('codedeploy:PutLifecycleEventHookExecutionStatus', anyResource),
  // AWS STS (GetCallerIdentity needs no permission: "No permissions are required", API reference)
  AssumeRoleCommand: one('sts:AssumeRole', (i) => s(i.RoleArn)),
  GetCallerIdentityCommand: () => [],
  // Amazon CloudWatch
  DescribeAlarmsCommand: (i, c) => ((i.AlarmNames as string[] | undefined) ?? ['*']).map((n) => ({ action: 'cloudwatch:DescribeAlarms', resource: arn(c, 'cloudwatch', `alarm:${n}`) })),
  // AWS Lambda
  // A qualified invoke (a version or alias) is authorized on the qualified ARN.
  InvokeCommand: one('lambda:InvokeFunction', (i, c) => {
    const fn = s(i.FunctionName).startsWith('arn:') ? s(i.FunctionName) : arn(c, 'lambda', `function:${s(i.FunctionName)}`);
    return i.Qualifier ? `${fn}:${s(i.Qualifier)}` : fn;
  }),
  GetAliasCommand: one('lambda:GetAlias', (i, c) => `${s(i.FunctionName).startsWith('arn:') ? s(i.FunctionName) : arn(c, 'lambda', `function:${s(i.FunctionName)}`)}:${s(i.Name)}`),
};

/** The IAM requests of one SDK command, or undefined when the table does not know the command. */
export function iamRequestsOf(command: string, input: Input, ctx: ArnContext): IamRequest[] | undefined {
  const m = SDK_COMMANDS[command];
  return m ? m(input, ctx) : undefined;
}

/** AWS CLI `aws <service> <operation>` -> the SDK command it sends (so the same table applies). */
export function cliCommandOf(service: string, operation: string): string {
  const pascal = operation
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
  if (service === 's3api' || service === 's3') return `${pascal}Command`;
  return `${pascal}Command`;
}
