import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { NOTES_TABLE_KEYS } from '../../lib/notes-table-schema';
import { CursorKey } from './cursor';
import { NotFoundError, PreconditionFailedError } from './errors';
import { NoteInput } from './validation';

/** A note as the API returns it (the stored item minus the owner's id). */
export interface Note {
  noteId: string;
  title: string;
  content: string;
  tags: string[];
  createdAt: string;
  updatedAt: string;
  version: number;
}

interface NoteItem extends Note {
  userId: string;
}

export interface NotesPage {
  items: Note[];
  /** Key of the last note returned when more may follow; undefined on the last page. */
  nextKey?: CursorKey;
}

/**
 * Which versions a write may replace: `undefined` = any (no If-Match, or `If-Match: *`), otherwise
 * the write succeeds only if the stored version is one of these (an empty list never matches).
 */
export type ExpectedVersions = readonly number[] | undefined;

/**
 * Upper bound on the serialized size of one page. A Query returns up to 1 MB of items, and JSON
 * escaping can grow that several times; Lambda responses are capped at 6 MB. We stop the page early
 * (and hand out a cursor) rather than fail.
 */
const PAGE_BUDGET_BYTES = 4 * 1024 * 1024;

const { partitionKey, sortKey } = NOTES_TABLE_KEYS;

function isConditionalCheckFailed(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'name' in err && err.name === 'ConditionalCheckFailedException';
}

/** How many attempts the SDK made before this error (its retry middleware records it). */
function sdkAttempts(err: unknown): number {
  const attempts = (err as { $metadata?: { attempts?: unknown } }).$metadata?.attempts;
  return typeof attempts === 'number' ? attempts : 1;
}

/** `#version IN (:v0, :v1, ...)`, adding the values to `values`. */
function versionCondition(expected: readonly number[], values: Record<string, unknown>): string {
  const names = expected.map((version, i) => {
    values[`:v${i}`] = version;
    return `:v${i}`;
  });
  return `#version IN (${names.join(', ')})`;
}

function sameText(note: Note, input: NoteInput): boolean {
  return note.title === input.title && note.content === input.content && JSON.stringify(note.tags) === JSON.stringify(input.tags);
}

function sameWrite(a: Note, b: Note): boolean {
  return sameText(a, b) && a.createdAt === b.createdAt && a.updatedAt === b.updatedAt && a.version === b.version;
}

/**
 * An upper bound on `Buffer.byteLength(JSON.stringify(note))` without serializing: JSON writes a
 * UTF-16 code unit as at most 6 bytes (`\u001f`), and keys, quotes, commas and the version number
 * add less than 256.
 */
function maxJsonBytes(note: Note): number {
  let units = note.noteId.length + note.title.length + note.content.length + note.createdAt.length + note.updatedAt.length;
  for (const tag of note.tags) units += tag.length + 3;
  return 256 + 6 * units;
}

function toNote(item: Record<string, unknown>): Note {
  const n = item as unknown as NoteItem;
  return {
    noteId: n.noteId,
    title: n.title,
    content: n.content,
    tags: Array.isArray(n.tags) ? n.tags : [],
    createdAt: n.createdAt,
    updatedAt: n.updatedAt,
    version: Number(n.version),
  };
}

/**
 * All DynamoDB access for notes. Every call is scoped to one user's partition: the user id comes
 * from the authorizer, never from the request, so another user's note simply does not exist here.
 */
export class NotesRepository {
  /** Monotonic within this container, so notes created in the same millisecond still sort correctly. */
  private readonly nextId = monotonicFactory();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async create(userId: string, input: NoteInput): Promise<Note> {
    const time = this.now();
    const at = new Date(time).toISOString();
    const item: NoteItem = {
      userId,
      noteId: this.nextId(time),
      title: input.title,
      content: input.content,
      tags: input.tags,
      createdAt: at,
      updatedAt: at,
      version: 1,
    };
    const note = toNote({ ...item });
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          // Never overwrite: a ULID collision is astronomically unlikely, but not impossible.
          ConditionExpression: 'attribute_not_exists(#sk)',
          ExpressionAttributeNames: { '#sk': sortKey },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // The SDK retried a put whose first attempt did land (response lost): that is our note.
      const existing = await this.find(userId, note.noteId);
      if (existing && sameWrite(existing, note)) return existing;
      throw err;
    }
    return note;
  }

  async get(userId: string, noteId: string): Promise<Note> {
    const found = await this.find(userId, noteId);
    if (!found) throw new NotFoundError('Note not found');
    return found;
  }

  async list(userId: string, limit: number, startAfter?: CursorKey): Promise<NotesPage> {
    // Ask for one more than the page so that "is there a next page?" is known without an empty last page.
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': partitionKey },
        ExpressionAttributeValues: { ':pk': userId },
        ScanIndexForward: false,
        Limit: limit + 1,
        ExclusiveStartKey: startAfter ? { [partitionKey]: userId, [sortKey]: startAfter.noteId } : undefined,
      }),
    );
    const raw = out.Items ?? [];
    const page = raw.slice(0, limit).map(toNote);
    // Serializing each note to measure it is only needed when the page could come near the budget;
    // below the cheap upper bound the page is taken whole, exactly as the loop would take it.
    let items: Note[] = page;
    if (page.reduce((n, note) => n + maxJsonBytes(note), 0) > PAGE_BUDGET_BYTES) {
      items = [];
      let bytes = 0;
      for (const note of page) {
        bytes += Buffer.byteLength(JSON.stringify(note));
        if (items.length > 0 && bytes > PAGE_BUDGET_BYTES) break;
        items.push(note);
      }
    }
    const more = items.length < raw.length || out.LastEvaluatedKey !== undefined;
    const last = items[items.length - 1];
    return more && last ? { items, nextKey: { userId, noteId: last.noteId } } : { items };
  }

  /** Replaces title, content and tags; bumps `version` atomically. */
  async replace(userId: string, noteId: string, input: NoteInput, expected: ExpectedVersions): Promise<Note> {
    const condition = ['attribute_exists(#sk)'];
    const values: Record<string, unknown> = {
      ':title': input.title,
      ':content': input.content,
      ':tags': input.tags,
      ':now': new Date(this.now()).toISOString(),
      ':one': 1,
    };
    if (expected !== undefined) {
      if (expected.length === 0) return this.failPrecondition(userId, noteId);
      condition.push(versionCondition(expected, values));
    }
    const updatedAt = values[':now'] as string;
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [partitionKey]: userId, [sortKey]: noteId },
          UpdateExpression: 'SET #title = :title, #content = :content, #tags = :tags, #updatedAt = :now, #version = #version + :one',
          ConditionExpression: condition.join(' AND '),
          ExpressionAttributeNames: {
            '#sk': sortKey,
            '#title': 'title',
            '#content': 'content',
            '#tags': 'tags',
            '#updatedAt': 'updatedAt',
            '#version': 'version',
          },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toNote(out.Attributes ?? {});
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // An SDK retry of a conditional update whose first attempt landed fails its own condition;
      // recognise our write (same text, our timestamp) instead of answering 412 for it.
      const current = await this.find(userId, noteId);
      if (current && expected !== undefined && current.updatedAt === updatedAt && sameText(current, input) && expected.includes(current.version - 1)) {
        return current;
      }
      if (!current) throw new NotFoundError('Note not found');
      throw new PreconditionFailedError(current.version);
    }
  }

  async delete(userId: string, noteId: string, expected: ExpectedVersions): Promise<void> {
    const values: Record<string, unknown> = {};
    const condition = ['attribute_exists(#sk)'];
    if (expected !== undefined) {
      if (expected.length === 0) return this.failPrecondition(userId, noteId);
      condition.push(versionCondition(expected, values));
    }
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { [partitionKey]: userId, [sortKey]: noteId },
          ConditionExpression: condition.join(' AND '),
          ExpressionAttributeNames: expected === undefined ? { '#sk': sortKey } : { '#sk': sortKey, '#version': 'version' },
          ExpressionAttributeValues: expected === undefined ? undefined : values,
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // An SDK retry of a delete whose first attempt landed finds the note gone: that is our own
      // delete, so the answer is 204, not 404. (Only after a retry; a first attempt that finds
      // nothing is a genuine 404.)
      if (sdkAttempts(err) > 1 && !(await this.find(userId, noteId))) return;
      return this.failPrecondition(userId, noteId);
    }
  }

  private async find(userId: string, noteId: string): Promise<Note | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { [partitionKey]: userId, [sortKey]: noteId }, ConsistentRead: true }),
    );
    return out.Item ? toNote(out.Item) : undefined;
  }

  /** A conditional write failed: 404 when the note is gone (or never was), else 412 with the current version. */
  private async failPrecondition(userId: string, noteId: string): Promise<never> {
    const current = await this.find(userId, noteId);
    if (!current) throw new NotFoundError('Note not found');
    throw new PreconditionFailedError(current.version);
  }
}
