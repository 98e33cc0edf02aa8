/**
 * One JSON request: sends the body as JSON, reads the answer, and turns every failure into a
 * WarrenProblem (an error answer's problem details, or `network_error` when there was no
 * answer, including a timeout). Authentication and retries are the session's business.
 */
import { networkProblem, problemFrom, WarrenProblem } from './problem.js';
import type { FetchLike } from './types.js';

export interface RequestOptions {
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

export class Http {
  constructor(
    private readonly fetch: FetchLike,
    private readonly timeoutMs: number,
  ) {}

  async request<T>(method: string, url: string, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...opts.headers };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let res;
    try {
      res = await this.fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: timeoutSignal(this.timeoutMs),
        // Answers carry tokens and inboxes: never from or into an HTTP cache.
        cache: 'no-store',
      });
    } catch {
      // The cause (a DNS name, an abort) says nothing the caller can act on, and is not passed on.
      throw networkProblem();
    }
    let text: string;
    try {
      text = await res.text();
    } catch {
      throw networkProblem();
    }
    let json: unknown;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
        if (res.ok) throw invalidResponse(res.status);
      }
    }
    if (!res.ok) throw problemFrom(res, json);
    return json as T;
  }
}

function invalidResponse(status: number): WarrenProblem {
  return new WarrenProblem({ status, code: 'invalid_response', title: 'Invalid response', detail: 'The server answered something that is not JSON.' });
}

function timeoutSignal(ms: number): AbortSignal | undefined {
  return typeof AbortSignal !== 'undefined' && typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(ms) : undefined;
}
