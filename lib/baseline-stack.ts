/**
 * A target account's baseline: what must exist in an account and region before `cdk bootstrap`
 * names its execution policy and before the first NotesStack deploys there.
 *
 * - the CloudFormation execution policy (`cdk bootstrap --cloudformation-execution-policies`): the
 *   services and resource-name prefixes the NotesStacks of this account and region use, nothing
 *   else; roles only with the permissions boundary, never without it;
 * - the permissions boundary every NotesStack role carries (`PermissionsBoundary.of(stack)`): the
 *   most any of those roles may ever do;
 * - the prod plan role (only where the production environment lives): create and read a change set
 *   of the prod stack and publish its assets, never execute it;
 * - the reader role: the release's read-only view of the notes stacks here (no data, no writes).
 *
 * The deployer deploys it once, with administrator credentials, before `cdk bootstrap` (its
 * synthesizer needs no bootstrap roles and no assets bucket: see the decision log, #11).
 */
import { Aws, CfnOutput, LegacyStackSynthesizer, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AppConfig, EnvironmentConfig, notesStackName, resourcePrefix } from './config';
import { acknowledgeWildcardResource } from './pipeline/nag';
import { executionPolicyName, isCrossAccount, jobReporterRoleName, permissionsBoundaryName, planRoleName, readerRoleName, roleArn } from './target-account';

/** The bootstrap qualifier of every NotesStack (cdk.json `@aws-cdk/core:bootstrapQualifier`, default CDK's). */
export const DEFAULT_QUALIFIER = 'hnb659fds';

export interface BaselineStackProps extends StackProps {
  readonly config: AppConfig;
  /** The environments whose NotesStacks deploy into this stack's account and region. */
  readonly environments: EnvironmentConfig[];
  /** The CDK bootstrap qualifier of those NotesStacks. */
  readonly qualifier: string;
}

/** `NotesBaseline-<env>-<env>...`: the baseline of the account and region these environments share. */
export function baselineStackName(environments: Pick<EnvironmentConfig, 'name'>[]): string {
  return `NotesBaseline-${environments.map((e) => e.name).join('-')}`;
}

/** Where an environment's NotesStack lives; environments without an account are in the pipeline's (the deploying credentials') account. */
export function placeOf(config: AppConfig, env: EnvironmentConfig): string {
  return `${env.account ?? config.pipeline.account ?? 'deploying-account'}/${env.region}`;
}

/** The environments grouped by account and region, in cdk.json order: one baseline stack each. */
export function baselineGroups(config: AppConfig): EnvironmentConfig[][] {
  const groups = new Map<string, EnvironmentConfig[]>();
  for (const env of config.environments) {
    const key = placeOf(config, env);
    groups.set(key, [...(groups.get(key) ?? []), env]);
  }
  return [...groups.values()];
}

/** A NotesStack's name and its resources' name prefix. */
interface Place {
  readonly stack: string;
  readonly prefix: string;
}
type Each = <T>(fn: (e: Place) => T[]) => T[];
type Arn = (svc: string, resource: string, withRegion?: boolean) => string;

export class NotesBaselineStack extends Stack {
  /** The first part of the execution policy (named `executionPolicyName`). */
  readonly executionPolicy: iam.ManagedPolicy;
  /** Every part of the execution policy, in order (`<name>`, `<name>-2`, ...): the bootstrap names them all. */
  readonly executionPolicies: iam.ManagedPolicy[];
  readonly permissionsBoundary: iam.ManagedPolicy;
  /** Only in the account and region of the production environment. */
  readonly planRole?: iam.Role;
  readonly readerRole: iam.Role;
  /** The NotesStacks this baseline serves (`NotesStack-<env>`). */
  readonly serves: string[];

  constructor(scope: Construct, id: string, props: BaselineStackProps) {
    const first = props.environments[0];
    super(scope, id, {
      description: `Serverless Personal Notes: CloudFormation execution policy, permissions boundary and release roles for ${props.environments.map((e) => notesStackName(e)).join(', ')}`,
      // Deployed with the CLI's own (administrator) credentials before `cdk bootstrap` names the
      // policy: no bootstrap roles, no bootstrap version rule; a template under 51,200 bytes is sent
      // inline, so without assets (a test checks) it needs no assets bucket either.
      synthesizer: new LegacyStackSynthesizer(),
      env: { account: first.account, region: first.region },
      terminationProtection: true,
      ...props,
    });
    const { config, environments, qualifier } = props;
    this.serves = environments.map((e) => notesStackName(e));
    const service = config.service;
    const region = first.region;
    const account = this.account;
    const pipelineAccount = config.pipeline.account ?? account;
    const names = environments.map((e) => notesStackName(e)).join(', ');

    const arn: Arn = (svc, resource, withRegion = true) => `arn:${Aws.PARTITION}:${svc}:${withRegion ? region : ''}:${account}:${resource}`;
    const each: Each = <T>(fn: (e: Place) => T[]) => environments.flatMap((e) => fn({ stack: notesStackName(e), prefix: resourcePrefix(config, e) }));
    const roles = each(({ stack }) => [`arn:${Aws.PARTITION}:iam::${account}:role/${stack}-*`]);
    const functions = each(({ stack, prefix }) => [arn('lambda', `function:${prefix}-*`), arn('lambda', `function:${stack}-*`)]);
    const logGroups = each(({ stack, prefix }) => [arn('logs', `log-group:${stack}-*`), arn('logs', `log-group:/aws/lambda/${prefix}-*`)]);
    const tables = each(({ stack }) => [arn('dynamodb', `table/${stack}-*`)]);
    const secrets = each(({ prefix }) => [arn('secretsmanager', `secret:${prefix}/*`)]);
    const alarms = each(({ prefix }) => [arn('cloudwatch', `alarm:${prefix}-*`)]);
    const deploymentGroups = each(({ prefix }) => [arn('codedeploy', `deploymentgroup:${prefix}-*/${prefix}-*`)]);
    const userPools = arn('cognito-idp', 'userpool/*');

    const boundaryName = permissionsBoundaryName(service, region);
    const boundaryArn = `arn:${Aws.PARTITION}:iam::${account}:policy/${boundaryName}`;
    const policyName = executionPolicyName(service, region);

    // Why each wildcard resource is there (cdk-nag AwsSolutions-IAM5 is acknowledged one resource at a time from this).
    const why = new Map<string, string>();
    const because = (reason: string, resources: string[]) => {
      for (const r of resources) why.set(r, reason);
      return resources;
    };
    const prefixReason = (what: string) =>
      `${what} of the notes stacks here: CloudFormation names unnamed resources <stack name>-<logical id>-<suffix> and the app names the others <service>-<env>-*, so a prefix is the narrowest ARN that covers them (decision log, #11).`;
    because(prefixReason('Roles'), roles);
    because(prefixReason('Functions, their versions and aliases'), [...functions, ...functions.map((f) => `${f}:*`)]);
    because(prefixReason('Log groups'), [...logGroups, ...logGroups.map((g) => `${g}:*`)]);
    because(prefixReason('The notes tables and their indexes'), [...tables, ...tables.map((t) => `${t}/index/*`)]);
    because(prefixReason('The smoke-user secrets (Secrets Manager appends a random suffix to the name)'), secrets);
    because(prefixReason('Alarms'), alarms);
    because(prefixReason('CodeDeploy deployment groups'), deploymentGroups);
    because('Cognito user pool ids are random (<region>_<id>): IAM cannot scope a pool by its name, and the target account holds the notes pools only in the three-account layout (decision log, #11).', [userPools]);
    for (const w of executionWildcards(arn, each, qualifier, account, region)) because(w.reason, [w.resource]);
    because('X-Ray segments, CodePipeline job results, CodeDeploy lifecycle hook results, lambda:ListFunctions and codedeploy:StopDeployment (a failed alias update stops its traffic shift), kms:CreateKey, cognito-idp:CreateUserPool, secretsmanager:GetRandomPassword and logs:DescribeLogGroups have no resource-level permissions (Service Authorization Reference).', ['*']);
    because('API Gateway names its execution log groups API-Gateway-Execution-Logs_<REST API id>, and the id is random.', [arn('logs', 'log-group:API-Gateway-Execution-Logs_*')]);
    because('logs:DescribeLogGroups, which the API Gateway logging role calls, is scoped to the account and region at most.', [arn('logs', 'log-group:*')]);
    because('A stack ARN ends in the id CloudFormation gives the stack at creation; the stack name before it is fixed.', each(({ stack }) => [arn('cloudformation', `stack/${stack}/*`)]));
    because('The CDK bootstrap stack (CDKToolkit), which the CLI describes before publishing assets; a stack ARN ends in a generated id.', [arn('cloudformation', 'stack/CDKToolkit/*')]);
    because('The aliases of the notes API function (live, the one the API serves): the reader reads which version it points to.', each(({ prefix }) => [arn('lambda', `function:${prefix}-api:*`)]));

    // --- The permissions boundary: the union of what the NotesStack roles need, on their own resources.
    const boundaryStatements = [
      new iam.PolicyStatement({
        sid: 'OwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:DeleteRetentionPolicy'],
        resources: [...logGroups, ...logGroups.map((g) => `${g}:*`)],
      }),
      // AmazonAPIGatewayPushToCloudWatchLogs (the API Gateway account role): execution logs go to
      // API-Gateway-Execution-Logs_<api id>/<stage>, a group API Gateway names and creates itself.
      new iam.PolicyStatement({
        sid: 'ApiGatewayExecutionLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents', 'logs:GetLogEvents', 'logs:FilterLogEvents'],
        resources: [arn('logs', 'log-group:API-Gateway-Execution-Logs_*'), ...logGroups, ...logGroups.map((g) => `${g}:*`)],
      }),
      new iam.PolicyStatement({ sid: 'ApiGatewayDescribeLogGroups', actions: ['logs:DescribeLogGroups'], resources: [arn('logs', 'log-group:*')] }),
      // X-Ray, CodePipeline job results, CodeDeploy hook results and the function list (asked of the
      // role CodePipeline invokes a smoke test through) have no resource-level permissions.
      new iam.PolicyStatement({
        sid: 'NoResourceLevelActions',
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult', 'codedeploy:PutLifecycleEventHookExecutionStatus', 'lambda:ListFunctions'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'OwnNotesTable',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'],
        resources: [...tables, ...tables.map((t) => `${t}/index/*`)],
      }),
      new iam.PolicyStatement({ sid: 'OwnSmokeUserSecret', actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], resources: secrets }),
      new iam.PolicyStatement({
        sid: 'SmokeUser',
        actions: ['cognito-idp:AdminCreateUser', 'cognito-idp:AdminDeleteUser', 'cognito-idp:AdminSetUserPassword', 'cognito-idp:AdminInitiateAuth'],
        resources: [userPools],
      }),
      new iam.PolicyStatement({
        sid: 'OwnFunctions',
        actions: ['lambda:InvokeFunction', 'lambda:GetFunction', 'lambda:GetAlias', 'lambda:UpdateAlias', 'lambda:GetProvisionedConcurrencyConfig'],
        resources: [...functions, ...functions.map((f) => `${f}:*`)],
      }),
      new iam.PolicyStatement({ sid: 'OwnAlarms', actions: ['cloudwatch:DescribeAlarms'], resources: alarms }),
    ];
    // A smoke test outside the pipeline's account reports its CodePipeline job through its job
    // reporter role there (lib/pipeline/job-reporters.ts): its role may assume exactly that role.
    const reporters = environments
      .filter((e) => isCrossAccount(e, config.pipeline.account))
      .map((e) => roleArn(pipelineAccount, jobReporterRoleName(service, e.name), Aws.PARTITION));
    if (reporters.length > 0) {
      boundaryStatements.push(new iam.PolicyStatement({ sid: 'ReportSmokeJobsThroughPipelineAccount', actions: ['sts:AssumeRole'], resources: reporters }));
    }
    this.permissionsBoundary = new iam.ManagedPolicy(this, 'PermissionsBoundary', {
      managedPolicyName: boundaryName,
      description: `The most any role of ${names} may do: its Lambdas, API Gateway logging, CodeDeploy and custom resources, on their own resources`,
      statements: boundaryStatements,
    });

    // --- The CloudFormation execution policy. A managed policy holds at most 6,144 characters, so
    // the statements are packed in order into as many parts as they need: `<name>`, `<name>-2`, ...
    // (the bootstrap names them all: the ExecutionPolicyArn output is the comma-separated list).
    const executionStmts = executionStatements({ account, region, arn, each, roles, functions, logGroups, tables, secrets, alarms, userPools, boundaryArn, qualifier, policyName });
    const executionParts = packStatements(this, executionStmts);
    this.executionPolicies = executionParts.map(
      (part, i) =>
        new iam.ManagedPolicy(this, i === 0 ? 'ExecutionPolicy' : `ExecutionPolicy${i + 1}`, {
          managedPolicyName: executionPolicyPartName(policyName, i),
          description: `CloudFormation execution policy of the CDK bootstrap for ${names} (part ${i + 1}): their services and resource-name prefixes only`,
          statements: part,
        }),
    );
    this.executionPolicy = this.executionPolicies[0];

    // --- The release roles, trusted by the pipeline account.
    const trust = new iam.AccountPrincipal(pipelineAccount);
    const readerStatements = [
      // Outputs for the backups check and `status`; the template for the rollback's plan line.
      new iam.PolicyStatement({ sid: 'StackOutputs', actions: ['cloudformation:DescribeStacks', 'cloudformation:GetTemplate'], resources: each(({ stack }) => [arn('cloudformation', `stack/${stack}/*`)]) }),
      new iam.PolicyStatement({ sid: 'BackupState', actions: ['dynamodb:DescribeContinuousBackups'], resources: tables }),
      new iam.PolicyStatement({ sid: 'Alarms', actions: ['cloudwatch:DescribeAlarms'], resources: alarms }),
      new iam.PolicyStatement({ sid: 'LiveAlias', actions: ['lambda:GetAlias'], resources: each(({ prefix }) => [arn('lambda', `function:${prefix}-api:*`)]) }),
      new iam.PolicyStatement({
        sid: 'TrafficShifts',
        actions: ['codedeploy:ListDeployments', 'codedeploy:GetDeployment', 'codedeploy:BatchGetDeployments', 'codedeploy:GetDeploymentGroup'],
        resources: deploymentGroups,
      }),
    ];
    this.readerRole = new iam.Role(this, 'ReaderRole', {
      roleName: readerRoleName(service, region),
      assumedBy: trust,
      description: `Read-only release view of ${names}: stack outputs, backup state, alarms, the live alias and its deployments; no data, no writes`,
      inlinePolicies: { read: new iam.PolicyDocument({ statements: readerStatements }) },
    });
    const acknowledged: [Construct, iam.PolicyStatement[]][] = [
      [this.permissionsBoundary, boundaryStatements],
      ...this.executionPolicies.map((policy, i): [Construct, iam.PolicyStatement[]] => [policy, executionParts[i]]),
      [this.readerRole, readerStatements],
    ];

    const prod = environments.find((e) => e.kind === 'production');
    if (prod) {
      const stackArn = arn('cloudformation', `stack/${notesStackName(prod)}/*`);
      const assetsBucket = `arn:${Aws.PARTITION}:s3:::cdk-${qualifier}-assets-${account}-${region}`;
      const planStatements = [
        new iam.PolicyStatement({ sid: 'BootstrapVersion', actions: ['ssm:GetParameter', 'ssm:GetParameters'], resources: [arn('ssm', `parameter/cdk-bootstrap/${qualifier}/version`)] }),
        new iam.PolicyStatement({
          sid: 'ReadProdStack',
          actions: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackEvents', 'cloudformation:GetTemplate', 'cloudformation:GetTemplateSummary'],
          resources: [stackArn],
        }),
        new iam.PolicyStatement({
          sid: 'ChangeSetsOfProdStack',
          actions: ['cloudformation:CreateChangeSet', 'cloudformation:DescribeChangeSet', 'cloudformation:ListChangeSets', 'cloudformation:DeleteChangeSet'],
          resources: [stackArn],
        }),
        // The CLI looks the toolkit stack (CDKToolkit) up; it goes on when refused, and reading it is harmless.
        new iam.PolicyStatement({ sid: 'ReadToolkitStack', actions: ['cloudformation:DescribeStacks'], resources: [arn('cloudformation', 'stack/CDKToolkit/*')] }),
        // Turned on by the CLI after the prod stack's first change set (the stack it creates is
        // REVIEW_IN_PROGRESS, without the protection the template asks for). Turning it off would
        // not let this role delete anything: it has no DeleteStack.
        new iam.PolicyStatement({ sid: 'ProdStackTerminationProtection', actions: ['cloudformation:UpdateTerminationProtection'], resources: [stackArn] }),
        new iam.PolicyStatement({
          sid: 'PublishFileAssets',
          actions: ['s3:GetObject', 's3:PutObject', 's3:GetBucketLocation', 's3:ListBucket', 's3:GetEncryptionConfiguration'],
          resources: [assetsBucket, `${assetsBucket}/*`],
        }),
        // The bootstrap bucket's key (cdk bootstrap creates it; its id is random), used through S3 only.
        new iam.PolicyStatement({
          sid: 'AssetsBucketKeyThroughS3',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [arn('kms', 'key/*')],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
        }),
        new iam.PolicyStatement({
          sid: 'PassBootstrapExecutionRole',
          actions: ['iam:PassRole'],
          resources: [`arn:${Aws.PARTITION}:iam::${account}:role/cdk-${qualifier}-cfn-exec-role-${account}-${region}`],
          conditions: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
        }),
      ];
      this.planRole = new iam.Role(this, 'PlanRole', {
        roleName: planRoleName(service, region),
        assumedBy: trust,
        description: `Prepares and reads change sets of ${notesStackName(prod)} and publishes its assets; never executes a change set, never updates or deletes the stack`,
        inlinePolicies: { plan: new iam.PolicyDocument({ statements: planStatements }) },
      });
      acknowledged.push([this.planRole, planStatements]);
      new CfnOutput(this, 'PlanRoleArn', { value: this.planRole.roleArn, description: `Role the Plan steps assume in this account to prepare a change set of ${notesStackName(prod)}` });
    }

    new CfnOutput(this, 'ExecutionPolicyArn', {
      value: this.executionPolicies.map((p) => p.managedPolicyArn).join(','),
      description: 'cdk bootstrap --cloudformation-execution-policies <this> (every part, comma-separated)',
    });
    new CfnOutput(this, 'PermissionsBoundaryArn', { value: this.permissionsBoundary.managedPolicyArn, description: 'Permissions boundary of every NotesStack role here' });
    new CfnOutput(this, 'ReaderRoleArn', { value: this.readerRole.roleArn, description: 'Read-only role the pipeline account reads the notes stacks here through' });

    for (const [scope, statements] of acknowledged) {
      const wildcards = new Set(statements.filter((st) => st.effect === iam.Effect.ALLOW).flatMap((st) => st.resources).filter((r) => r.includes('*')));
      for (const r of wildcards) {
        const reason = why.get(r);
        if (!reason) throw new Error(`${scope.node.path}: the wildcard resource ${r} has no reason in lib/baseline-stack.ts`);
        acknowledgeWildcardResource(scope, r, reason);
      }
    }
  }
}

/** IAM's limit for a managed policy document, in characters without whitespace. */
const MANAGED_POLICY_LIMIT = 6144;

/** The name of the i-th part of the execution policy: the first is `executionPolicyName`'s, then `<name>-2`, `<name>-3`. */
export function executionPolicyPartName(name: string, index: number): string {
  return index === 0 ? name : `${name}-${index + 1}`;
}

/**
 * Packs statements in order into parts that each fit a managed policy. A statement's size is its
 * JSON with CloudFormation's intrinsics unresolved (a Ref is longer than the account id it becomes),
 * so the estimate errs on the large side; a margin covers the document's own braces.
 */
function packStatements(scope: Construct, statements: iam.PolicyStatement[]): iam.PolicyStatement[][] {
  const budget = MANAGED_POLICY_LIMIT - 200;
  const size = (st: iam.PolicyStatement) => JSON.stringify(Stack.of(scope).resolve(st.toStatementJson())).length + 1;
  const parts: iam.PolicyStatement[][] = [[]];
  let used = 0;
  for (const st of statements) {
    const n = size(st);
    if (n > budget) throw new Error(`${scope.node.path}: statement ${st.sid} alone is ${n} characters, more than a managed policy holds`);
    if (used + n > budget) {
      parts.push([]);
      used = 0;
    }
    parts[parts.length - 1].push(st);
    used += n;
  }
  return parts;
}

/** Resources of the execution policy that are wildcards for a reason other than a name prefix. */
function executionWildcards(arn: Arn, each: Each, qualifier: string, account: string, region: string): { resource: string; reason: string }[] {
  const p = { arn, each, account, region };
  const assets = `arn:${Aws.PARTITION}:s3:::cdk-${qualifier}-assets-${account}-${region}/*`;
  return [
    { resource: p.arn('kms', 'key/*'), reason: 'KMS key ids are random; the key policy is the second gate, and the target account holds no keys of other workloads in the three-account layout (decision log, #11).' },
    { resource: `arn:${Aws.PARTITION}:apigateway:${p.region}::/restapis/*`, reason: 'REST API ids are random (API Gateway picks them at creation), so IAM cannot scope the notes APIs by a name prefix.' },
    { resource: `arn:${Aws.PARTITION}:apigateway:${p.region}::/domainnames/*`, reason: 'The optional custom domain of a notes API (cdk.json environments[].domain) and its base path mappings.' },
    { resource: `arn:${Aws.PARTITION}:apigateway:${p.region}::/tags/*`, reason: 'CloudFormation tags the REST APIs and stages through /tags/<resource ARN>; the API ids in those ARNs are random.' },
    { resource: assets, reason: 'Lambda reads the function code from the bootstrap assets bucket, whose objects are named by content hash; the plan role publishes them there.' },
    { resource: p.arn('codedeploy', 'deploymentconfig:*'), reason: 'The built-in CodeDeployDefault.* configurations a deployment group may name (a rollback passes LambdaAllAtOnce), read only.' },
    ...p.each(({ prefix }) => [
      { resource: p.arn('sns', `${prefix}-*`), reason: `The ${prefix} alarm topic and its e-mail subscriptions (a subscription ARN is the topic ARN plus a random id).` },
      { resource: p.arn('codedeploy', `application:${prefix}-*`), reason: `The ${prefix} CodeDeploy application of the notes API (and any later application of that environment).` },
      { resource: p.arn('codedeploy', `deploymentconfig:${prefix}-*`), reason: `The ${prefix} custom traffic-shift configuration (a linear or canary strategy CodeDeploy has no built-in for).` },
      { resource: `arn:${Aws.PARTITION}:budgets::${p.account}:budget/${prefix}-*`, reason: `The ${prefix} monthly cost budget (AWS Budgets has no regional ARN; the name prefix is the environment's).` },
      { resource: `arn:${Aws.PARTITION}:cloudwatch::${p.account}:dashboard/${prefix}*`, reason: `The ${prefix} CloudWatch dashboard (dashboards have no regional ARN; the name is the environment's prefix).` },
    ]),
  ];
}

interface ExecutionInputs {
  account: string;
  region: string;
  arn: Arn;
  each: Each;
  roles: string[];
  functions: string[];
  logGroups: string[];
  tables: string[];
  secrets: string[];
  alarms: string[];
  userPools: string;
  boundaryArn: string;
  qualifier: string;
  policyName: string;
}

/**
 * What CloudFormation needs to create, update and delete every resource type of a NotesStack
 * (test/iam/execution-policy.test.ts proves it type by type), and the guard rails on IAM.
 */
function executionStatements(p: ExecutionInputs): iam.PolicyStatement[] {
  const { account, region, arn, each } = p;
  const P = Aws.PARTITION;
  const withBoundary = { StringEquals: { 'iam:PermissionsBoundary': p.boundaryArn } };
  const s = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
    new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) });
  return [
    // IAM: roles under the stacks' prefix, created and changed only with the boundary on them.
    s('RolesOnlyWithTheBoundary', ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:AttachRolePolicy', 'iam:DetachRolePolicy', 'iam:PutRolePermissionsBoundary'], p.roles, withBoundary),
    s('ManageOwnRoles', ['iam:GetRole', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies', 'iam:ListRoleTags', 'iam:TagRole', 'iam:UntagRole', 'iam:UpdateRole', 'iam:UpdateRoleDescription', 'iam:UpdateAssumeRolePolicy', 'iam:DeleteRole'], p.roles),
    s('PassOwnRolesToTheirServices', ['iam:PassRole'], p.roles, { StringEquals: { 'iam:PassedToService': ['lambda.amazonaws.com', 'apigateway.amazonaws.com', 'codedeploy.amazonaws.com'] } }),
    new iam.PolicyStatement({ sid: 'NeverRemoveTheBoundary', effect: iam.Effect.DENY, actions: ['iam:DeleteRolePermissionsBoundary'], resources: ['*'] }),
    new iam.PolicyStatement({ sid: 'NeverAnotherBoundary', effect: iam.Effect.DENY, actions: ['iam:PutRolePermissionsBoundary'], resources: ['*'], conditions: { StringNotEquals: { 'iam:PermissionsBoundary': p.boundaryArn } } }),
    new iam.PolicyStatement({ sid: 'NeverRolesWithoutTheBoundary', effect: iam.Effect.DENY, actions: ['iam:CreateRole'], resources: ['*'], conditions: { StringNotEquals: { 'iam:PermissionsBoundary': p.boundaryArn } } }),
    new iam.PolicyStatement({
      sid: 'NeverChangeTheGuardRails',
      effect: iam.Effect.DENY,
      actions: ['iam:CreatePolicyVersion', 'iam:DeletePolicy', 'iam:DeletePolicyVersion', 'iam:SetDefaultPolicyVersion'],
      resources: [p.boundaryArn, `arn:${P}:iam::${account}:policy/${p.policyName}`, `arn:${P}:iam::${account}:policy/${p.policyName}-*`],
    }),
    new iam.PolicyStatement({ sid: 'NoUsersNoKeys', effect: iam.Effect.DENY, actions: ['iam:CreateUser', 'iam:CreateAccessKey', 'iam:CreateLoginProfile', 'iam:UpdateLoginProfile'], resources: ['*'] }),
    // Lambda: functions named <service>-<env>-* and the unnamed ones (<stack>-*), their versions, aliases, permissions, invoke configs; the custom resource's provider is invoked.
    s('OwnFunctions', [
      'lambda:CreateFunction', 'lambda:DeleteFunction', 'lambda:GetFunction', 'lambda:GetFunctionConfiguration', 'lambda:UpdateFunctionCode', 'lambda:UpdateFunctionConfiguration',
      'lambda:PublishVersion', 'lambda:ListVersionsByFunction', 'lambda:CreateAlias', 'lambda:UpdateAlias', 'lambda:DeleteAlias', 'lambda:GetAlias',
      'lambda:AddPermission', 'lambda:RemovePermission', 'lambda:GetPolicy',
      'lambda:PutFunctionEventInvokeConfig', 'lambda:UpdateFunctionEventInvokeConfig', 'lambda:DeleteFunctionEventInvokeConfig', 'lambda:GetFunctionEventInvokeConfig',
      'lambda:PutFunctionConcurrency', 'lambda:DeleteFunctionConcurrency', 'lambda:GetFunctionCodeSigningConfig', 'lambda:GetRuntimeManagementConfig', 'lambda:PutRuntimeManagementConfig',
      'lambda:GetFunctionRecursionConfig', 'lambda:PutFunctionRecursionConfig',
      'lambda:TagResource', 'lambda:UntagResource', 'lambda:ListTags', 'lambda:InvokeFunction',
    ], [...p.functions, ...p.functions.map((f) => `${f}:*`)]),
    s('FunctionCode', ['s3:GetObject', 's3:GetObjectVersion'], [`arn:${P}:s3:::cdk-${p.qualifier}-assets-${account}-${region}/*`]),
    s('BootstrapVersion', ['ssm:GetParameter', 'ssm:GetParameters'], [arn('ssm', `parameter/cdk-bootstrap/${p.qualifier}/version`)]),
    // Logs: the stacks' log groups.
    s('OwnLogGroups', [
      'logs:CreateLogGroup', 'logs:DeleteLogGroup', 'logs:PutRetentionPolicy', 'logs:DeleteRetentionPolicy', 'logs:TagResource', 'logs:UntagResource', 'logs:ListTagsForResource',
      'logs:TagLogGroup', 'logs:UntagLogGroup', 'logs:ListTagsLogGroup', 'logs:AssociateKmsKey', 'logs:DisassociateKmsKey', 'logs:PutDataProtectionPolicy', 'logs:DeleteDataProtectionPolicy', 'logs:GetDataProtectionPolicy',
    ], [...p.logGroups, ...p.logGroups.map((g) => `${g}:*`)]),
    // No resource-level permissions (Service Authorization Reference): create a key, a user pool, a random password; list log groups.
    s('NoResourceLevelActions', ['kms:CreateKey', 'cognito-idp:CreateUserPool', 'secretsmanager:GetRandomPassword', 'logs:DescribeLogGroups', 'codedeploy:StopDeployment'], ['*']),
    // DynamoDB: the notes tables, never their items.
    s('OwnTables', [
      'dynamodb:CreateTable', 'dynamodb:DeleteTable', 'dynamodb:DescribeTable', 'dynamodb:UpdateTable', 'dynamodb:DescribeContinuousBackups', 'dynamodb:UpdateContinuousBackups',
      'dynamodb:DescribeTimeToLive', 'dynamodb:UpdateTimeToLive', 'dynamodb:DescribeContributorInsights', 'dynamodb:UpdateContributorInsights', 'dynamodb:DescribeKinesisStreamingDestination',
      'dynamodb:TagResource', 'dynamodb:UntagResource', 'dynamodb:ListTagsOfResource', 'dynamodb:GetResourcePolicy', 'dynamodb:PutResourcePolicy', 'dynamodb:DeleteResourcePolicy',
    ], [...p.tables, ...p.tables.map((t) => `${t}/index/*`)]),
    // Cognito: user pools and their clients (pool ids are random: no name scope).
    s('UserPools', [
      'cognito-idp:DeleteUserPool', 'cognito-idp:DescribeUserPool', 'cognito-idp:UpdateUserPool', 'cognito-idp:SetUserPoolMfaConfig', 'cognito-idp:GetUserPoolMfaConfig',
      'cognito-idp:CreateUserPoolClient', 'cognito-idp:UpdateUserPoolClient', 'cognito-idp:DeleteUserPoolClient', 'cognito-idp:DescribeUserPoolClient',
      'cognito-idp:TagResource', 'cognito-idp:UntagResource', 'cognito-idp:ListTagsForResource',
    ], [p.userPools]),
    // KMS: the alarm topic's key (key ids are random: the key policy is the second gate).
    s('Keys', [
      'kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy', 'kms:EnableKeyRotation', 'kms:DisableKeyRotation', 'kms:GetKeyRotationStatus', 'kms:ScheduleKeyDeletion',
      'kms:EnableKey', 'kms:DisableKey', 'kms:UpdateKeyDescription', 'kms:TagResource', 'kms:UntagResource', 'kms:ListResourceTags',
    ], [arn('kms', 'key/*')]),
    // API Gateway: REST APIs (random ids), the account's CloudWatch role setting, tags, an optional custom domain.
    s('RestApis', ['apigateway:GET', 'apigateway:POST', 'apigateway:PUT', 'apigateway:PATCH', 'apigateway:DELETE'], [
      `arn:${P}:apigateway:${region}::/restapis`, `arn:${P}:apigateway:${region}::/restapis/*`, `arn:${P}:apigateway:${region}::/account`,
      `arn:${P}:apigateway:${region}::/tags/*`, `arn:${P}:apigateway:${region}::/domainnames`, `arn:${P}:apigateway:${region}::/domainnames/*`,
    ]),
    s('RestApiPolicies', ['apigateway:UpdateRestApiPolicy'], [`arn:${P}:apigateway:${region}::/restapis/*`]),
    // Secrets Manager: the smoke-user secrets.
    s('OwnSecrets', ['secretsmanager:CreateSecret', 'secretsmanager:DeleteSecret', 'secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecret', 'secretsmanager:TagResource', 'secretsmanager:UntagResource'], p.secrets),
    // SNS: the alarm topics and their subscriptions.
    s('OwnTopics', [
      'sns:CreateTopic', 'sns:DeleteTopic', 'sns:GetTopicAttributes', 'sns:SetTopicAttributes', 'sns:Subscribe', 'sns:Unsubscribe', 'sns:GetSubscriptionAttributes', 'sns:SetSubscriptionAttributes',
      'sns:ListSubscriptionsByTopic', 'sns:TagResource', 'sns:UntagResource', 'sns:ListTagsForResource',
    ], each(({ prefix }) => [arn('sns', `${prefix}-*`)])),
    // CloudWatch: alarms and the dashboard.
    s('OwnAlarms', ['cloudwatch:PutMetricAlarm', 'cloudwatch:PutCompositeAlarm', 'cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms', 'cloudwatch:TagResource', 'cloudwatch:UntagResource', 'cloudwatch:ListTagsForResource'], p.alarms),
    s('OwnDashboards', ['cloudwatch:PutDashboard', 'cloudwatch:GetDashboard', 'cloudwatch:DeleteDashboards'], each(({ prefix }) => [`arn:${P}:cloudwatch::${account}:dashboard/${prefix}*`])),
    // CodeDeploy: the application, its deployment group and configuration; the alias update's deployment.
    s('OwnCodeDeploy', [
      'codedeploy:CreateApplication', 'codedeploy:DeleteApplication', 'codedeploy:GetApplication', 'codedeploy:UpdateApplication', 'codedeploy:RegisterApplicationRevision', 'codedeploy:GetApplicationRevision',
      'codedeploy:CreateDeploymentGroup', 'codedeploy:UpdateDeploymentGroup', 'codedeploy:DeleteDeploymentGroup', 'codedeploy:GetDeploymentGroup',
      'codedeploy:CreateDeployment', 'codedeploy:GetDeployment',
      'codedeploy:CreateDeploymentConfig', 'codedeploy:DeleteDeploymentConfig', 'codedeploy:GetDeploymentConfig',
      'codedeploy:TagResource', 'codedeploy:UntagResource', 'codedeploy:ListTagsForResource',
    ], each(({ prefix }) => [arn('codedeploy', `application:${prefix}-*`), arn('codedeploy', `deploymentgroup:${prefix}-*/${prefix}-*`), arn('codedeploy', `deploymentconfig:${prefix}-*`)])),
    s('BuiltInDeploymentConfigs', ['codedeploy:GetDeploymentConfig'], [arn('codedeploy', 'deploymentconfig:*')]),
    // Budgets: the environments' cost budgets.
    s('OwnBudgets', ['budgets:ModifyBudget', 'budgets:ViewBudget', 'budgets:TagResource', 'budgets:UntagResource', 'budgets:ListTagsForResource'], each(({ prefix }) => [`arn:${P}:budgets::${account}:budget/${prefix}-*`])),
  ];
}
