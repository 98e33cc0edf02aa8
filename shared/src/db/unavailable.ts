/**
 * Telling "the database cannot be reached right now" apart from every other database error.
 * A database that is down, restarting, failing over or out of connections is a transient
 * condition of ours, not a bug: HTTP answers 503 with Retry-After (and an RPC error reply
 * carries the same), where any other unexpected error stays a logged 500.
 */
import { AppError } from '../errors.js';

/** Seconds a client is asked to wait before retrying while the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * SQLSTATEs of an unreachable or unusable server: class 08 (connection exception),
 * 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or in
 * recovery), 53300 too_many_connections.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** Socket-level errors on the way to the server (a name that does not resolve: its container is down). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/** Errors node-postgres (pg, pg-pool) raises itself, without a code, when a connection is lost or cannot be had. */
const DRIVER_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

/** True if `err` (or its cause) says the database is unreachable, so a retry later may succeed. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, hops = 0; e && typeof e === 'object' && hops < 5; e = (e as { cause?: unknown }).cause, hops++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (code.startsWith('08') && code.length === 5) return true;
      if (UNAVAILABLE_SQLSTATES.has(code) || NETWORK_CODES.has(code)) return true;
      // A Unix socket path that is gone (the server stopped), not any missing file.
      if (code === 'ENOENT' && (e as { syscall?: unknown }).syscall === 'connect') return true;
    }
    // Node's AggregateError (connecting to several addresses, e.g. localhost as ::1 and 127.0.0.1).
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.some(isDatabaseUnavailable)) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && DRIVER_MESSAGES.some((m) => message.startsWith(m))) return true;
  }
  return false;
}

/** The error clients get while the database is unavailable: 503 with Retry-After. */
export function databaseUnavailable(): AppError {
  return new AppError(
    503,
    'database_unavailable',
    'Service Unavailable',
    'The database is unavailable for a moment; try again.',
    undefined,
    { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
  );
}
