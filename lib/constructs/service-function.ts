import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { serviceFunctionCode } from './lambda-bundle';

/** The runtime every function of the service runs on (house rule: Node 22 on Graviton). */
export const SERVICE_RUNTIME = lambda.Runtime.NODEJS_22_X;

export interface ServiceFunctionProps {
  /** TypeScript entry file, relative to the repository root or absolute. */
  readonly entry: string;
  readonly description: string;
  /** Physical name; omit to let CloudFormation name it. */
  readonly functionName?: string;
  /** Physical name of the execution role; omit to let CloudFormation name it. */
  readonly roleName?: string;
  readonly environment?: Record<string, string>;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: logs.RetentionDays;
  /** What happens to the log group when the stack is deleted. */
  readonly logRemovalPolicy: RemovalPolicy;
  /** Retries of a failed asynchronous invocation (Lambda's default: 2). */
  readonly retryAttempts?: number;
  /**
   * X-Ray active tracing (default off). On for functions on a user's request path, where a trace
   * shows API Gateway, the function's init and its invocation in one picture.
   */
  readonly tracing?: boolean;
}

/**
 * A Node.js Lambda function as every function of the service is built: esbuild bundle (minified,
 * with source maps that Node applies to stack traces; see lambda-bundle.ts), Node 22 on arm64, its own log group with a
 * retention, and its own role that may write to that log group and nothing else until the owner
 * grants more. No AWS managed policy (AWSLambdaBasicExecutionRole would allow every log group).
 */
export class ServiceFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      roleName: props.roleName,
      description: `Execution role of ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      // Bundled in this process by esbuild's JS API with the options NodejsFunction used (see
      // lambda-bundle.ts): the same bytes, without a shell and an npx per function.
      code: serviceFunctionCode(props.entry),
      handler: 'index.handler',
      functionName: props.functionName,
      description: props.description,
      runtime: SERVICE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      retryAttempts: props.retryAttempts,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : undefined,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime the team builds and tests for (house rule; the local mode and CI run the same major). It is an AWS-supported LTS runtime; moving to Node.js 24 is a deliberate change made for every function at once in SERVICE_RUNTIME.',
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaLatestVersion',
      reason:
        'The same choice as AwsSolutions-L1: Node.js 22 is the runtime the team builds and tests for, an AWS-supported LTS runtime; moving to Node.js 24 is one deliberate change for every function at once in SERVICE_RUNTIME.',
    });
    if (props.tracing) {
      // Lambda adds xray:PutTraceSegments and xray:PutTelemetryRecords on "*" to the role.
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions (the service authorization reference lists no resource type for them), so Lambda grants them on "*"; they only write trace data.',
      });
    }
    // The log group must exist (with its retention) before the function can log into it.
    this.function.node.addDependency(this.logGroup);
  }
}
