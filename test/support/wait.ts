/**
 * Waiting on a condition instead of sleeping a fixed time: a fixed sleep is either too short
 * on a busy CI machine (flaky) or longer than needed everywhere else. `until` polls with a
 * deadline and fails naming what it waited for.
 */
import { sleep } from './http.js';

export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
