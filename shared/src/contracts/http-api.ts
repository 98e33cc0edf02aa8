/**
 * What every Warren HTTP API document shares: the release it describes, the catalogue of
 * problem codes (the kit's and Warren's own), what the token guards answer, and the bearer
 * scheme. `warrenApi` completes a service's ApiDefinition with them; a route naming a code not in
 * the catalogue stops the service at start.
 */
import { KIT_PROBLEM_CODES, problem, RPC_PROBLEMS } from '../http/problem-codes.js';
import type { ApiDefinition } from '../http/route-spec.js';

/** The release the documents describe: the newest entry of the README's changelog (a test keeps them equal). */
export const API_VERSION = '0.5.0';

export const PROBLEM_CODES = {
  ...KIT_PROBLEM_CODES,
  missing_token: problem(401, 'Unauthorized', 'No Bearer access token was sent.'),
  invalid_token: problem(401, 'Unauthorized', 'The access token is not valid (signature, issuer, audience or form).'),
  token_expired: problem(401, 'Unauthorized', 'The access token has expired: refresh it.'),
  session_ended: problem(401, 'Unauthorized', 'The session of this token has ended (logout, password reset, demotion): log in again.'),
  invalid_credentials: problem(401, 'Unauthorized', 'The email or the password is wrong (one answer for both).'),
  invalid_refresh_token: problem(401, 'Unauthorized', 'The refresh token is unknown or expired.'),
  refresh_token_reused: problem(401, 'Unauthorized', 'The refresh token was already rotated: its whole session has been ended.'),
  invalid_code: problem(400, 'Bad Request', 'The emailed code is wrong or has already been used.'),
  code_expired: problem(400, 'Bad Request', 'The emailed code has expired: ask for a new one.'),
  missing_permission: problem(403, 'Forbidden', "The token's scope lacks the permission this needs."),
  email_not_verified: problem(403, 'Forbidden', 'The email address is not verified yet.'),
  session_not_found: problem(404, 'Not Found', 'No such session of this user.'),
  user_not_found: problem(404, 'Not Found', 'No such user.'),
  notification_not_found: problem(404, 'Not Found', "No such notification in this user's inbox."),
  send_not_found: problem(404, 'Not Found', 'No such send of this user (or not stored yet): the same answer whoever else sent it.'),
  last_admin: problem(409, 'Conflict', 'The last administrator cannot be demoted.'),
  idempotency_key_reused: problem(422, 'Unprocessable Content', 'This Idempotency-Key was used with a different body.'),
  account_locked: problem(423, 'Locked', 'Too many failed logins from this address: locked until Retry-After.'),
  rate_limited: problem(429, 'Too Many Requests', 'Too many requests from this address this minute (AUTH_RATE_LIMIT_PER_MINUTE): wait Retry-After seconds.'),
  login_throttled: problem(429, 'Too Many Requests', 'Failed logins from this address are slowed down: wait Retry-After seconds.'),
  too_many_attempts: problem(429, 'Too Many Requests', 'Too many wrong codes for this address: wait Retry-After seconds.'),
  keys_unavailable: problem(503, 'Service Unavailable', "The token's signing key cannot be looked up right now: retry (do not log out)."),
};

export type ProblemCode = keyof typeof PROBLEM_CODES;

/** What reaching the auth service over RPC can answer besides the method's own errors. */
export const AUTH_RPC_PROBLEMS: readonly ProblemCode[] = RPC_PROBLEMS;

/** Typed lists of codes: a typo does not compile. */
export function problemCodes(...codes: (ProblemCode | readonly ProblemCode[])[]): ProblemCode[] {
  return codes.flat();
}

export function warrenApi(api: Pick<ApiDefinition, 'title' | 'description' | 'routes' | 'schemas' | 'docs'>): ApiDefinition {
  return {
    ...api,
    version: API_VERSION,
    problems: PROBLEM_CODES,
    // What requireAuth and requirePermission (shared/src/auth/require-auth.ts) answer.
    guardProblems: { token: ['missing_token', 'invalid_token', 'token_expired', 'session_ended', 'keys_unavailable'], permission: ['missing_permission'] },
    bearerDescription: 'The `accessToken` of the main backend\u2019s POST /login (or /auth/refresh): an ES256 JWT, valid for ACCESS_TOKEN_TTL seconds.',
  };
}
