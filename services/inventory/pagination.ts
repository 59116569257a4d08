import { InvalidArgumentError } from './errors.ts';

/**
 * Keyset pagination: a page ends with an opaque cursor naming the last row's sort key, and the next
 * page starts strictly after it. Unlike offsets, pages stay stable while rows are inserted.
 */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function encodeCursor(key: (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a cursor made by encodeCursor with `arity` values; anything else is the caller's mistake. */
export function decodeCursor(cursor: string, arity: number): (string | number)[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity && key.every((v) => typeof v === 'string' || typeof v === 'number')) return key;
  } catch {
    // fall through to the error below: a cursor that does not parse is as bad as one of the wrong shape
  }
  throw new InvalidArgumentError('the page cursor is not one this service issued; start again without it', { field: 'cursor' });
}

/** Given `limit + 1` rows, returns at most `limit` and the cursor of the last one when more follow. */
export function toPage<R, T>(rows: R[], limit: number, sortKey: (row: R) => (string | number)[], map: (row: R) => T): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(map), nextCursor: rows.length > limit && last ? encodeCursor(sortKey(last)) : null };
}
