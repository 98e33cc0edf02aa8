/**
 * How long a live subscription waits before reconnecting: exponential backoff with full
 * jitter (a random delay between 0 and base·2^attempt, capped), so that the thousands of
 * clients one replica restart drops do not all return in the same instant.
 */
import type { BackoffOptions } from './types.js';

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000, busyMinMs: 15_000 };

/** `attempt` counts failed tries since the socket was last ready, from 0. */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(random() * ceiling);
}
