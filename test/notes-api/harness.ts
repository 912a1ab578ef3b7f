import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createNotesApi, NotesApiDeps, NotesHandler } from '../../lambda/notes-api/app';
import type { Note } from '../../lambda/notes-api/notes-repository';
import { RunningDynalite, startDynalite } from '../support/dynalite';
import { apiEvent, lambdaContext, RequestSpec } from './events';

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON body; undefined for an empty body. */
  json: unknown;
  raw: APIGatewayProxyResult;
  /** The Lambda request id the call was made with. */
  requestId: string;
}

/** Parsed error body `{ error: { code, message, details? } }`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: { issues?: { field: string; message: string }[]; requestId?: string } };
}

/** A note as the API returns it. */
export type NoteBody = Note;

export interface ListBody {
  items: NoteBody[];
  nextCursor: string | null;
}

export async function invoke(handler: NotesHandler, spec: RequestSpec): Promise<ApiResponse> {
  const context = lambdaContext();
  const raw = await handler(apiEvent(spec), context);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw.headers ?? {})) headers[k.toLowerCase()] = String(v);
  return { status: raw.statusCode, headers, json: raw.body ? (JSON.parse(raw.body) as unknown) : undefined, raw, requestId: context.awsRequestId };
}

export const silentLogger = (): Logger => new Logger({ serviceName: 'notes-api-test', logLevel: 'SILENT' });

/** The notes API wired to a fresh table in a shared in-process dynalite. */
export interface TestApi {
  handler: NotesHandler;
  tableName: string;
  call(spec: RequestSpec): Promise<ApiResponse>;
}

export async function newApi(
  db: RunningDynalite,
  overrides: Partial<NotesApiDeps> & { documentClient?: DynamoDBDocumentClient } = {},
): Promise<TestApi> {
  const tableName = overrides.tableName ?? (await db.createNotesTable());
  const handler = createNotesApi({
    documentClient: db.documentClient,
    version: '1.2.3',
    commit: 'abc1234',
    logger: silentLogger(),
    ...overrides,
    tableName,
  });
  return { handler, tableName, call: (spec) => invoke(handler, spec) };
}

export { startDynalite };
export type { RunningDynalite };
