/** The reconnect delay: exponential, fully jittered, capped. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, DEFAULT_BACKOFF } from '../src/backoff.js';

const opts = { baseMs: 500, capMs: 30_000, busyMinMs: 15_000 };

describe('backoffDelay', () => {
  it('When random gives its largest value, then the delay doubles per attempt from the base up to the cap', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((a) => backoffDelay(a, opts, () => 1));
    assert.deepEqual(ceilings, [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('When random gives 0, then the delay is 0 (full jitter: anywhere from nothing to the ceiling)', () => {
    assert.equal(backoffDelay(5, opts, () => 0), 0);
    assert.equal(backoffDelay(5, opts, () => 0.5), 8000);
  });

  it('When thousands of clients draw their delay for one attempt, then they spread over the whole range', () => {
    const delays = Array.from({ length: 5000 }, () => backoffDelay(3, opts));
    assert.ok(delays.every((d) => d >= 0 && d <= 4000));
    const buckets = [0, 0, 0, 0];
    for (const d of delays) buckets[Math.min(3, Math.floor(d / 1000))]!++;
    for (const b of buckets) assert.ok(b > 1000, `roughly uniform: ${buckets}`);
  });

  it('When the attempt count is huge or absurd, then the delay stays a finite number at most the cap', () => {
    for (const attempt of [31, 1000, Number.MAX_SAFE_INTEGER]) {
      const d = backoffDelay(attempt, opts, () => 1);
      assert.equal(d, 30_000);
    }
  });

  it('Then the defaults are 0.5 s doubling to 30 s, and 15 s when the server is busy', () => {
    assert.deepEqual(DEFAULT_BACKOFF, opts);
  });
});
