/**
 * Every failure the client reports is a WarrenProblem: the server's RFC 9457 problem details
 * as they came (type, title, status, detail, code, instance, errors), plus `Retry-After` in
 * seconds when the server sent one. Failures that never reached the server have status 0 and
 * a code of the client's own (`network_error`, `not_signed_in`, `invalid_response`).
 * Nothing secret goes into one: no token, no password, no request body.
 */
import type { ProblemDetails } from '@warren/shared/http/problem';
import type { ResponseLike } from './types.js';

export type FieldError = NonNullable<ProblemDetails['errors']>[number];

export class WarrenProblem extends Error {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly instance: string | undefined;
  /** Validation errors: which field, and why. */
  readonly errors: FieldError[];
  /** Seconds to wait before trying again (429, 423, 503), from the Retry-After header. */
  readonly retryAfter: number | null;
  /** On a failed send: the key to send it again with (same key, same body: stored once). */
  readonly idempotencyKey: string | null;

  constructor(problem: Partial<ProblemDetails> & { status: number; code: string }, extra: { retryAfter?: number | null; idempotencyKey?: string | null } = {}) {
    const title = problem.title ?? `HTTP ${problem.status}`;
    const detail = problem.detail ?? title;
    super(detail);
    this.name = 'WarrenProblem';
    this.type = problem.type ?? 'about:blank';
    this.title = title;
    this.status = problem.status;
    this.detail = detail;
    this.code = problem.code;
    this.instance = problem.instance;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.retryAfter = extra.retryAfter ?? null;
    this.idempotencyKey = extra.idempotencyKey ?? null;
  }

  /** The same problem, naming the key a failed send can be retried with. */
  withIdempotencyKey(key: string): WarrenProblem {
    return new WarrenProblem(this, { retryAfter: this.retryAfter, idempotencyKey: key });
  }

  toJSON() {
    const { type, title, status, detail, code, instance, errors, retryAfter, idempotencyKey } = this;
    return { type, title, status, detail, code, instance, errors, retryAfter, idempotencyKey };
  }
}

/** The request never got an answer: offline, refused, timed out. */
export function networkProblem(): WarrenProblem {
  return new WarrenProblem({
    status: 0,
    code: 'network_error',
    title: 'Network error',
    detail: 'The server cannot be reached. Check the connection and try again.',
  });
}

export function notSignedIn(): WarrenProblem {
  return new WarrenProblem({ status: 401, code: 'not_signed_in', title: 'Unauthorized', detail: 'Please sign in.' });
}

/** A problem from an error answer; a body that is not problem details still gives status and title. */
export function problemFrom(res: ResponseLike, body: unknown): WarrenProblem {
  const p = (isObject(body) ? body : {}) as Partial<ProblemDetails>;
  return new WarrenProblem(
    {
      type: typeof p.type === 'string' ? p.type : undefined,
      title: typeof p.title === 'string' ? p.title : res.statusText || `HTTP ${res.status}`,
      status: res.status,
      detail: typeof p.detail === 'string' ? p.detail : undefined,
      code: typeof p.code === 'string' ? p.code : `http_${res.status}`,
      instance: typeof p.instance === 'string' ? p.instance : undefined,
      errors: Array.isArray(p.errors) ? p.errors.filter(isFieldError) : undefined,
    },
    { retryAfter: retryAfterSeconds(res.headers.get('retry-after')) },
  );
}

/** Retry-After as seconds: a number of seconds, or an HTTP date. */
function retryAfterSeconds(value: string | null): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isFieldError(v: unknown): v is FieldError {
  return isObject(v) && typeof v.path === 'string' && typeof v.message === 'string';
}
