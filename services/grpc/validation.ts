import { z } from 'zod';

/** Field schemas shared by the gRPC handlers. Messages name what a caller must fix. */
// z.guid, not z.uuid: ids come from other services, and PostgreSQL's uuid takes any 8-4-4-4-12 hex id.
// Ids are lower-cased at the edge: the database compares them as text in places (workflow ids, references).
export const uuid = (field: string) => z.guid({ message: `${field} must be a UUID` }).transform((v) => v.toLowerCase());
export const optionalUuid = (field: string) => z.union([z.literal(''), uuid(field)]).transform((v) => v || undefined);
export const pageSize = z
  .number()
  .int()
  .min(0)
  .max(500, { message: 'page_size must be at most 500' })
  .transform((v) => v || 100);
// Years 1 to 9999: what PostgreSQL's timestamptz can hold (it has no year 0).
export const optionalTimestamp = (field: string) =>
  z
    .union([
      z.literal(''),
      z.iso.datetime({ offset: true, message: `${field} must be an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z` }),
    ])
    .transform((v) => (v ? new Date(v) : undefined))
    .refine((d) => d === undefined || (d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999), {
      message: `${field} must be between years 0001 and 9999`,
    });

/**
 * A request's lines under their v1.1 name `lines`, or, while it is empty, under the deprecated v1.0 name
 * `items` (read until v1.2): the schemas read `items`, so `lines` is copied there when given.
 */
export function linesFirst<T extends { lines?: unknown[] | null; items?: unknown[] | null }>(request: T): T {
  return request.lines?.length ? { ...request, items: request.lines } : request;
}
