import { CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { NotesAuth } from './notes-auth';
import { ServiceFunction } from './service-function';
import { SmokeUser } from './smoke-user';
import { acknowledgePipelineInvokedFunction } from './serverless-nag';

export interface SmokeTestFunctionProps {
  /** Physical-name prefix; the function is `<prefix>-smoke-test` (the pipeline invokes it by name). */
  readonly namePrefix: string;
  readonly apiUrl: string;
  readonly auth: NotesAuth;
  readonly smokeUser: SmokeUser;
  readonly expectedVersion: string;
  readonly healthSlaMs: number;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /**
   * Where the job is reported: the pipeline's region; for an environment outside the pipeline's
   * account also the pipeline account's reporter role to assume, and the name this function's role
   * must have (the reporter role trusts exactly that role).
   */
  readonly pipeline: {
    readonly region: string;
    readonly reporterRoleArn?: string;
    readonly roleName?: string;
    /** Outside the pipeline's account: the pipeline's account and the name of the role it invokes the function through. */
    readonly invoker?: { readonly account: string; readonly roleName: string };
  };
}

/** The smoke-test function's physical name for an environment prefix. */
export function smokeTestFunctionName(namePrefix: string): string {
  return `${namePrefix}-smoke-test`;
}

/**
 * The pipeline's smoke test (`lambda/smoke-test`), deployed with the service it checks. It may
 * read its one secret, sign the smoke user in on its one pool, and report the pipeline job's
 * result; everything else it does is plain HTTPS against the API with the user's token.
 */
export class SmokeTestFunction extends Construct {
  readonly function: lambda.IFunction;

  constructor(scope: Construct, id: string, props: SmokeTestFunctionProps) {
    super(scope, id);
    const fn = new ServiceFunction(this, 'Smoke', {
      entry: 'lambda/smoke-test/index.ts',
      functionName: smokeTestFunctionName(props.namePrefix),
      description: `Smoke test of the ${props.namePrefix} notes API (invoked by the release pipeline)`,
      memorySize: 256,
      // Eleven checks with a 5 s timeout each, plus sign-in and clean-up, well inside this.
      timeout: Duration.minutes(2),
      // CodePipeline invokes it asynchronously. The handler reports its job exactly once; a Lambda
      // retry would run the checks again against a job that is already reported (or timed out).
      retryAttempts: 0,
      roleName: props.pipeline.roleName,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      environment: {
        API_URL: props.apiUrl,
        USER_POOL_ID: props.auth.userPool.userPoolId,
        SMOKE_CLIENT_ID: props.auth.smokeClient.userPoolClientId,
        SMOKE_SECRET_ARN: props.smokeUser.secret.secretArn,
        EXPECTED_VERSION: props.expectedVersion,
        HEALTH_SLA_MS: String(props.healthSlaMs),
        PIPELINE_REGION: props.pipeline.region,
        ...(props.pipeline.reporterRoleArn ? { JOB_REPORTER_ROLE_ARN: props.pipeline.reporterRoleArn } : {}),
      },
    });
    props.smokeUser.grantRead(fn.function);
    props.auth.grantAdminInitiateAuth(fn.function);
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReportPipelineJobResult',
        actions: ['codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult'],
        resources: ['*'],
      }),
    );
    if (props.pipeline.reporterRoleArn) {
      // Outside the pipeline's account, CodePipeline takes the job's result only from a principal of
      // the pipeline's account: the report goes through that account's reporter role for this environment.
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'ReportThroughPipelineAccount', actions: ['sts:AssumeRole'], resources: [props.pipeline.reporterRoleArn] }),
      );
    }
    Validations.of(fn.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'codepipeline:PutJobSuccessResult and PutJobFailureResult support no resource-level permissions (the service authorization reference lists no resource type), so the resource must be "*"; the statement allows only those two actions.',
    });
    if (props.pipeline.invoker) {
      // CodePipeline invokes a function of another account through an action role in that account.
      // This one may invoke exactly this function; CDK would otherwise generate it in a support stack
      // of its own, outside NotesStack, without the permissions boundary the execution policy requires.
      const invoke = new iam.Role(this, 'InvokeRole', {
        roleName: props.pipeline.invoker.roleName,
        description: `CodePipeline (account ${props.pipeline.invoker.account}) invokes the ${props.namePrefix} smoke test through this role; nothing else`,
        assumedBy: new iam.AccountPrincipal(props.pipeline.invoker.account),
      });
      fn.function.grantInvoke(invoke);
      // What CodePipeline's Lambda invoke action asks of its role besides invoking (names only, no code).
      invoke.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ListFunctionsForTheAction', actions: ['lambda:ListFunctions'], resources: ['*'] }));
      Validations.of(invoke).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'lambda:ListFunctions supports no resource-level permission (it lists names, no code or data); invoking is granted on this one function only.',
      });
      Validations.of(invoke).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.function.node.defaultChild as CfnElement)}.Arn>:*]`,
        reason: 'Invoke permission on the one smoke-test function also covers its versions and aliases (function ARN + ":*"), as CDK grants it.',
      });
    }
    acknowledgePipelineInvokedFunction(fn);
    this.function = fn.function;
  }
}
