import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

/** Route templates of the notes API as API Gateway reports them in `event.resource`. */
export type Resource = '/health' | '/notes' | '/notes/{id}' | '/{proxy+}' | string;

export interface RequestSpec {
  method: string;
  /** Request path, e.g. `/notes/01J...`; the resource and path parameters are derived from it. */
  path: string;
  /** Cognito `sub` of the caller; omit for an unauthenticated request. */
  user?: string;
  /** Object -> JSON text with `Content-Type: application/json`; string -> sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Query parameters; an array value is a repeated parameter. */
  query?: Record<string, string | string[]>;
  isBase64Encoded?: boolean;
  /** Override the derived resource (e.g. to simulate a `{proxy+}` integration). */
  resource?: Resource;
}

let counter = 0;

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function deriveResource(path: string): { resource: string; pathParameters: Record<string, string> | null } {
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 2 && parts[0] === 'notes') return { resource: '/notes/{id}', pathParameters: { id: safeDecode(parts[1]) } };
  if (parts.length === 1) return { resource: `/${parts[0]}`, pathParameters: null };
  return { resource: '/{proxy+}', pathParameters: { proxy: parts.join('/') } };
}

/** A REST API (v1) proxy event shaped like API Gateway's, with a Cognito user-pool authorizer context. */
export function apiEvent(spec: RequestSpec): APIGatewayProxyEvent {
  const headers: Record<string, string> = { ...(spec.headers ?? {}) };
  let body: string | null = null;
  if (typeof spec.body === 'string') body = spec.body;
  else if (spec.body !== undefined) {
    body = JSON.stringify(spec.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  }
  const derived = deriveResource(spec.path);
  const resource = spec.resource ?? derived.resource;
  const pathParameters =
    spec.resource === '/{proxy+}' ? { proxy: spec.path.replace(/^\//, '') } : spec.resource ? null : derived.pathParameters;

  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(spec.query ?? {})) {
    const values = Array.isArray(v) ? v : [v];
    multi[k] = values;
    single[k] = values[values.length - 1];
  }
  const requestId = `api-req-${++counter}`;
  return {
    resource,
    path: spec.path,
    httpMethod: spec.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: spec.query ? single : null,
    multiValueQueryStringParameters: spec.query ? multi : null,
    pathParameters,
    stageVariables: null,
    body,
    isBase64Encoded: spec.isBase64Encoded ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      authorizer: spec.user === undefined ? null : { claims: { sub: spec.user, token_use: 'id' } },
      protocol: 'HTTP/1.1',
      httpMethod: spec.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: null,
        userAgent: 'jest',
        userArn: null,
      },
      path: `/test${spec.path}`,
      stage: 'test',
      requestId,
      requestTimeEpoch: 0,
      resourceId: 'res',
      resourcePath: resource,
    },
  };
}

/** A Lambda context with a fresh request id. */
export function lambdaContext(requestId = `lambda-req-${++counter}`): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'notes-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:notes-api',
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/notes-api',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
