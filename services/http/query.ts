import { z } from 'zod';

/** Query-string schemas shared by the list routes. Objects are strict: an unknown parameter is a 400. */
export const limit = z.coerce.number().int().min(1).max(500).default(50);
export const cursor = z.string().min(1).optional();
// Lower-cased at the edge, so an id compares equal wherever it is kept as text (workflow ids, references).
export const id = z.guid({ message: 'must be a UUID' }).transform((v) => v.toLowerCase());
export const booleanFlag = z.enum(['true', 'false']).transform((v) => v === 'true');
// Years 1 to 9999: what RFC 3339 can write and PostgreSQL's timestamptz can hold (it has no year 0).
export const timestamp = z.iso
  .datetime({ offset: true, message: 'must be an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z' })
  .transform((v) => new Date(v))
  .refine((d) => !Number.isNaN(d.getTime()) && d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999, {
    message: 'must be between years 0001 and 9999',
  });

/** The list envelope every collection answers with. */
export function listResponse<T>(data: T[], nextCursor: string | null) {
  return { data, next_cursor: nextCursor };
}
