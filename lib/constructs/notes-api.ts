import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ReleaseInfo } from '../config';
import { NotesAuth } from './notes-auth';
import { NotesTable } from './notes-table';
import { ServiceFunction } from './service-function';

/** Stage name; part of the execute-api URL (`https://<id>.execute-api.<region>.amazonaws.com/v1/`). */
export const API_STAGE_NAME = 'v1';

/** Headers a browser may send on a cross-origin request (same list as the local gateway). */
export const CORS_ALLOW_HEADERS = ['Content-Type', 'Authorization', 'If-Match', 'X-Amz-Date', 'X-Api-Key', 'X-Amz-Security-Token'];
export const CORS_ALLOW_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'];

/** One JSON object per request in the access log; nothing from the body, no token. */
const ACCESS_LOG_FIELDS: Record<string, string> = {
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  path: '$context.path',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integration.status',
  integrationLatency: '$context.integration.latency',
  integrationError: '$context.integration.error',
  errorMessage: '$context.error.message',
  errorType: '$context.error.responseType',
  authorizerError: '$context.authorizer.error',
  userSub: '$context.authorizer.claims.sub',
  lambdaRequestId: '$context.integration.requestId',
};

export interface NotesApiProps {
  readonly namePrefix: string;
  readonly table: NotesTable;
  readonly auth: NotesAuth;
  readonly release: ReleaseInfo;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly corsAllowOrigins: readonly string[];
  readonly maxBodyBytes: number;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly domain?: { readonly domainName: string; readonly certificateArn: string };
  /**
   * Whether this stack sets the account's API Gateway CloudWatch Logs role (one per account and
   * region; access logs need it too). Exactly one stack per account and region may: see
   * `ownsApiGatewayAccountSettings`. Role and setting are retained when the stack is deleted, so the
   * other stacks there keep logging.
   */
  readonly ownsAccountSettings: boolean;
}

/**
 * The notes REST API: API Gateway in front of one Lambda function (`lambda/notes-api`) that
 * serves every route. `/health` is open; every `/notes` method requires a Cognito ID token of the
 * pool. Each resource also has an `ANY` method (same authorization) so that a known path with an
 * undeclared method reaches the handler and gets its 405, as in the local mode, instead of API
 * Gateway's 403 "Missing Authentication Token".
 */
export class NotesApi extends Construct {
  readonly restApi: apigw.RestApi;
  readonly handler: lambda.IFunction;
  readonly accessLogGroup: logs.LogGroup;
  /** Set when the environment has a custom domain. */
  readonly domainName?: apigw.DomainName;

  constructor(scope: Construct, id: string, props: NotesApiProps) {
    super(scope, id);
    const origins = [...props.corsAllowOrigins];

    const fn = new ServiceFunction(this, 'Handler', {
      entry: 'lambda/notes-api/index.ts',
      functionName: `${props.namePrefix}-api`,
      description: `Notes API (${props.namePrefix})`,
      memorySize: 256,
      timeout: Duration.seconds(10),
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      environment: {
        TABLE_NAME: props.table.table.tableName,
        RELEASE_VERSION: props.release.version,
        COMMIT_SHA: props.release.commit,
        MAX_BODY_BYTES: String(props.maxBodyBytes),
        CORS_ALLOW_ORIGINS: origins.join(','),
        POWERTOOLS_SERVICE_NAME: 'notes-api',
      },
    });
    props.table.grantNotesApiAccess(fn.function);
    this.handler = fn.function;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    this.restApi = new apigw.RestApi(this, 'Api', {
      restApiName: `${props.namePrefix}-api`,
      description: `Serverless Personal Notes API (${props.namePrefix})`,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: props.ownsAccountSettings,
      cloudWatchRoleRemovalPolicy: props.ownsAccountSettings ? RemovalPolicy.RETAIN : undefined,
      deployOptions: {
        stageName: API_STAGE_NAME,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
        throttlingRateLimit: props.throttle.rateLimit,
        throttlingBurstLimit: props.throttle.burstLimit,
      },
      defaultCorsPreflightOptions:
        origins.length > 0
          ? {
              allowOrigins: origins,
              allowMethods: CORS_ALLOW_METHODS,
              allowHeaders: CORS_ALLOW_HEADERS,
              maxAge: Duration.hours(1),
            }
          : undefined,
    });
    if (props.ownsAccountSettings) {
      const role = this.restApi.node.findChild('CloudWatchRole');
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The API Gateway account CloudWatch Logs role (the one role per account and region API Gateway writes access logs through) uses AmazonAPIGatewayPushToCloudWatchLogs, the policy the API Gateway logging guide names for it; only apigateway.amazonaws.com may assume the role.',
      });
    }
    Validations.of(this.restApi.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG6',
      reason:
        'Execution logging is off: its per-method traces can include request and response data, and it costs far more than the access log. The JSON access log (which, like execution logs, goes through the account CloudWatch Logs role) carries status, integration status/latency/error, authorizer error and error message per request, and the handler logs every request with its id.',
    });
    Validations.of(this.restApi.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'No WAF web ACL yet (about 5 USD/month plus per-rule and per-request fees for a personal notes service). Stage throttling bounds abuse; we chose a REST API so that a web ACL can be attached later without changing the API (see decision log).',
    });

    // Parameters are validated by API Gateway; bodies by the handler (one zod definition, field-level
    // messages, the same answers in local mode).
    const validator = this.restApi.addRequestValidator('Validator', {
      requestValidatorName: 'parameters-and-body',
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    const integration = new apigw.LambdaIntegration(fn.function, { proxy: true, scopePermissionToMethod: false });
    const authorizer = new apigw.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
      authorizerName: `${props.namePrefix}-users`,
      cognitoUserPools: [props.auth.userPool],
      identitySource: apigw.IdentitySource.header('Authorization'),
    });
    const userOnly: apigw.MethodOptions = {
      authorizer,
      authorizationType: apigw.AuthorizationType.COGNITO,
      requestValidator: validator,
    };
    const open: apigw.MethodOptions = { authorizationType: apigw.AuthorizationType.NONE, requestValidator: validator };

    const health = this.restApi.root.addResource('health');
    for (const method of ['GET', 'ANY']) {
      const m = health.addMethod(method, integration, open);
      Validations.of(m).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: '/health is deliberately public: uptime checks and the smoke test call it without a token. It returns only status, version and commit.',
      });
      Validations.of(m).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: '/health is deliberately public (no Cognito authorizer); it returns only status, version and commit.',
      });
    }

    const notes = this.restApi.root.addResource('notes');
    notes.addMethod('GET', integration, {
      ...userOnly,
      requestParameters: { 'method.request.querystring.limit': false, 'method.request.querystring.cursor': false },
    });
    notes.addMethod('POST', integration, userOnly);
    notes.addMethod('ANY', integration, userOnly);

    const note = notes.addResource('{id}');
    const withId = { ...userOnly, requestParameters: { 'method.request.path.id': true } };
    for (const method of ['GET', 'PUT', 'DELETE', 'ANY']) note.addMethod(method, integration, withId);

    this.addCorsToGatewayResponses(origins);

    if (props.domain) {
      this.domainName = this.restApi.addDomainName('Domain', {
        domainName: props.domain.domainName,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
        endpointType: apigw.EndpointType.REGIONAL,
        securityPolicy: apigw.SecurityPolicy.TLS_1_2,
      });
    }
  }

  /** The stage's execute-api URL, ending in `/`. */
  get url(): string {
    return this.restApi.url;
  }

  /**
   * API Gateway's own error answers (401 from the authorizer, 403 unknown path, 429 throttled,
   * 413, 5xx) carry the CORS headers too, so a browser can read them. One configured origin is
   * sent as is; with several, the request's Origin is echoed (these bodies never hold user data).
   */
  private addCorsToGatewayResponses(origins: string[]): void {
    if (origins.length === 0) return;
    const allowOrigin =
      origins.length === 1 ? `'${origins[0]}'` : origins.includes('*') ? "'*'" : 'method.request.header.Origin';
    const responseHeaders: Record<string, string> = {
      'Access-Control-Allow-Origin': allowOrigin,
      'Access-Control-Allow-Headers': `'${CORS_ALLOW_HEADERS.join(',')}'`,
      Vary: "'Origin'",
    };
    this.restApi.addGatewayResponse('Default4xx', { type: apigw.ResponseType.DEFAULT_4XX, responseHeaders });
    this.restApi.addGatewayResponse('Default5xx', { type: apigw.ResponseType.DEFAULT_5XX, responseHeaders });
  }
}
