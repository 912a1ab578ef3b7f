/**
 * Synthesized CloudFormation templates as IAM sees them once deployed: every intrinsic (Ref,
 * Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If, pseudo parameters) resolved to the
 * concrete name or ARN CloudFormation would give it, in a fixed account and region.
 *
 * Physical names follow CloudFormation's own patterns where a policy depends on them: an unnamed
 * table, role or function is `<stack>-<logical id>-<suffix>`, a bucket the same in lower case, a
 * key id a UUID-shaped string. Fn::ImportValue and unknown functions throw: an unresolved
 * intrinsic must never silently become a wildcard.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export interface CfnResource {
  Type: string;
  Properties?: Record<string, Json>;
  Condition?: string;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Parameters?: Record<string, { Default?: Json; Type?: string }>;
  Conditions?: Record<string, Json>;
  Outputs?: Record<string, { Value: Json }>;
}

export const PARTITION = 'aws';
export const URL_SUFFIX = 'amazonaws.com';

export interface StackEnv {
  stackName: string;
  account: string;
  region: string;
  /** Parameter values (defaults from the template otherwise). */
  parameters?: Record<string, string>;
}

/** A stable short suffix from a string, like the random part CloudFormation appends to names. */
export function suffixOf(text: string, length = 12): string {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  let out = '';
  let x = h;
  while (out.length < length) {
    out += 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'[x % 34];
    x = Math.floor(x / 34) || Math.imul(x ^ out.length, 2654435761) >>> 0 || 7;
  }
  return out;
}

function uuidOf(text: string): string {
  const hex = Array.from({ length: 4 }, (_, i) => Math.abs(Math.imul(hashOf(`${text}#${i}`), 1)).toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function hashOf(text: string): number {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h;
}

/** A deployed stack: its resolved resources, by logical id, with their physical names and ARNs. */
export class ResolvedStack {
  readonly resources: Record<string, CfnResource>;
  private readonly conditions = new Map<string, boolean>();

  constructor(
    readonly template: CfnTemplate,
    readonly env: StackEnv,
  ) {
    this.resources = template.Resources;
  }

  get stackName(): string {
    return this.env.stackName;
  }

  /** Logical ids of the resources of a type. */
  ofType(type: string): string[] {
    return Object.keys(this.resources).filter((id) => this.resources[id].Type === type && this.exists(id));
  }

  exists(logicalId: string): boolean {
    const c = this.resources[logicalId]?.Condition;
    return c === undefined || this.condition(c);
  }

  /** A resource's properties with every intrinsic resolved. */
  props(logicalId: string): Record<string, Json> {
    const r = this.resources[logicalId];
    if (!r) throw new Error(`${this.stackName}: no resource ${logicalId}`);
    return this.resolve(r.Properties ?? {}) as Record<string, Json>;
  }

  output(name: string): Json {
    const o = this.template.Outputs?.[name];
    if (!o) throw new Error(`${this.stackName}: no output ${name}`);
    return this.resolve(o.Value);
  }

  /** What `Ref` returns for a resource. */
  ref(logicalId: string): string {
    const r = this.resources[logicalId];
    if (!r) {
      if (this.template.Parameters && logicalId in this.template.Parameters) return this.parameter(logicalId);
      throw new Error(`${this.stackName}: Ref to unknown ${logicalId}`);
    }
    const p = (r.Properties ?? {}) as Record<string, Json>;
    const named = (prop: string): string | undefined => (p[prop] !== undefined ? String(this.resolve(p[prop])) : undefined);
    const generated = `${this.stackName}-${logicalId.slice(0, 40)}-${suffixOf(this.stackName + logicalId)}`;
    const { account, region } = this.env;
    switch (r.Type) {
      case 'AWS::S3::Bucket':
        return named('BucketName') ?? generated.toLowerCase().slice(0, 63);
      case 'AWS::DynamoDB::Table':
        return named('TableName') ?? generated;
      case 'AWS::IAM::Role':
        return named('RoleName') ?? generated.slice(0, 64);
      case 'AWS::IAM::ManagedPolicy':
        return `arn:${PARTITION}:iam::${account}:policy/${named('ManagedPolicyName') ?? generated}`;
      case 'AWS::IAM::Policy':
        return named('PolicyName') ?? generated;
      case 'AWS::KMS::Key':
        return uuidOf(this.stackName + logicalId);
      case 'AWS::SNS::Topic':
        return `arn:${PARTITION}:sns:${region}:${account}:${named('TopicName') ?? generated}`;
      case 'AWS::Lambda::Function':
        return named('FunctionName') ?? generated.slice(0, 64);
      case 'AWS::CodeBuild::Project':
        return named('Name') ?? generated;
      case 'AWS::CodePipeline::Pipeline':
        return named('Name') ?? generated;
      case 'AWS::Logs::LogGroup':
        return named('LogGroupName') ?? generated;
      case 'AWS::SecretsManager::Secret':
        return `arn:${PARTITION}:secretsmanager:${region}:${account}:secret:${named('Name') ?? generated}-${suffixOf(this.stackName + logicalId, 6)}`;
      case 'AWS::Cognito::UserPool':
        return `${region}_${suffixOf(this.stackName + logicalId, 9)}`;
      case 'AWS::Cognito::UserPoolClient':
        return suffixOf(this.stackName + logicalId, 26).toLowerCase();
      case 'AWS::ApiGateway::RestApi':
        return suffixOf(this.stackName + logicalId, 10).toLowerCase();
      case 'AWS::CloudWatch::Alarm':
      case 'AWS::CloudWatch::CompositeAlarm':
        return named('AlarmName') ?? generated;
      case 'AWS::Events::Rule':
        return named('Name') ?? generated.slice(0, 64);
      case 'AWS::Lambda::Version': {
        // The version's ARN: the function's ARN and a version number.
        const fn = String(this.resolve(p.FunctionName));
        return `${fn.startsWith('arn:') ? fn : `arn:${PARTITION}:lambda:${region}:${account}:function:${fn}`}:7`;
      }
      case 'AWS::CodeDeploy::Application':
        return named('ApplicationName') ?? generated;
      case 'AWS::CodeDeploy::DeploymentGroup':
        return named('DeploymentGroupName') ?? generated;
      default:
        return generated;
    }
  }

  /** What `Fn::GetAtt` returns. */
  getAtt(logicalId: string, attribute: string): string {
    const r = this.resources[logicalId];
    if (!r) throw new Error(`${this.stackName}: GetAtt of unknown ${logicalId}`);
    const { account, region } = this.env;
    const ref = this.ref(logicalId);
    const arn = (service: string, resource: string, withRegion = true) => `arn:${PARTITION}:${service}:${withRegion ? region : ''}:${withRegion ? account : ''}:${resource}`;
    const byType: Record<string, Record<string, () => string>> = {
      'AWS::S3::Bucket': {
        Arn: () => `arn:${PARTITION}:s3:::${ref}`,
        DomainName: () => `${ref}.s3.${URL_SUFFIX}`,
        RegionalDomainName: () => `${ref}.s3.${region}.${URL_SUFFIX}`,
      },
      'AWS::DynamoDB::Table': { Arn: () => arn('dynamodb', `table/${ref}`), StreamArn: () => arn('dynamodb', `table/${ref}/stream/2025-01-01T00:00:00.000`) },
      'AWS::IAM::Role': { Arn: () => `arn:${PARTITION}:iam::${account}:role/${ref}`, RoleId: () => `AROA${suffixOf(logicalId, 17)}` },
      'AWS::KMS::Key': { Arn: () => arn('kms', `key/${ref}`), KeyId: () => ref },
      'AWS::SNS::Topic': { TopicArn: () => ref, TopicName: () => ref.split(':').pop()! },
      'AWS::Lambda::Function': { Arn: () => arn('lambda', `function:${ref}`) },
      'AWS::CodeBuild::Project': { Arn: () => arn('codebuild', `project/${ref}`) },
      'AWS::Logs::LogGroup': { Arn: () => arn('logs', `log-group:${ref}:*`) },
      'AWS::Cognito::UserPool': { Arn: () => arn('cognito-idp', `userpool/${ref}`), ProviderName: () => `cognito-idp.${region}.${URL_SUFFIX}/${ref}` },
      'AWS::CloudWatch::Alarm': { Arn: () => arn('cloudwatch', `alarm:${ref}`) },
      'AWS::CloudWatch::CompositeAlarm': { Arn: () => arn('cloudwatch', `alarm:${ref}`) },
      'AWS::Events::Rule': { Arn: () => arn('events', `rule/${ref}`) },
      'AWS::SecretsManager::Secret': { Id: () => ref },
      'AWS::ApiGateway::RestApi': { RootResourceId: () => suffixOf(`${logicalId}root`, 10).toLowerCase() },
    };
    const fn = byType[r.Type]?.[attribute];
    if (fn) return fn();
    if (attribute === 'Arn') return arn(r.Type.split('::')[1].toLowerCase(), `${logicalId}/${ref}`);
    return `${ref}.${attribute}`;
  }

  parameter(name: string): string {
    const given = this.env.parameters?.[name];
    if (given !== undefined) return given;
    const d = this.template.Parameters?.[name]?.Default;
    if (d === undefined) throw new Error(`${this.stackName}: parameter ${name} has no value`);
    return String(d);
  }

  /** A parameter as Ref returns it: list parameters are lists. */
  parameterValue(name: string): Json {
    const v = this.parameter(name);
    const type = (this.template.Parameters?.[name] as { Type?: string } | undefined)?.Type ?? 'String';
    return type === 'CommaDelimitedList' || type.startsWith('List<') ? v.split(',') : v;
  }

  condition(name: string): boolean {
    let v = this.conditions.get(name);
    if (v === undefined) {
      const expr = this.template.Conditions?.[name];
      if (expr === undefined) throw new Error(`${this.stackName}: unknown condition ${name}`);
      v = Boolean(this.resolve(expr));
      this.conditions.set(name, v);
    }
    return v;
  }

  private pseudo(name: string): Json {
    switch (name) {
      case 'AWS::AccountId':
        return this.env.account;
      case 'AWS::Region':
        return this.env.region;
      case 'AWS::Partition':
        return PARTITION;
      case 'AWS::URLSuffix':
        return URL_SUFFIX;
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return `arn:${PARTITION}:cloudformation:${this.env.region}:${this.env.account}:stack/${this.stackName}/${uuidOf(this.stackName)}`;
      case 'AWS::NoValue':
        return NO_VALUE as unknown as Json;
      default:
        throw new Error(`${this.stackName}: unknown pseudo parameter ${name}`);
    }
  }

  private sub(text: string, vars: Record<string, Json>): string {
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
      if (name in vars) return String(vars[name]);
      if (name.startsWith('AWS::')) return String(this.pseudo(name));
      const dot = name.indexOf('.');
      if (dot > 0) return this.getAtt(name.slice(0, dot), name.slice(dot + 1));
      return this.ref(name);
    });
  }

  /** Resolves every intrinsic in a value. */
  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v)).filter((v) => v !== (NO_VALUE as unknown as Json));
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [k] = keys;
      const arg = value[k];
      switch (k) {
        case 'Ref':
          if (String(arg).startsWith('AWS::')) return this.pseudo(String(arg));
          if (!this.resources[String(arg)] && this.template.Parameters?.[String(arg)]) return this.parameterValue(String(arg));
          return this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split(/\.(.+)/);
          return this.getAtt(id, String(this.resolve(attr as Json)));
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, Json[]];
          return (this.resolve(parts) as Json[]).map(String).join(sep);
        }
        case 'Fn::Sub': {
          if (typeof arg === 'string') return this.sub(arg, {});
          const [text, vars] = arg as [string, Record<string, Json>];
          return this.sub(text, this.resolve(vars) as Record<string, Json>);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [Json, Json];
          return (this.resolve(list) as Json[])[Number(this.resolve(index))];
        }
        case 'Fn::Split': {
          const [sep, text] = arg as [string, Json];
          return String(this.resolve(text)).split(sep);
        }
        case 'Fn::If': {
          const [cond, yes, no] = arg as [string, Json, Json];
          return this.resolve(this.condition(cond) ? yes : no);
        }
        case 'Fn::Equals': {
          const [a, b] = (arg as Json[]).map((x) => this.resolve(x));
          return JSON.stringify(a) === JSON.stringify(b);
        }
        case 'Fn::Not':
          return !this.resolve((arg as Json[])[0]);
        case 'Fn::And':
          return (arg as Json[]).every((x) => Boolean(this.resolve(x)));
        case 'Fn::Or':
          return (arg as Json[]).some((x) => Boolean(this.resolve(x)));
        case 'Condition':
          return this.condition(String(arg));
        case 'Fn::ImportValue':
        case 'Fn::FindInMap':
        case 'Fn::GetAZs':
        case 'Fn::Base64':
        case 'Fn::Cidr':
          throw new Error(`${this.stackName}: ${k} is not supported by the IAM contract resolver; teach test/iam/support/cfn.ts how to resolve it`);
        default:
          if (k.startsWith('Fn::')) throw new Error(`${this.stackName}: unknown intrinsic ${k}`);
      }
    }
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = this.resolve(v);
      if (r !== (NO_VALUE as unknown as Json)) out[k] = r;
    }
    return out;
  }
}

const NO_VALUE = Symbol('AWS::NoValue');
