/**
 * What a consumer does with a failed message depends only on why it failed, decided here:
 * - `permanent`: retrying cannot help (a PermanentError, an AppError refusing the content, or
 *   PostgreSQL refusing the data itself, e.g. U+0000 in text or jsonb): dead-letter at once,
 *   with the reason.
 * - `unavailable`: a dependency cannot be reached (database down, restarting, out of
 *   connections; a 503/504 from another service). Nothing is wrong with the message, so it is
 *   retried through the delay queues for as long as the outage lasts, never dead-lettered.
 * - `transient`: anything else (a bug, a deadlock, a timeout): retried with backoff up to the
 *   consumer's maxAttempts, then dead-lettered.
 */
import { AppError } from '../errors.js';

/**
 * Throw this from a handler when retrying cannot help: the message is dead-lettered at once,
 * with `reason` (a stable code for logs and metrics; `permanent_error` unless given).
 */
export class PermanentError extends Error {
  constructor(
    message: string,
    readonly reason = 'permanent_error',
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}

/** Throw this from a handler when a dependency is out of reach: the message waits in the delay queues, however long. */
export class UnavailableError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'UnavailableError';
  }
}

export type FailureKind =
  | { kind: 'permanent'; reason: string }
  | { kind: 'unavailable' }
  | { kind: 'transient' };

/**
 * SQLSTATEs that mean "the server cannot serve you now": class 08 (connection exception),
 * 57P01-57P03 (admin/crash shutdown, cannot connect now: starting up or shutting down),
 * class 53 (out of connections, disk, memory) and 58 (I/O error on the server).
 */
function unavailableSqlState(code: string): boolean {
  return code.startsWith('08') || code.startsWith('53') || code.startsWith('58') || /^57P0[123]$/.test(code);
}

/**
 * SQLSTATEs that mean "this data can never be stored": class 22 (data exception: 22P05
 * untranslatable character, 22021 bad byte sequence, 22001 too long, ...), NOT NULL and CHECK
 * violations, and 54xxx program limits (an index row or a tsvector too big, nesting too deep).
 * A unique or foreign-key violation is not here: those can depend on timing.
 */
function dataSqlState(code: string): boolean {
  return code.startsWith('22') || code === '23502' || code === '23514' || code === '54000' || code === '54001';
}

/** Socket errors from the operating system while reaching a dependency. */
const UNREACHABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** node-postgres reports a lost or never-made connection by message only (no code). */
const PG_CONNECTION_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /Connection terminated/i,
  /Query read timeout/i, // node-postgres's query_timeout: the connection stopped answering
  /not queryable/i, // "Client has encountered a connection error and is not queryable"
];

const SQLSTATE = /^[0-9A-Z]{5}$/;

export function classifyFailure(err: unknown): FailureKind {
  if (err instanceof PermanentError) return { kind: 'permanent', reason: err.reason };
  // A use case refusing the content (400, 413, 422) refuses it every time.
  if (err instanceof AppError && [400, 413, 422].includes(err.status)) return { kind: 'permanent', reason: 'permanent_error' };
  if (isUnavailable(err)) return { kind: 'unavailable' };
  const code = codeOf(err);
  if (code !== undefined && SQLSTATE.test(code) && dataSqlState(code)) return { kind: 'permanent', reason: 'data_error' };
  return { kind: 'transient' };
}

/** True when `err` (or its cause, or any error it aggregates) says a dependency is out of reach. */
export function isUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  if (err instanceof UnavailableError) return true;
  if (err instanceof AppError) return err.status === 503 || err.status === 504;
  const code = codeOf(err);
  if (code !== undefined) {
    if (UNREACHABLE_ERRNO.has(code)) return true;
    // A Unix socket that is gone (the server stopped), not any missing file.
    if (code === 'ENOENT' && (err as { syscall?: unknown }).syscall === 'connect') return true;
    if (SQLSTATE.test(code) && unavailableSqlState(code)) return true;
  }
  const message = (err as { message?: unknown }).message;
  if (typeof message === 'string' && PG_CONNECTION_MESSAGES.some((re) => re.test(message))) return true;
  const { cause, errors } = err as { cause?: unknown; errors?: unknown };
  if (isUnavailable(cause, depth + 1)) return true;
  return Array.isArray(errors) && errors.length > 0 && errors.every((e) => isUnavailable(e, depth + 1));
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
