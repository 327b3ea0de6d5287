import { canonicalHash } from '../../domain/shared/canonical-json';
import { DomainError } from '../../domain/shared/domain-error';

export const DEFAULT_LIMIT = 100;

export type ListResponse<T> = { items: T[]; nextCursor?: string };

type CursorPayload = { e: string; f: string; k: unknown[] };

/**
 * Keyset cursors (§0.10): opaque base64url (no padding) of the last item's sort key, bound to the
 * endpoint and to a hash of the filter values.
 */
export function encodeCursor(endpoint: string, filters: Record<string, unknown>, sortKey: unknown[]): string {
  const payload: CursorPayload = { e: endpoint, f: filtersHash(filters), k: sortKey };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

/** The sort key the cursor encodes; 400 `invalid_cursor` for anything else (§0.10). */
export function decodeCursor(cursor: string, endpoint: string, filters: Record<string, unknown>): unknown[] {
  let payload: CursorPayload;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorPayload;
  } catch {
    throw invalidCursor('cursor is not a valid cursor');
  }
  if (typeof payload !== 'object' || payload === null || !Array.isArray(payload.k) || typeof payload.e !== 'string') {
    throw invalidCursor('cursor is not a valid cursor');
  }
  if (payload.e !== endpoint) throw invalidCursor('cursor was issued by another endpoint');
  if (payload.f !== filtersHash(filters)) throw invalidCursor('cursor was issued for different filter values');
  return payload.k;
}

/** A cursor whose sort key is `size` strings (e.g. `[createdAt, id]`); anything else is `invalid_cursor`. */
export function decodeStringCursor(cursor: string, endpoint: string, filters: Record<string, unknown>, size: number): string[] {
  const key = decodeCursor(cursor, endpoint, filters);
  if (key.length !== size || !key.every((part) => typeof part === 'string')) throw invalidCursor('cursor is not a valid cursor');
  return key as string[];
}

export function parseLimit(limit: string | undefined): number {
  return limit === undefined ? DEFAULT_LIMIT : Number(limit);
}

/**
 * Builds a page from up to `limit + 1` rows read after the cursor position: the extra row only tells
 * that a next page exists. `nextCursor` is omitted at the end, never null.
 */
export function toPage<R, T>(rows: R[], limit: number, cursorFor: (row: R) => string, toItem: (row: R) => T): ListResponse<T> {
  const pageRows = rows.slice(0, limit);
  const page: ListResponse<T> = { items: pageRows.map(toItem) };
  if (rows.length > limit && pageRows.length > 0) page.nextCursor = cursorFor(pageRows[pageRows.length - 1]);
  return page;
}

function filtersHash(filters: Record<string, unknown>): string {
  const present = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined && v !== null));
  return canonicalHash(present).slice(0, 16);
}

function invalidCursor(message: string): DomainError {
  return new DomainError('VALIDATION_ERROR', message, {
    reason: 'invalid_cursor',
    errors: [{ location: 'query', path: 'cursor', message }],
  });
}
