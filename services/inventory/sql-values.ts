/**
 * Raw SQL through the ORM returns timestamptz as PostgreSQL's text (e.g. '2026-01-31 12:00:00.123+00');
 * rows read that way are normalized here.
 */
export function toDate(value: string | Date): Date {
  return value instanceof Date ? value : new Date(value);
}
