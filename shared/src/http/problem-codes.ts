/**
 * Every problem `code` a client can meet over HTTP, with its status and what it means: the one
 * list the generated API documents take their error answers from. Route specs name the codes
 * they answer (typed, so a typo does not compile); a test finds every code thrown in the source
 * and fails for one missing here or listed under another status.
 */
export interface ProblemCodeInfo {
  status: number;
  /** The problem's `title` (AppError sets it per status, bar validation_failed). */
  title: string;
  description: string;
}

function code(status: number, title: string, description: string): ProblemCodeInfo {
  return { status, title, description };
}

export const PROBLEM_CODES = {
  bad_request: code(400, 'Bad Request', 'The request could not be read.'),
  malformed_json: code(400, 'Bad Request', 'The body is not valid JSON.'),
  validation_failed: code(400, 'Validation Failed', 'A field, query parameter or header is not valid: `errors` names each with its path.'),
  invalid_text: code(400, 'Bad Request', 'Text in the body, or an encoded %00 in the URL, holds U+0000 or an unpaired UTF-16 surrogate.'),
  body_too_deep: code(400, 'Bad Request', 'The body nests more than 40 levels.'),
  invalid_code: code(400, 'Bad Request', 'The emailed code is wrong or has already been used.'),
  code_expired: code(400, 'Bad Request', 'The emailed code has expired: ask for a new one.'),
  invalid_rpc_request: code(400, 'Bad Request', 'The auth service refused the request as malformed.'),
  unauthorized: code(401, 'Unauthorized', 'Authentication is required.'),
  missing_token: code(401, 'Unauthorized', 'No Bearer access token was sent.'),
  invalid_token: code(401, 'Unauthorized', 'The access token is not valid (signature, issuer, audience or form).'),
  token_expired: code(401, 'Unauthorized', 'The access token has expired: refresh it.'),
  session_ended: code(401, 'Unauthorized', 'The session of this token has ended (logout, password reset, demotion): log in again.'),
  invalid_credentials: code(401, 'Unauthorized', 'The email or the password is wrong (one answer for both).'),
  invalid_refresh_token: code(401, 'Unauthorized', 'The refresh token is unknown or expired.'),
  refresh_token_reused: code(401, 'Unauthorized', 'The refresh token was already rotated: its whole session has been ended.'),
  forbidden: code(403, 'Forbidden', 'Not allowed.'),
  missing_permission: code(403, 'Forbidden', "The token's scope lacks the permission this needs."),
  email_not_verified: code(403, 'Forbidden', 'The email address is not verified yet.'),
  not_found: code(404, 'Not Found', 'The resource does not exist.'),
  route_not_found: code(404, 'Not Found', 'No such route.'),
  session_not_found: code(404, 'Not Found', 'No such session of this user.'),
  user_not_found: code(404, 'Not Found', 'No such user.'),
  notification_not_found: code(404, 'Not Found', 'No such notification in this user\'s inbox.'),
  request_timeout: code(408, 'Request Timeout', 'The request took too long to arrive.'),
  last_admin: code(409, 'Conflict', 'The last administrator cannot be demoted.'),
  payload_too_large: code(413, 'Payload Too Large', 'The body is larger than HTTP_BODY_LIMIT.'),
  unsupported_media_type: code(415, 'Unsupported Media Type', 'The body is not application/json.'),
  idempotency_key_reused: code(422, 'Unprocessable Content', 'This Idempotency-Key was used with a different body.'),
  account_locked: code(423, 'Locked', 'Too many failed logins from this address: locked until Retry-After.'),
  rate_limited: code(429, 'Too Many Requests', 'Too many requests from this address this minute (AUTH_RATE_LIMIT_PER_MINUTE): wait Retry-After seconds.'),
  login_throttled: code(429, 'Too Many Requests', 'Failed logins from this address are slowed down: wait Retry-After seconds.'),
  too_many_attempts: code(429, 'Too Many Requests', 'Too many wrong codes for this address: wait Retry-After seconds.'),
  headers_too_large: code(431, 'Request Header Fields Too Large', 'The request headers are too large.'),
  internal_error: code(500, 'Internal Server Error', 'Something went wrong on our side (the cause is logged, never sent).'),
  unknown_method: code(501, 'Not Implemented', 'The auth service does not know this request (a rolling deploy in progress).'),
  bad_upstream_reply: code(502, 'Bad Gateway', 'A service answered in an unexpected form.'),
  service_unavailable: code(503, 'Service Unavailable', 'No replica of a service needed is serving: retry later.'),
  broker_unavailable: code(503, 'Service Unavailable', 'The message broker is unavailable: retry after Retry-After seconds (a send: with the Idempotency-Key of the answer).'),
  database_unavailable: code(503, 'Service Unavailable', 'A database is unavailable for a moment: retry after Retry-After seconds.'),
  keys_unavailable: code(503, 'Service Unavailable', "The token's signing key cannot be looked up right now: retry (do not log out)."),
  shutting_down: code(503, 'Service Unavailable', 'This replica is shutting down: retry (another replica answers).'),
  upstream_timeout: code(504, 'Gateway Timeout', 'A service did not answer in time: retry.'),
} as const satisfies Record<string, ProblemCodeInfo>;

export type ProblemCode = keyof typeof PROBLEM_CODES;

/** What reaching the auth service over RPC can answer besides the method's own errors. */
export const AUTH_RPC_PROBLEMS: readonly ProblemCode[] = [
  'invalid_rpc_request',
  'unknown_method',
  'bad_upstream_reply',
  'service_unavailable',
  'broker_unavailable',
  'database_unavailable',
  'shutting_down',
  'upstream_timeout',
];
