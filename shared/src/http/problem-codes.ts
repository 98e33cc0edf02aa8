/**
 * The problem codes the platform kit itself answers (HTTP edge, RPC, database), with status,
 * title and meaning: the part of an API's problem catalogue every service shares. A service's
 * own codes join them in its catalogue (Warren's: shared/src/contracts/problem-codes.ts), which
 * the generated documents take their error answers from.
 */
export interface ProblemCodeInfo {
  status: number;
  /** The problem's `title` (AppError sets it per status, bar validation_failed). */
  title: string;
  description: string;
}

export type ProblemCatalog = Record<string, ProblemCodeInfo>;

export function problem(status: number, title: string, description: string): ProblemCodeInfo {
  return { status, title, description };
}

export const KIT_PROBLEM_CODES = {
  bad_request: problem(400, 'Bad Request', 'The request could not be read.'),
  malformed_json: problem(400, 'Bad Request', 'The body is not valid JSON.'),
  validation_failed: problem(400, 'Validation Failed', 'A field, query parameter or header is not valid: `errors` names each with its path.'),
  invalid_text: problem(400, 'Bad Request', 'Text in the body, or an encoded %00 in the URL, holds U+0000 or an unpaired UTF-16 surrogate.'),
  body_too_deep: problem(400, 'Bad Request', 'The body nests more than 40 levels.'),
  invalid_rpc_request: problem(400, 'Bad Request', 'A service asked over RPC refused the request as malformed.'),
  unauthorized: problem(401, 'Unauthorized', 'Authentication is required.'),
  forbidden: problem(403, 'Forbidden', 'Not allowed.'),
  not_found: problem(404, 'Not Found', 'The resource does not exist.'),
  route_not_found: problem(404, 'Not Found', 'No such route.'),
  request_timeout: problem(408, 'Request Timeout', 'The request took too long to arrive.'),
  payload_too_large: problem(413, 'Payload Too Large', 'The body is larger than HTTP_BODY_LIMIT.'),
  unsupported_media_type: problem(415, 'Unsupported Media Type', 'The body is not application/json.'),
  headers_too_large: problem(431, 'Request Header Fields Too Large', 'The request headers are too large.'),
  internal_error: problem(500, 'Internal Server Error', 'Something went wrong on our side (the cause is logged, never sent).'),
  unknown_method: problem(501, 'Not Implemented', 'A service asked over RPC does not know the request (a rolling deploy in progress).'),
  bad_upstream_reply: problem(502, 'Bad Gateway', 'A service answered in an unexpected form.'),
  service_unavailable: problem(503, 'Service Unavailable', 'No replica of a service needed is serving: retry later.'),
  broker_unavailable: problem(503, 'Service Unavailable', 'The message broker is unavailable: retry after Retry-After seconds.'),
  database_unavailable: problem(503, 'Service Unavailable', 'A database is unavailable for a moment: retry after Retry-After seconds.'),
  shutting_down: problem(503, 'Service Unavailable', 'This replica is shutting down: retry (another replica answers).'),
  upstream_timeout: problem(504, 'Gateway Timeout', 'A service did not answer in time: retry.'),
} as const satisfies ProblemCatalog;

/** What asking another service over RPC can answer besides that method's own errors. */
export const RPC_PROBLEMS = [
  'invalid_rpc_request',
  'unknown_method',
  'bad_upstream_reply',
  'service_unavailable',
  'broker_unavailable',
  'database_unavailable',
  'shutting_down',
  'upstream_timeout',
] as const satisfies readonly (keyof typeof KIT_PROBLEM_CODES)[];
