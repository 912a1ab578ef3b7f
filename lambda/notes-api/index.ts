import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { createNotesApi, NotesHandler } from './app';
import { DEFAULT_MAX_BODY_BYTES } from './http';

/**
 * Lambda entry point. Logger, DynamoDB client and the API are built once per container (module
 * scope, during init) and reused by warm invocations.
 *
 * Env: TABLE_NAME (required), RELEASE_VERSION, COMMIT_SHA, MAX_BODY_BYTES (default 262144),
 * CORS_ALLOW_ORIGINS (comma-separated), DYNAMODB_ENDPOINT (local mode/tests), AWS_REGION.
 */

/** SDK retries are bounded: a throttled request fails fast with 503 + Retry-After instead of hanging. */
export const SDK_MAX_ATTEMPTS = 3;

export interface NotesApiEnvConfig {
  tableName: string;
  version: string;
  commit: string;
  maxBodyBytes: number;
  corsAllowOrigins: string[];
  region: string;
  endpoint?: string;
}

export function configFromEnv(env: NodeJS.ProcessEnv): NotesApiEnvConfig {
  const tableName = env.TABLE_NAME?.trim();
  if (!tableName) throw new Error('TABLE_NAME is not set');
  const maxBody = Number(env.MAX_BODY_BYTES);
  return {
    tableName,
    version: env.RELEASE_VERSION || 'unknown',
    commit: env.COMMIT_SHA || 'unknown',
    maxBodyBytes: Number.isSafeInteger(maxBody) && maxBody > 0 ? maxBody : DEFAULT_MAX_BODY_BYTES,
    corsAllowOrigins: (env.CORS_ALLOW_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o.length > 0),
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    endpoint: env.DYNAMODB_ENDPOINT || undefined,
  };
}

export function documentClientFor(config: Pick<NotesApiEnvConfig, 'region' | 'endpoint'>, env: NodeJS.ProcessEnv): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: config.region,
    maxAttempts: SDK_MAX_ATTEMPTS,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    // Local endpoints (dynalite) accept any credentials; placeholders only when none are configured.
    ...(config.endpoint && !env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

const logger = new Logger({ serviceName: 'notes-api' });

function buildFromEnv(): NotesHandler {
  const config = configFromEnv(process.env);
  return createNotesApi({ ...config, documentClient: documentClientFor(config, process.env), logger });
}

// Built during init when the environment is complete (always the case in Lambda); otherwise on the
// first invocation, so that importing this module (local mode, tests) never throws.
let api: NotesHandler | undefined = process.env.TABLE_NAME ? buildFromEnv() : undefined;

export const handler = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
  if (!api) {
    try {
      api = buildFromEnv();
    } catch (err) {
      const requestId = context?.awsRequestId || 'unknown';
      logger.error('notes API is misconfigured', { requestId, reason: err instanceof Error ? err.message : String(err) });
      return {
        statusCode: 500,
        headers: { 'Content-Type': 'application/json; charset=utf-8', 'X-Request-Id': requestId },
        body: JSON.stringify({
          error: {
            code: 'INTERNAL_ERROR',
            message: `An unexpected error occurred; quote request id ${requestId} when reporting it`,
            details: { requestId },
          },
        }),
      };
    }
  }
  return api(event, context);
};
