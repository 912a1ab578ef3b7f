/**
 * The deployed world the IAM contract tests reason about: every synthesized stack of the app plus
 * the CDK bootstrap stack of each target environment, resolved into one account and region, with
 * the identity policies of every role and the resource policies of every bucket, key, topic,
 * secret, function and role (trust policy). `simulate()` asks @cloud-copilot/iam-simulate what AWS
 * would answer, and `explainDenial()` writes the answer the way an AccessDenied reads in CloudWatch.
 */
import { getDenialReasons, runSimulation, type Simulation, type SimulationIdentityPolicy } from '@cloud-copilot/iam-simulate';
import { App, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildTestApp, TestAppOptions } from '../../infra/fixture';
import type { BuiltApp } from '../../../lib/app';
import { bootstrapStack } from './bootstrap';
import { Json, PARTITION, ResolvedStack } from './cfn';

/** The account and region every stack is resolved into (cdk.json leaves accounts to the deployer). */
export const ACCOUNT = '123456789012';

/**
 * AWS managed policies a template may attach by ARN, copied from the IAM console ("Policy versions",
 * default version) because the simulator needs their text. Only those the app uses or may use.
 */
export const AWS_MANAGED_POLICIES: Record<string, Json> = {
  // arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole, version v1.
  'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }],
  },
  // arn:aws:iam::aws:policy/AWSCloudFormationReadOnlyAccess, attached to the CDK bootstrap deploy role.
  'arn:aws:iam::aws:policy/AWSCloudFormationReadOnlyAccess': {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['cloudformation:Describe*', 'cloudformation:EstimateTemplateCost', 'cloudformation:Get*', 'cloudformation:List*', 'cloudformation:ValidateTemplate', 'cloudformation:Detect*'],
        Resource: '*',
      },
    ],
  },
  // arn:aws:iam::aws:policy/ReadOnlyAccess, attached to the CDK bootstrap lookup role. An excerpt:
  // the policy's statement lists read actions of every service; these are its entries for the
  // services the app reads through the lookup role (CodeDeploy, for the deploy step's shift outcome).
  'arn:aws:iam::aws:policy/ReadOnlyAccess': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['codedeploy:BatchGet*', 'codedeploy:Get*', 'codedeploy:List*'], Resource: '*' }],
  },
};

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface Principal {
  /** Role ARN (requests are simulated as that role's session). */
  readonly arn: string;
  readonly name: string;
  /** Where the role is defined, e.g. `NotesPipeline/ReleaseReleaseRecorderStepRecorderRoleC060588A`. */
  readonly definedIn: string;
  readonly policies: SimulationIdentityPolicy[];
  /** The role's permissions boundary (AWS allows only what both it and the identity policies allow). */
  readonly boundary?: SimulationIdentityPolicy;
}

export interface Request {
  readonly principal: Principal;
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
  /** The account owning a resource whose ARN names none (`*`, S3, API Gateway); default ACCOUNT. */
  readonly resourceAccount?: string;
}

export interface Outcome {
  readonly decision: Decision;
  /** AWS's wording of the refusal (empty when allowed). */
  readonly denial: string;
}

type Doc = { Version?: string; Statement: Record<string, Json>[] };

export interface WorldOptions extends TestAppOptions {
  /** The CDK bootstrap qualifier the bootstrap stacks were deployed with (default: the app's). */
  readonly bootstrapQualifier?: string;
}

export class IamWorld {
  readonly built: BuiltApp;
  readonly app: App;
  readonly region: string;
  readonly stacks: ResolvedStack[];
  /** The bootstrap stack of every environment the app deploys to, by `<account>/<region>`. */
  readonly bootstrap: Map<string, ResolvedStack> = new Map();
  readonly qualifier: string;
  private readonly roleCache = new Map<string, Principal>();

  constructor(options: WorldOptions = {}) {
    const { app, built } = buildTestApp(options);
    this.app = app;
    this.built = built;
    this.region = built.config.pipeline.region;
    this.qualifier = options.bootstrapQualifier ?? String(app.node.tryGetContext('@aws-cdk/core:bootstrapQualifier') ?? 'hnb659fds');
    const stacks: Stack[] = [...built.notesStacks, built.pipelineStack, ...built.baselineStacks];
    this.stacks = stacks.map(
      // A stack with an account of its own (the three-account layout) keeps it; the others are in ACCOUNT.
      (s) => new ResolvedStack(Template.fromStack(s).toJSON() as never, { stackName: s.stackName, account: Token.isUnresolved(s.account) ? ACCOUNT : s.account, region: Token.isUnresolved(s.region) ? this.region : s.region }),
    );
    for (const s of this.stacks) {
      const key = `${s.env.account}/${s.env.region}`;
      if (!this.bootstrap.has(key)) this.bootstrap.set(key, bootstrapStack(s.env.account, s.env.region, this.qualifier));
    }
  }

  stack(name: string): ResolvedStack {
    const s = [...this.stacks, ...this.bootstrap.values()].find((x) => x.stackName === name);
    if (!s) throw new Error(`no stack ${name}`);
    return s;
  }

  bootstrapOf(region: string, account = ACCOUNT): ResolvedStack {
    const b = this.bootstrap.get(`${account}/${region}`);
    if (!b) throw new Error(`no bootstrap stack for ${account}/${region}`);
    return b;
  }

  /** The logical id of a construct's CloudFormation resource in its stack. */
  static logicalId(construct: { node: { defaultChild?: unknown } } & object): string {
    const child = (construct.node.defaultChild ?? construct) as never;
    return Stack.of(child).resolve(Stack.of(child).getLogicalId(child)) as string;
  }

  private allStacks(): ResolvedStack[] {
    return [...this.stacks, ...this.bootstrap.values()];
  }

  /** A role of a stack, with every identity policy attached to it anywhere in the world. */
  role(stackName: string, logicalId: string): Principal {
    const key = `${stackName}/${logicalId}`;
    const cached = this.roleCache.get(key);
    if (cached) return cached;
    const stack = this.stack(stackName);
    const r = stack.resources[logicalId];
    if (r?.Type !== 'AWS::IAM::Role') throw new Error(`${key} is not an AWS::IAM::Role`);
    const name = stack.ref(logicalId);
    const arn = stack.getAtt(logicalId, 'Arn');
    const props = stack.props(logicalId);
    const policies: SimulationIdentityPolicy[] = [];
    for (const p of (props.Policies as { PolicyName: string; PolicyDocument: Json }[] | undefined) ?? []) policies.push({ name: `${logicalId}/${p.PolicyName}`, policy: p.PolicyDocument });
    const notModelled: string[] = [];
    for (const m of (props.ManagedPolicyArns as string[] | undefined) ?? []) {
      // An AWS managed policy we did not copy can only add permissions: leaving it out may turn an
      // Allowed into a denial, never hide a missing grant. The principal says which were left out.
      if (m.startsWith(`arn:${PARTITION}:iam::aws:policy/`) && !AWS_MANAGED_POLICIES[m]) notModelled.push(m.split('/').pop()!);
      else policies.push({ name: m, policy: this.managedPolicy(m) });
    }
    for (const s of this.allStacks()) {
      for (const id of s.ofType('AWS::IAM::Policy')) {
        const p = s.props(id);
        if (((p.Roles as string[] | undefined) ?? []).includes(name)) policies.push({ name: `${s.stackName}/${id}`, policy: p.PolicyDocument });
      }
      for (const id of s.ofType('AWS::IAM::ManagedPolicy')) {
        const p = s.props(id);
        if (((p.Roles as string[] | undefined) ?? []).includes(name)) policies.push({ name: `${s.stackName}/${id}`, policy: p.PolicyDocument });
      }
    }
    const boundaryArn = props.PermissionsBoundary as string | undefined;
    const boundary = boundaryArn ? { name: boundaryArn, policy: this.managedPolicy(boundaryArn) } : undefined;
    const principal = { arn, name, definedIn: notModelled.length ? `${key}, without ${notModelled.join(', ')}` : key, policies, ...(boundary ? { boundary } : {}) };
    this.roleCache.set(key, principal);
    return principal;
  }

  /** A principal that holds exactly these managed policies (an operator's permission set or role). */
  holderOf(name: string, policyArns: string[]): Principal {
    return {
      arn: `arn:${PARTITION}:iam::${ACCOUNT}:role/${name}`,
      name,
      definedIn: `a role holding ${policyArns.join(', ')}`,
      policies: policyArns.map((arn) => ({ name: arn, policy: this.managedPolicy(arn) })),
    };
  }

  /** A customer managed policy of any stack, or an AWS managed policy copied in AWS_MANAGED_POLICIES. */
  managedPolicy(arn: string): Json {
    for (const s of this.allStacks()) {
      for (const id of s.ofType('AWS::IAM::ManagedPolicy')) if (s.ref(id) === arn) return s.props(id).PolicyDocument;
    }
    const copied = AWS_MANAGED_POLICIES[arn];
    if (copied) return copied;
    throw new Error(`managed policy ${arn} is neither in a template nor copied into AWS_MANAGED_POLICIES (test/iam/support/world.ts)`);
  }

  /** The KMS key ARN a topic of any stack is encrypted with, if any. */
  topicKey(topicArn: string): string | undefined {
    for (const s of this.allStacks()) {
      for (const id of s.ofType('AWS::SNS::Topic')) {
        if (s.ref(id) !== topicArn) continue;
        const key = s.props(id).KmsMasterKeyId as string | undefined;
        if (!key) return undefined;
        if (key.startsWith('arn:')) return key;
        return `arn:${PARTITION}:kms:${s.env.region}:${s.env.account}:key/${key}`;
      }
    }
    return undefined;
  }

  /** The one resource of a type whose logical id starts with this construct id (throws unless exactly one). */
  logicalIdByPrefix(stackName: string, type: string, prefix: string): string {
    const found = this.stack(stackName).ofType(type).filter((id) => id.startsWith(prefix));
    if (found.length !== 1) throw new Error(`${stackName}: expected one ${type} with id ${prefix}*, found ${found.length} (${found.join(', ')})`);
    return found[0];
  }

  /** The ARN of a customer managed policy of a stack, by construct id (e.g. ReleaseOperatorPolicy). */
  managedPolicyArn(stackName: string, constructId: string): string {
    return this.stack(stackName).ref(this.logicalIdByPrefix(stackName, 'AWS::IAM::ManagedPolicy', constructId));
  }

  /** The logical id of the role a Lambda function of a stack runs as. */
  functionRole(stackName: string, functionLogicalId: string): Principal {
    const stack = this.stack(stackName);
    const role = stack.resources[functionLogicalId]?.Properties?.Role as { 'Fn::GetAtt': [string, string] } | undefined;
    if (!role?.['Fn::GetAtt']) throw new Error(`${stackName}/${functionLogicalId} has no role of this stack`);
    return this.role(stackName, role['Fn::GetAtt'][0]);
  }

  /** The resource-based policy AWS evaluates for this action on this resource, if any. */
  resourcePolicy(action: string, resource: string): Doc | undefined {
    const [service] = action.split(':');
    for (const s of this.allStacks()) {
      switch (service) {
        case 's3': {
          const bucket = resource.replace(/^arn:[^:]+:s3:::/, '').split('/')[0];
          for (const id of s.ofType('AWS::S3::BucketPolicy')) {
            const p = s.props(id);
            if (p.Bucket === bucket) return p.PolicyDocument as Doc;
          }
          break;
        }
        case 'kms':
          for (const id of s.ofType('AWS::KMS::Key')) if (s.getAtt(id, 'Arn') === resource) return s.props(id).KeyPolicy as Doc;
          break;
        case 'sns':
          for (const id of s.ofType('AWS::SNS::TopicPolicy')) {
            const p = s.props(id);
            if (((p.Topics as string[]) ?? []).includes(resource)) return p.PolicyDocument as Doc;
          }
          break;
        case 'secretsmanager':
          for (const id of s.ofType('AWS::SecretsManager::ResourcePolicy')) {
            const p = s.props(id);
            if (p.SecretId === resource) return p.ResourcePolicy as Doc;
          }
          break;
        case 'sts':
          for (const id of s.ofType('AWS::IAM::Role')) if (s.getAtt(id, 'Arn') === resource) return s.props(id).AssumeRolePolicyDocument as Doc;
          break;
        case 'lambda': {
          const statements: Record<string, Json>[] = [];
          for (const id of s.ofType('AWS::Lambda::Permission')) {
            const p = s.props(id);
            const fnArn = String(p.FunctionName).startsWith('arn:') ? String(p.FunctionName) : `arn:${PARTITION}:lambda:${s.env.region}:${s.env.account}:function:${p.FunctionName}`;
            if (fnArn !== resource) continue;
            const principal = String(p.Principal);
            const condition: Record<string, Json> = {};
            if (p.SourceArn) condition.ArnLike = { 'aws:SourceArn': p.SourceArn };
            if (p.SourceAccount) condition.StringEquals = { 'aws:SourceAccount': p.SourceAccount };
            statements.push({
              Effect: 'Allow',
              Principal: principal.endsWith('.amazonaws.com') ? { Service: principal } : { AWS: principal },
              Action: p.Action,
              Resource: fnArn,
              ...(Object.keys(condition).length ? { Condition: condition } : {}),
            });
          }
          if (statements.length) return { Version: '2012-10-17', Statement: statements };
          break;
        }
      }
    }
    if (service === 'kms' && resource.startsWith('arn:')) {
      throw new Error(`no key policy for ${resource}: KMS refuses every request a key policy does not allow, so the key must be in a template`);
    }
    return undefined;
  }

  /** The account that owns a resource (every resource here lives in ACCOUNT; S3 ARNs carry none). */
  accountOf(resource: string): string {
    const parts = resource.split(':');
    return parts[4] || ACCOUNT;
  }

  async simulate(request: Request): Promise<Outcome> {
    const { principal, action, resource } = request;
    const simulation: Simulation = {
      request: {
        principal: principal.arn,
        action,
        resource: { resource, accountId: resource.split(':')[4] || request.resourceAccount || this.accountOf(resource) },
        // Every SDK and CLI call is made over TLS (enforceSSL policies deny the rest).
        contextVariables: {
          'aws:SecureTransport': 'true',
          'aws:PrincipalArn': principal.arn,
          'aws:PrincipalAccount': ACCOUNT,
          'aws:RequestedRegion': resource.split(':')[3] || this.region,
          ...request.context,
        },
      },
      identityPolicies: principal.policies,
      ...(principal.boundary ? { permissionBoundaryPolicies: [principal.boundary] } : {}),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: this.resourcePolicy(action, resource),
    };
    const result = await runSimulation(simulation, {});
    if (result.resultType === 'error') {
      throw new Error(`the simulator refused ${action} on ${resource} for ${principal.definedIn}: ${JSON.stringify(result.errors)}`);
    }
    const decision = result.overallResult as Decision;
    if (decision === 'Allowed') return { decision, denial: '' };
    return { decision, denial: this.explainDenial(request, result) };
  }

  private explainDenial(request: Request, result: Awaited<ReturnType<typeof runSimulation>>): string {
    const { principal, action, resource } = request;
    const who = `User: arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/${principal.name}/session (${principal.definedIn})`;
    const analyses = result.resultType === 'single' ? [result.result.analysis] : result.resultType === 'wildcard' ? result.results.map((r) => r.analysis) : [];
    const reasons = analyses.flatMap((a) => (a ? getDenialReasons(a) : []));
    const why = reasons.length
      ? reasons
          .map((r) =>
            r.denialType === 'Explicit'
              ? `with an explicit deny in ${r.policyType === 'resource' ? 'a resource-based policy' : `an identity-based policy (${r.policyIdentifier ?? '?'})`}${r.statementId ? ` statement ${r.statementId}` : ''}`
              : r.policyType === 'resource'
                ? `because no resource-based policy allows the ${action} action`
                : `because no identity-based policy allows the ${action} action`,
          )
          .join(', and ')
      : `because no policy allows the ${action} action`;
    return `AccessDenied: ${who} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
  }
}
