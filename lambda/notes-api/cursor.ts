import { BadRequestError } from './errors';
import { isNoteId } from './validation';

/**
 * Pagination cursor: base64url of the JSON DynamoDB key to continue after, `{"userId","noteId"}`.
 *
 * Opaque to clients (they must not build one), but not secret or signed: the Query is always made
 * on the caller's own partition, so a forged cursor can only move the start point inside the
 * caller's own notes. A cursor naming another user, or one that does not decode, is rejected (400).
 */
export interface CursorKey {
  userId: string;
  noteId: string;
}

/** Longer than any cursor we issue (a Cognito sub is 36 characters); stops pathological inputs early. */
const MAX_CURSOR_LENGTH = 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify({ userId: key.userId, noteId: key.noteId }), 'utf8').toString('base64url');
}

function invalid(): never {
  throw new BadRequestError('INVALID_CURSOR', 'cursor is not a cursor this API issued to you; start again without it', {
    issues: [{ field: 'cursor', message: 'malformed or not yours' }],
  });
}

export function decodeCursor(cursor: string, userId: string): CursorKey {
  if (cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    invalid();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) invalid();
  const keys = Object.keys(parsed).sort();
  if (keys.length !== 2 || keys[0] !== 'noteId' || keys[1] !== 'userId') invalid();
  const { userId: cursorUser, noteId } = parsed as Record<string, unknown>;
  if (typeof noteId !== 'string' || !isNoteId(noteId)) invalid();
  if (cursorUser !== userId) invalid();
  return { userId, noteId };
}
