/**
 * True for PostgreSQL's query_canceled (SQLSTATE 57014): a statement ran past the session's
 * statement_timeout (DB_STATEMENT_TIMEOUT_MS), or was cancelled. Its transaction rolled back; the same
 * request may succeed once the database (or the lock it waited for) is free: 503 / UNAVAILABLE, not a
 * 500. MikroORM's DriverException carries the driver's `code`, as does a bare pg error.
 */
export function isStatementTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '57014';
}
