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

/**
 * What each value of a cursor's key must be, so a crafted cursor is refused here, as the caller's
 * mistake, instead of failing a query: a uuid, an exact timestamp (as the queries write them), or a
 * short text such as a code.
 */
export type CursorPart = 'uuid' | 'timestamp' | 'text';

const partPatterns: Record<CursorPart, RegExp> = {
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  timestamp: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/,
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what it refuses (PostgreSQL cannot store it)
  text: /^[^\u0000]{0,400}$/,
};

/** Decodes a cursor made by encodeCursor whose key has these parts; anything else is the caller's mistake. */
export function decodeCursor(cursor: string, shape: readonly CursorPart[]): string[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(key) &&
      key.length === shape.length &&
      key.every((v, i) => {
        const part = shape[i];
        return typeof v === 'string' && part !== undefined && partPatterns[part].test(v) && validPart(part, v);
      })
    )
      return key as string[];
  } catch {
    // fall through to the error below: a cursor that does not parse is as bad as one of the wrong shape
  }
  throw new InvalidArgumentError('the page cursor is not one this service issued; start again without it', {
    field: 'cursor',
  });
}

function validPart(part: CursorPart, value: string): boolean {
  if (part !== 'timestamp') return true;
  const year = Number(value.slice(0, 4));
  return year >= 1 && !Number.isNaN(Date.parse(value));
}

/** Given `limit + 1` rows, returns at most `limit` and the cursor of the last one when more follow. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  sortKey: (row: R) => (string | number)[],
  map: (row: R) => T,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(map), nextCursor: rows.length > limit && last ? encodeCursor(sortKey(last)) : null };
}
