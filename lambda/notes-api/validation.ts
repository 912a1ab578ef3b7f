// zod/mini: same validation engine, tree-shakable API. The classic `zod` entry point bundles every
// locale (~440 KB minified) and cost ~13 ms more module init here; mini adds ~14 KB. All messages are ours.
import * as z from 'zod/mini';
import { FieldIssue, ValidationError } from './errors';

export const TITLE_MAX = 200;
export const CONTENT_MAX = 100_000;
export const TAGS_MAX = 20;
export const TAG_MAX = 50;
export const LIMIT_DEFAULT = 20;
export const LIMIT_MAX = 100;

/**
 * A lone UTF-16 surrogate (e.g. JSON "\ud800") cannot be stored faithfully as UTF-8, so DynamoDB
 * would silently change the text. With the `u` flag, properly paired surrogates form one code point
 * and do not match; only unpaired halves do.
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const wellFormed = (s: string) => !LONE_SURROGATE.test(s);

/**
 * Lengths are counted in UTF-16 code units (JavaScript string length). That keeps the worst case
 * item well under DynamoDB's 400 KB item limit: 100 000 units are at most 300 000 bytes of UTF-8.
 */
function text(field: string, min: number, max: number) {
  return z
    .string({ error: (iss) => (iss.input === undefined ? `${field} is required` : `${field} must be a string`) })
    .check(
      z.minLength(min, { error: min === 1 ? `${field} must not be empty` : `${field} must have at least ${min} characters` }),
      z.maxLength(max, { error: `${field} must have at most ${max} characters` }),
      z.refine(wellFormed, { error: `${field} contains an unpaired UTF-16 surrogate` }),
    );
}

/** Body of POST /notes and PUT /notes/{id}: unknown fields are rejected (e.g. `userId`, `version`). */
export const noteInputSchema = z.strictObject(
  {
    title: text('title', 1, TITLE_MAX).check(z.refine((s) => s.length === 0 || s.trim().length > 0, { error: 'title must not be blank' })),
    content: text('content', 0, CONTENT_MAX),
    tags: z.optional(
      z
        .array(text('tag', 1, TAG_MAX), { error: 'tags must be an array of strings' })
        .check(z.maxLength(TAGS_MAX, { error: `tags may hold at most ${TAGS_MAX} entries` })),
    ),
  },
  { error: (iss) => (iss.code === 'unrecognized_keys' ? undefined : 'The body must be a JSON object') },
);

export interface NoteInput {
  title: string;
  content: string;
  /** Duplicates removed, first occurrence order kept. */
  tags: string[];
}

/** Field names echo client input (unknown keys): keep them short in responses. */
const MAX_FIELD_NAME = 100;
/** A body with thousands of unknown keys gets the first few reported, not thousands. */
const MAX_ISSUES = 20;

function fieldOf(path: ReadonlyArray<PropertyKey>): string {
  const field = path.length === 0 ? '(body)' : path.map(String).join('.');
  return field.length > MAX_FIELD_NAME ? `${field.slice(0, MAX_FIELD_NAME)}...` : field;
}

/** zod issues -> `[{ field, message }]`, one entry per offending field. */
export function toFieldIssues(error: z.core.$ZodError): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const field = fieldOf([...issue.path, key]);
        issues.push({ field, message: `${field} is not an accepted field` });
      }
    } else {
      issues.push({ field: fieldOf(issue.path), message: issue.message });
    }
  }
  return issues.slice(0, MAX_ISSUES);
}

function fail(what: string, error: z.core.$ZodError): never {
  const issues = toFieldIssues(error);
  const fields = [...new Set(issues.map((i) => i.field))].join(', ');
  throw new ValidationError(`Invalid ${what}: ${fields}`, issues);
}

export function parseNoteInput(body: unknown): NoteInput {
  const result = noteInputSchema.safeParse(body);
  if (!result.success) fail('note', result.error);
  const { title, content, tags = [] } = result.data;
  return { title, content, tags: [...new Set(tags)] };
}

function limitIssue(raw: string): string | undefined {
  if (!/^[0-9]+$/.test(raw)) return `limit must be a whole number from 1 to ${LIMIT_MAX}`;
  const value = Number(raw);
  if (value < 1) return 'limit must be at least 1';
  if (value > LIMIT_MAX) return `limit must be at most ${LIMIT_MAX}`;
  return undefined;
}

export interface ListQuery {
  limit: number;
  cursor?: string;
}

/**
 * Query string of GET /notes. A parameter given twice is rejected rather than silently picking one
 * (API Gateway would keep the last). Unknown parameters are ignored.
 */
export function parseListQuery(
  single: Record<string, string | undefined> | null,
  multi: Record<string, string[] | undefined> | null,
): ListQuery {
  const issues: FieldIssue[] = [];
  const one = (name: string): string | undefined => {
    const values = multi?.[name];
    if (values && values.length > 1) {
      issues.push({ field: name, message: `${name} must be given at most once` });
      return undefined;
    }
    return values?.[0] ?? single?.[name] ?? undefined;
  };
  const rawLimit = one('limit');
  const cursor = one('cursor');

  let limit = LIMIT_DEFAULT;
  if (rawLimit !== undefined) {
    const problem = limitIssue(rawLimit);
    if (problem) issues.push({ field: 'limit', message: problem });
    else limit = Number(rawLimit);
  }
  if (cursor !== undefined && cursor.length === 0) issues.push({ field: 'cursor', message: 'cursor must not be empty' });
  if (issues.length > 0) throw new ValidationError(`Invalid query: ${[...new Set(issues.map((i) => i.field))].join(', ')}`, issues);
  return cursor === undefined ? { limit } : { limit, cursor };
}

/** Canonical ULID as we mint them: 26 upper-case Crockford base32 characters, first one 0-7. */
const NOTE_ID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

export function isNoteId(value: string): boolean {
  return NOTE_ID.test(value);
}
