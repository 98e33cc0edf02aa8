/**
 * A database that cannot be reached right now (down, restarting, failing over, out of
 * connections) is a transient condition of ours, not a bug: HTTP answers 503 with Retry-After
 * (and an RPC error reply carries the same), where any other unexpected error stays a logged
 * 500. Which errors mean "out of reach" is decided in one place, the consumers' failure
 * classifier (messaging/failure-kind.ts), so HTTP, RPC and the consumers agree.
 */
import { AppError } from '../errors.js';
import { isUnavailable } from '../messaging/failure-kind.js';

/** Seconds a client is asked to wait before retrying while the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * True if `err` (or its cause) says the database cannot be reached now, so a retry later may
 * succeed: SQLSTATE class 08, 53, 57P01-57P03, socket errors such as ECONNREFUSED, and
 * node-postgres's own "Connection terminated" / pool connect timeout.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  return !(err instanceof AppError) && isUnavailable(err);
}

/** The error clients get while the database is unavailable: 503 with Retry-After. */
export function databaseUnavailable(): AppError {
  return new AppError({
    status: 503,
    code: 'database_unavailable',
    title: 'Service Unavailable',
    detail: 'The database is unavailable for a moment; try again.',
    headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
  });
}
