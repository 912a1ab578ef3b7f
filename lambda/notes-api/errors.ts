/**
 * Typed errors, mapped to HTTP status codes in ONE place (`toErrorResponse`).
 *
 * Anything deep in the handler (validation, repository, routing) throws one of these; the edge of
 * the app turns it into `{ "error": { "code", "message", "details"? } }`. Anything else becomes a
 * 503 (DynamoDB throttling / service trouble) or a generic 500 that carries the request id.
 */

export interface FieldIssue {
  /** Dotted path of the offending field (`title`, `tags.3`); `(body)` for the body as a whole. */
  field: string;
  message: string;
}

export abstract class ApiError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: string;
  readonly details?: unknown;
  readonly headers: Record<string, string> = {};

  constructor(message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export class BadRequestError extends ApiError {
  readonly statusCode = 400;
  readonly code: string;
  constructor(code: string, message: string, details?: unknown) {
    super(message, details);
    this.code = code;
  }
}

export class ValidationError extends BadRequestError {
  constructor(message: string, issues: FieldIssue[]) {
    super('VALIDATION_FAILED', message, { issues });
  }
}

export class UnauthorizedError extends ApiError {
  readonly statusCode = 401;
  readonly code = 'UNAUTHORIZED';
  constructor() {
    super('The request carries no authenticated user');
  }
}

export class NotFoundError extends ApiError {
  readonly statusCode = 404;
  readonly code = 'NOT_FOUND';
}

export class MethodNotAllowedError extends ApiError {
  readonly statusCode = 405;
  readonly code = 'METHOD_NOT_ALLOWED';
  constructor(method: string, path: string, allowed: readonly string[]) {
    super(`${method} is not supported on ${path}; use ${allowed.join(', ')}`);
    this.headers.Allow = allowed.join(', ');
  }
}

export class PreconditionFailedError extends ApiError {
  readonly statusCode = 412;
  readonly code = 'PRECONDITION_FAILED';
  constructor(currentVersion?: number) {
    super(
      'The note was changed since you read it (If-Match does not match the current version); fetch it again and retry',
      currentVersion === undefined ? undefined : { currentVersion },
    );
    if (currentVersion !== undefined) this.headers.ETag = `"${currentVersion}"`;
  }
}

export class PayloadTooLargeError extends ApiError {
  readonly statusCode = 413;
  readonly code = 'PAYLOAD_TOO_LARGE';
  constructor(maxBytes: number) {
    super(`The request body exceeds ${maxBytes} bytes`, { maxBytes });
  }
}

export class UnsupportedMediaTypeError extends ApiError {
  readonly statusCode = 415;
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  constructor(received: string | undefined) {
    super(
      received === undefined
        ? 'The request body must be JSON: send Content-Type: application/json'
        : 'The request body must be JSON: Content-Type must be application/json (charset utf-8)',
    );
  }
}

export class ServiceUnavailableError extends ApiError {
  readonly statusCode = 503;
  readonly code = 'SERVICE_UNAVAILABLE';
  constructor(retryAfterSeconds: number) {
    super('The service is busy; retry after a short wait');
    this.headers['Retry-After'] = String(retryAfterSeconds);
  }
}

/** DynamoDB error names that mean "busy or briefly broken, try again": answered with 503 + Retry-After. */
export const RETRYABLE_DYNAMODB_ERRORS: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
]);

export const RETRY_AFTER_SECONDS = 1;

export interface ErrorResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: { error: { code: string; message: string; details?: unknown } };
  /** Whether this is a server-side fault (logged at error level with the cause). */
  fault: boolean;
}

function errorName(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'name' in err && typeof err.name === 'string') return err.name;
  return undefined;
}

/** The one mapping from anything thrown to an HTTP error response. */
export function toErrorResponse(err: unknown, requestId: string): ErrorResponse {
  let mapped: ApiError | undefined;
  if (err instanceof ApiError) mapped = err;
  else if (RETRYABLE_DYNAMODB_ERRORS.has(errorName(err) ?? '')) mapped = new ServiceUnavailableError(RETRY_AFTER_SECONDS);

  if (mapped) {
    const error: ErrorResponse['body']['error'] = { code: mapped.code, message: mapped.message };
    if (mapped.details !== undefined) error.details = mapped.details;
    return { statusCode: mapped.statusCode, headers: { ...mapped.headers }, body: { error }, fault: mapped.statusCode >= 500 };
  }
  return {
    statusCode: 500,
    headers: {},
    body: {
      error: {
        code: 'INTERNAL_ERROR',
        message: `An unexpected error occurred; quote request id ${requestId} when reporting it`,
        details: { requestId },
      },
    },
    fault: true,
  };
}
