/**
 * The level of an HTTP request's log line. Health checks and metrics scrapes arrive every few
 * seconds from orchestrators and Prometheus: at info they would bury the requests people read,
 * so they are logged at debug. A scrape answered 5xx (a replica not ready) stays at info: it is
 * news, and its cause is logged on its own anyway. Kept apart from the HTTP layer so whichever
 * framework serves the requests calls the same rule.
 */
const SCRAPE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export type RequestLogLevel = 'debug' | 'info';

/** `path` as requested (a query string, a trailing slash and letter case are ignored, as routing does). */
export function requestLogLevel(path: string, status: number): RequestLogLevel {
  const q = path.indexOf('?');
  const bare = (q < 0 ? path : path.slice(0, q)).replace(/\/+$/, '').toLowerCase();
  return SCRAPE_PATHS.has(bare) && status < 500 ? 'debug' : 'info';
}
