import type { APIGatewayProxyEvent } from 'aws-lambda';
import { decodeCursor, encodeCursor } from './cursor';
import { BadRequestError, NotFoundError } from './errors';
import { header, readJsonBody, Reply } from './http';
import { ExpectedVersions, Note, NotesRepository } from './notes-repository';
import { Route, UserRequest } from './router';
import { isNoteId, parseListQuery, parseNoteInput } from './validation';

export interface RouteDeps {
  repository: NotesRepository;
  version: string;
  commit: string;
  maxBodyBytes: number;
}

/** ETag of a note: its version number, as a strong entity tag. */
export function etagOf(note: Pick<Note, 'version'>): string {
  return `"${note.version}"`;
}

function noteReply(statusCode: number, note: Note, headers: Record<string, string> = {}): Reply {
  return { statusCode, body: note, headers: { ETag: etagOf(note), ...headers } };
}

/**
 * The `{id}` path parameter. Anything that is not a ULID as we mint them answers 404 like a
 * missing note: such a note cannot exist, and we skip the DynamoDB call (see the decision log).
 */
function noteIdOf(req: UserRequest): string {
  const id = req.params.id;
  if (typeof id !== 'string' || !isNoteId(id)) throw new NotFoundError('Note not found');
  return id;
}

const MAX_IF_MATCH_TAGS = 10;

/** One list element of If-Match: `*` or an RFC 9110 entity-tag (`"opaque"` or weak `W/"opaque"`). */
const IF_MATCH_ELEMENT = /^(?:\*|(W\/)?"([\x21\x23-\x7E\x80-\xFF]*)")$/;
const STRONG_VERSION = /^[1-9][0-9]{0,14}$/;

function invalidIfMatch(message: string): BadRequestError {
  return new BadRequestError('INVALID_HEADER', `If-Match ${message}`, { issues: [{ field: 'If-Match', message }] });
}

/** Splits a list header on the commas between elements (an entity tag may itself hold a comma). */
function listElements(value: string): string[] | undefined {
  const elements: string[] = [];
  const element = /\s*((?:W\/)?"[^"]*"|[^,"]*)\s*(?:,|$)/y;
  while (element.lastIndex < value.length) {
    const start = element.lastIndex;
    const m = element.exec(value);
    if (!m || element.lastIndex === start) return undefined;
    if (m[1].length > 0) elements.push(m[1]);
  }
  return elements;
}

/**
 * `If-Match` -> which versions a write may replace. Absent, empty or `*` = unconditional (a missing
 * note is still 404). Otherwise a list of entity tags; ours are strong, `"<version>"`. The header is
 * compared as RFC 9110 says (strong comparison): a weak tag (`W/"3"`) or a well-formed tag we never
 * issued is a valid precondition that can never match, so the request ends in 412 (or 404 when the
 * note is missing). Anything that is not an entity tag at all (`3`, `banana`, `"3`) is a 400
 * naming the header and the form it expects, not a 412 saying the note changed.
 */
export function parseIfMatch(event: APIGatewayProxyEvent): ExpectedVersions {
  const value = header(event, 'if-match');
  if (value === undefined) return undefined;
  const tags = listElements(value);
  const malformed = tags?.find((t) => !IF_MATCH_ELEMENT.test(t));
  if (!tags || malformed !== undefined) {
    throw invalidIfMatch('must be an entity tag in double quotes as the ETag header gives it, e.g. If-Match: "3" (or * for any version)');
  }
  if (tags.length === 0 || tags.includes('*')) return undefined;
  if (tags.length > MAX_IF_MATCH_TAGS) throw invalidIfMatch(`may list at most ${MAX_IF_MATCH_TAGS} entity tags`);
  const versions = new Set<number>();
  for (const tag of tags) {
    const [, weak, opaque] = IF_MATCH_ELEMENT.exec(tag) ?? [];
    if (!weak && opaque !== undefined && STRONG_VERSION.test(opaque)) versions.add(Number(opaque));
  }
  return [...versions];
}

/** The route table: every route of the notes API, in one place. */
export function notesRoutes(deps: RouteDeps): Route[] {
  const { repository: notes } = deps;
  return [
    {
      method: 'GET',
      path: '/health',
      auth: 'none',
      handle: async () => ({ statusCode: 200, body: { status: 'ok', version: deps.version, commit: deps.commit } }),
    },
    {
      method: 'POST',
      path: '/notes',
      auth: 'user',
      handle: async (req) => {
        const input = parseNoteInput(readJsonBody(req.event, deps.maxBodyBytes));
        const note = await notes.create(req.userId, input);
        return noteReply(201, note, { Location: `/notes/${note.noteId}` });
      },
    },
    {
      method: 'GET',
      path: '/notes',
      auth: 'user',
      handle: async (req) => {
        const query = parseListQuery(req.event.queryStringParameters, req.event.multiValueQueryStringParameters);
        const start = query.cursor === undefined ? undefined : decodeCursor(query.cursor, req.userId);
        const page = await notes.list(req.userId, query.limit, start);
        return { statusCode: 200, body: { items: page.items, nextCursor: page.nextKey ? encodeCursor(page.nextKey) : null } };
      },
    },
    {
      method: 'GET',
      path: '/notes/{id}',
      auth: 'user',
      handle: async (req) => noteReply(200, await notes.get(req.userId, noteIdOf(req))),
    },
    {
      method: 'PUT',
      path: '/notes/{id}',
      auth: 'user',
      handle: async (req) => {
        const noteId = noteIdOf(req);
        const input = parseNoteInput(readJsonBody(req.event, deps.maxBodyBytes));
        return noteReply(200, await notes.replace(req.userId, noteId, input, parseIfMatch(req.event)));
      },
    },
    {
      method: 'DELETE',
      path: '/notes/{id}',
      auth: 'user',
      handle: async (req) => {
        await notes.delete(req.userId, noteIdOf(req), parseIfMatch(req.event));
        return { statusCode: 204 };
      },
    },
  ];
}
