import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { MethodNotAllowedError, NotFoundError, toErrorResponse, UnauthorizedError } from './errors';
import { corsHeaders, DEFAULT_MAX_BODY_BYTES, header, Reply, toResult } from './http';
import { NotesRepository } from './notes-repository';
import { Router } from './router';
import { notesRoutes } from './routes';

export type NotesHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface NotesApiDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  version: string;
  commit: string;
  /** Largest accepted request body in bytes (default 262144). */
  maxBodyBytes?: number;
  /** Origins that get `Access-Control-Allow-Origin` back; `*` = any. Default: none. */
  corsAllowOrigins?: readonly string[];
  /** Structured logger; default: a Powertools Logger for service `notes-api`. */
  logger?: Logger;
  /** Clock in epoch milliseconds (tests). */
  now?: () => number;
}

const MAX_USER_ID_LENGTH = 1024;

/** The caller's id: the Cognito `sub` claim put there by the API Gateway authorizer, nothing else. */
function userIdOf(event: APIGatewayProxyEvent): string {
  const claims: unknown = event.requestContext?.authorizer?.claims;
  if (typeof claims !== 'object' || claims === null) throw new UnauthorizedError();
  const sub: unknown = (claims as Record<string, unknown>).sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_USER_ID_LENGTH) throw new UnauthorizedError();
  return sub;
}

/** Error facts for the log: name, message and stack of our own/SDK errors; never request data. */
function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: typeof err };
}

/**
 * Builds the notes API handler (REST proxy event in, proxy result out). Used by the Lambda entry
 * point (`index.ts`), the local mode and the tests; everything it needs comes in through `deps`.
 */
export function createNotesApi(deps: NotesApiDeps): NotesHandler {
  const logger = deps.logger ?? new Logger({ serviceName: 'notes-api' });
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const allowOrigins = deps.corsAllowOrigins ?? [];
  const repository = new NotesRepository(deps.documentClient, deps.tableName, deps.now);
  const router = new Router(notesRoutes({ repository, version: deps.version, commit: deps.commit, maxBodyBytes }));

  return async (event, context) => {
    const started = performance.now();
    const requestId = context?.awsRequestId || event?.requestContext?.requestId || 'unknown';
    if (context) logger.addContext(context);
    const method = typeof event?.httpMethod === 'string' ? event.httpMethod : '';
    let route = '(none)';
    let reply: Reply;
    let errorCode: string | undefined;

    try {
      const match = router.match(event);
      if (match.kind === 'no-route') throw new NotFoundError('No such resource');
      if (match.kind === 'wrong-method') {
        route = match.path;
        throw new MethodNotAllowedError(method, match.path, match.allowed);
      }
      route = match.route.path;
      const base = { event, params: match.params, requestId };
      reply =
        match.route.auth === 'user'
          ? await match.route.handle({ ...base, userId: userIdOf(event) })
          : await match.route.handle(base);
    } catch (err) {
      const mapped = toErrorResponse(err, requestId);
      errorCode = mapped.body.error.code;
      if (mapped.fault) {
        logger.error('request failed', { requestId, method, route, errorCode, error: describeError(err) });
      }
      reply = { statusCode: mapped.statusCode, body: mapped.body, headers: mapped.headers };
    }

    const result = toResult({
      ...reply,
      headers: { ...reply.headers, ...corsHeaders(header(event, 'origin'), allowOrigins), 'X-Request-Id': requestId },
    });
    logger.info('request', {
      requestId,
      apiRequestId: event?.requestContext?.requestId,
      method,
      route,
      status: result.statusCode,
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
      ...(errorCode ? { errorCode } : {}),
    });
    return result;
  };
}
