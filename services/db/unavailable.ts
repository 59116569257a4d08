/**
 * True when a query failed because PostgreSQL could not be reached or dropped the connection, not because of
 * the request: a refused or reset socket, a connection lost mid-statement (its transaction rolled back; only a
 * COMMIT whose answer was lost may have taken effect: README, Failure model), no pooled connection
 * within the acquire timeout, a server shutting down, crashed or still recovering (SQLSTATE class 08, 57P01–
 * 57P03), or out of connections (53300). The same request may succeed once the database is back: 503 /
 * UNAVAILABLE, not a 500. MikroORM's DriverException carries the driver's `code` and message, as does a bare
 * pg error; pg's own connection errors carry no code, only these messages.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (/^08[0-9A-Z]{3}$/.test(code) || /^57P0[123]$/.test(code) || code === '53300'))
    return true;
  if (typeof code === 'string' && socketErrors.has(code)) return true;
  return typeof message === 'string' && connectionLost.test(message);
}

const socketErrors = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

// pg (client.js) and pg-pool (index.js) raise these without a code.
const connectionLost =
  /^(Connection terminated( unexpectedly| due to connection timeout)?|Client has encountered a connection error and is not queryable|timeout exceeded when trying to connect)/;
