/**
 * The deployed world the IAM contract tests reason about: every synthesized stack of the app (CDK's
 * cross-account support stacks included) plus the CDK bootstrap stack of each environment, each
 * resolved in its own account and region (a stack that names no account is resolved in ACCOUNT),
 * with the identity policies of every role and the resource policies of every bucket, key, topic,
 * secret, function and role (trust policy). `simulate()` asks @cloud-copilot/iam-simulate what AWS
 * would answer, and `explainDenial()` writes the answer the way an AccessDenied reads in CloudWatch.
 *
 * Across accounts the simulator evaluates as AWS does: the caller's identity policies (in its
 * account) must allow AND the resource's policy (trust policy, key policy, bucket policy, ...) in
 * the other account must allow the caller or its account. The caller's account is its ARN's
 * (`aws:PrincipalAccount`), the resource's its ARN's (for S3, the account of the stack that
 * defines the bucket).
 */
import { getDenialReasons, runSimulation, type Simulation, type SimulationIdentityPolicy } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import type { CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { buildTestApp, TestAppOptions } from '../../infra/fixture';
import type { BuiltApp } from '../../../lib/app';
import { executionPolicyName, policyArn } from '../../../lib/target-account';
import { bootstrapStack, BootstrapParameters } from './bootstrap';
import { Json, PARTITION, ResolvedStack } from './cfn';

/**
 * The account a stack that names none is resolved into (the single-account layout of cdk.json
 * leaves accounts to the deployer, so every stack of it lives here).
 */
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
  // arn:aws:iam::aws:policy/AdministratorAccess, the CDK bootstrap CloudFormation execution role's
  // unless `--cloudformation-execution-policies` names others. The isolation proofs need it: left
  // out, an execution role would look powerless.
  'arn:aws:iam::aws:policy/AdministratorAccess': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
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
  /**
   * The parameters each account was bootstrapped with, by account (default: the documented
   * commands, see `documentedBootstrap`). The qualifier is always `bootstrapQualifier`.
   */
  readonly bootstrapParameters?: Record<string, BootstrapParameters>;
}

export class IamWorld {
  readonly built: BuiltApp;
  readonly app: App;
  readonly region: string;
  /** The account of the pipeline stack (ACCOUNT when cdk.json names none). */
  readonly pipelineAccount: string;
  /** Every stack of the app's cloud assembly, CDK's cross-account support stacks included. */
  readonly stacks: ResolvedStack[];
  /** The bootstrap stack of every environment the app deploys to, by `<account>/<region>`. */
  readonly bootstrap: Map<string, ResolvedStack> = new Map();
  readonly qualifier: string;
  /** How `definedIn` names each stack: its name, with its account and region when several stacks share the name. */
  private readonly labels = new Map<ResolvedStack, string>();
  private readonly roleCache = new Map<string, Principal>();

  constructor(options: WorldOptions = {}) {
    const { app, built } = buildTestApp(options);
    this.app = app;
    this.built = built;
    this.region = built.config.pipeline.region;
    this.pipelineAccount = built.config.pipeline.account ?? ACCOUNT;
    this.qualifier = options.bootstrapQualifier ?? String(app.node.tryGetContext('@aws-cdk/core:bootstrapQualifier') ?? 'hnb659fds');
    const assembly = app.synth();
    // The app's own stacks first (in the order the single-account tests have always seen), then
    // whatever else CDK added to the assembly (cross-account support stacks).
    const own: Stack[] = [...built.notesStacks, built.pipelineStack];
    const artifacts = [
      ...own.map((s) => assembly.getStackArtifact(s.artifactId)),
      ...assembly.stacks.filter((a) => !own.some((s) => s.artifactId === a.id)),
    ];
    this.stacks = artifacts.map((a) => new ResolvedStack(a.template as never, { stackName: a.stackName, ...this.placeOf(a) }));
    for (const s of this.stacks) {
      const key = `${s.env.account}/${s.env.region}`;
      if (this.bootstrap.has(key)) continue;
      const parameters = options.bootstrapParameters?.[s.env.account] ?? this.documentedBootstrap(s.env.account, s.env.region);
      this.bootstrap.set(key, bootstrapStack(s.env.account, s.env.region, this.qualifier, parameters));
    }
    const all = this.allStacks();
    for (const s of all) {
      const shared = all.filter((o) => o.stackName === s.stackName).length > 1;
      this.labels.set(s, shared ? `${s.stackName}@${s.env.account}/${s.env.region}` : s.stackName);
    }
  }

  /** Where a stack of the assembly is deployed; environment-agnostic stacks go to ACCOUNT and the pipeline's region. */
  private placeOf(a: CloudFormationStackArtifact): { account: string; region: string } {
    const account = a.environment.account === 'unknown-account' ? ACCOUNT : a.environment.account;
    const region = a.environment.region === 'unknown-region' ? this.region : a.environment.region;
    return { account, region };
  }

  /**
   * The parameters of the bootstrap commands docs/02-cicd.md gives: the pipeline's account (and
   * every account of the single-account layout) bootstrapped plainly; every other account with
   * `--trust <pipeline account> --trust-for-lookup <pipeline account>` and every part of the
   * least-privilege execution policy (`executionPolicyName`, then `<name>-2`, ...) that a stack of
   * the world defines, else AdministratorAccess (which `cdk bootstrap --trust` requires naming
   * explicitly).
   */
  documentedBootstrap(account: string, region: string): BootstrapParameters {
    if (account === this.pipelineAccount) return {};
    const first = policyArn(account, executionPolicyName(this.built.config.service, region));
    const parts = this.stacks
      .filter((s) => s.env.account === account)
      .flatMap((s) => s.ofType('AWS::IAM::ManagedPolicy').map((id) => s.ref(id)))
      .filter((arn) => arn === first || (arn.startsWith(`${first}-`) && /^\d+$/.test(arn.slice(first.length + 1))));
    return {
      TrustedAccounts: this.pipelineAccount,
      TrustedAccountsForLookup: this.pipelineAccount,
      CloudFormationExecutionPolicies: parts.includes(first) ? parts.join(',') : `arn:${PARTITION}:iam::aws:policy/AdministratorAccess`,
    };
  }

  /**
   * A stack by name; `account` picks one when several accounts hold a stack of that name (every
   * account has its `CDKToolkit`).
   */
  stack(name: string, account?: string): ResolvedStack {
    const found = this.allStacks().filter((x) => x.stackName === name && (account === undefined || x.env.account === account));
    if (found.length === 0) throw new Error(`no stack ${name}${account ? ` in ${account}` : ''}`);
    if (found.length > 1) throw new Error(`${found.length} stacks named ${name} (accounts ${found.map((f) => f.env.account).join(', ')}): name the account`);
    return found[0];
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

  /** How `definedIn` names a stack. */
  labelOf(stack: ResolvedStack): string {
    return this.labels.get(stack) ?? stack.stackName;
  }

  /** Every role of every stack (bootstrap stacks included), with its identity policies. */
  allRoles(): Principal[] {
    return this.allStacks().flatMap((s) => s.ofType('AWS::IAM::Role').map((id) => this.role(s, id)));
  }

  /** The role of the world with this ARN, if a template defines it. */
  roleByArn(arn: string): Principal | undefined {
    for (const s of this.allStacks()) {
      if (s.env.account !== arn.split(':')[4]) continue;
      const id = s.ofType('AWS::IAM::Role').find((r) => s.getAtt(r, 'Arn') === arn);
      if (id) return this.role(s, id);
    }
    return undefined;
  }

  /** The stack and logical id of the Lambda function with this ARN, if a template defines it. */
  functionByArn(arn: string): { stack: ResolvedStack; logicalId: string } | undefined {
    for (const s of this.allStacks()) {
      const id = s.ofType('AWS::Lambda::Function').find((f) => s.getAtt(f, 'Arn') === arn);
      if (id) return { stack: s, logicalId: id };
    }
    return undefined;
  }

  /**
   * A role of a stack (by name, or the stack itself when several accounts hold one of that name),
   * with every identity policy attached to it in its account.
   */
  role(stackOrName: string | ResolvedStack, logicalId: string): Principal {
    const stack = typeof stackOrName === 'string' ? this.stack(stackOrName) : stackOrName;
    const key = `${this.labelOf(stack)}/${logicalId}`;
    const cached = this.roleCache.get(key);
    if (cached) return cached;
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
    // Role names are unique within an account only: the same name in another account (a fixed
    // RoleName each target account has) is another role.
    for (const s of this.allStacks().filter((x) => x.env.account === stack.env.account)) {
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

  /** A principal that holds exactly these managed policies (an operator's permission set or role), in the pipeline's account unless given. */
  holderOf(name: string, policyArns: string[], account = this.pipelineAccount): Principal {
    return {
      arn: `arn:${PARTITION}:iam::${account}:role/${name}`,
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
  functionRole(stackOrName: string | ResolvedStack, functionLogicalId: string): Principal {
    const stack = typeof stackOrName === 'string' ? this.stack(stackOrName) : stackOrName;
    const stackName = this.labelOf(stack);
    const role = stack.resources[functionLogicalId]?.Properties?.Role as { 'Fn::GetAtt': [string, string] } | undefined;
    if (!role?.['Fn::GetAtt']) throw new Error(`${stackName}/${functionLogicalId} has no role of this stack`);
    return this.role(stack, role['Fn::GetAtt'][0]);
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

  /**
   * The account that owns a resource: its ARN's. S3 ARNs carry none: a bucket's is the account of
   * the stack that defines it (the pipeline's for a bucket no template defines).
   */
  accountOf(resource: string): string {
    const parts = resource.split(':');
    if (parts[4]) return parts[4];
    if (parts[2] === 's3') {
      const bucket = resource.replace(/^arn:[^:]+:s3:::/, '').split('/')[0];
      for (const s of this.allStacks()) if (s.ofType('AWS::S3::Bucket').some((id) => s.ref(id) === bucket)) return s.env.account;
    }
    return this.pipelineAccount;
  }

  /** The account of a principal: its ARN's (a service principal's requests are credited to ACCOUNT, as before). */
  principalAccount(principal: Principal): string {
    return principal.arn.split(':')[4] || ACCOUNT;
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
          'aws:PrincipalAccount': this.principalAccount(principal),
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
    const who = `User: arn:${PARTITION}:sts::${this.principalAccount(principal)}:assumed-role/${principal.name}/session (${principal.definedIn})`;
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
