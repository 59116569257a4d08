/**
 * Reads what the caller knows is there: an element at an index in range, the row of a statement that always
 * returns one (an aggregate, `insert … returning`). Should it be missing after all, these throw an error that
 * names it, where a `!` would let `undefined` run on.
 */

/** `items[index]`, for an index the caller guarantees is in range. */
export function itemAt<T>(items: readonly T[], index: number, what: string): T {
  const item = items[index];
  if (item === undefined) throw new Error(`${what}: nothing at index ${index} of ${items.length}`);
  return item;
}

/** The first row of a statement that always returns one. */
export function firstRow<T>(rows: readonly T[], what: string): T {
  const [row] = rows;
  if (row === undefined) throw new Error(`${what} returned no row`);
  return row;
}
