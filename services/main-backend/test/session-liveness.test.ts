/**
 * Session liveness answers (decision 0026), with a fake auth and a fake clock: a fresh answer
 * spares the call; while auth cannot answer (503/504), a recent "live" answer is used and no
 * request waits on auth once it is known away; anything else, "not live", too old an answer, no
 * answer at all, or an answer from before the current subscription to ended sessions, is never
 * stood in for.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@warren/shared/errors';
import { createLogger } from '@warren/shared/logger';
import { Writable } from 'node:stream';
import { SessionLiveness } from '../src/http/session-liveness.js';

const SECOND = 1000;

function fakeAuth() {
  const auth = {
    /** What auth answers now: an answer per session, or an error thrown (auth away). */
    answer: new Map<string, boolean>(),
    down: undefined as AppError | undefined,
    /** When set, a call hangs until released (auth frozen). */
    hold: undefined as Promise<void> | undefined,
    calls: 0,
    lines: [] as string[],
    t: 1_000_000,
    /** Since when the replica hears every announced end (undefined: not subscribed). */
    heardSince: 0 as number | undefined,
  };
  const ask = async (sid: string) => {
    auth.calls += 1;
    if (auth.hold) await auth.hold;
    if (auth.down) throw auth.down;
    return auth.answer.get(sid) ?? false;
  };
  const logger = createLogger({
    service: 'test',
    env: 'test',
    level: 'debug',
    stream: new Writable({ write: (chunk, _e, cb) => (auth.lines.push(String(chunk)), cb()) }),
  });
  const liveness = (staleSeconds = 900) =>
    new SessionLiveness({ ask, freshMs: 10 * SECOND, staleMs: staleSeconds * SECOND, heardSince: () => auth.heardSince, logger, now: () => auth.t });
  return { auth, liveness };
}

const timeout = () => AppError.timeout('upstream_timeout');
const unroutable = () => AppError.unavailable('service_unavailable');

describe('session liveness while auth answers', () => {
  it('When an answer is fresh, then auth is not asked again; when it is not, auth is asked', async () => {
    const { auth, liveness } = fakeAuth();
    const l = liveness();
    auth.answer.set('s1', true);
    assert.equal(await l.isLive('s1'), true);
    auth.t += 9 * SECOND;
    assert.equal(await l.isLive('s1'), true);
    assert.equal(auth.calls, 1);
    auth.answer.set('s1', false); // ended, and this replica missed the announcement
    auth.t += 2 * SECOND;
    assert.equal(await l.isLive('s1'), false);
    assert.equal(auth.calls, 2);
  });
});

describe('session liveness while auth cannot answer', () => {
  for (const [name, error] of [
    ['times out (frozen)', timeout],
    ['has no queue bound (killed)', unroutable],
  ] as const) {
    it(`When auth ${name}, then a "live" answer within the stale limit is used`, async () => {
      const { auth, liveness } = fakeAuth();
      const l = liveness(60);
      auth.answer.set('s1', true);
      await l.isLive('s1');
      auth.down = error();
      auth.t += 59 * SECOND;
      assert.equal(await l.isLive('s1'), true);
      assert.ok(auth.lines.some((line) => line.includes('recent \\"live\\" answers are used')), 'said once in the log');
    });
  }

  it('When the answer is older than the stale limit, or there is none, then the 503/504 stands', async () => {
    const { auth, liveness } = fakeAuth();
    const l = liveness(60);
    auth.answer.set('s1', true);
    await l.isLive('s1');
    auth.down = timeout();
    auth.t += 61 * SECOND;
    await assert.rejects(l.isLive('s1'), (err) => err instanceof AppError && err.status === 504);
    await assert.rejects(l.isLive('never-asked'), (err) => err instanceof AppError && err.status === 504);
  });

  it('When the stale limit is 0, then no answer past its freshness is used', async () => {
    const { auth, liveness } = fakeAuth();
    const l = liveness(0);
    auth.answer.set('s1', true);
    await l.isLive('s1');
    auth.down = timeout();
    auth.t += 10 * SECOND;
    await assert.rejects(l.isLive('s1'), (err) => err instanceof AppError && err.status === 504);
  });

  it('When the answer was "not live", then it is never turned into "live"', async () => {
    const { auth, liveness } = fakeAuth();
    const l = liveness();
    await l.isLive('ended');
    auth.down = timeout();
    auth.t += 11 * SECOND;
    await assert.rejects(l.isLive('ended'), (err) => err instanceof AppError && err.status === 504);
  });

  it('When auth fails otherwise (a 500, a bad reply), then no stale answer stands in for it', async () => {
    const { auth, liveness } = fakeAuth();
    const l = liveness();
    auth.answer.set('s1', true);
    await l.isLive('s1');
    auth.down = new AppError({ status: 502, code: 'bad_upstream_reply', title: 'Bad Gateway' });
    auth.t += 11 * SECOND;
    await assert.rejects(l.isLive('s1'), (err) => err instanceof AppError && err.status === 502);
  });

  it('When the subscription to ended sessions was re-established, then no earlier answer is used, fresh or stale', async () => {
    const { auth, liveness } = fakeAuth();
    const l = liveness();
    auth.answer.set('s1', true);
    await l.isLive('s1');
    auth.t += SECOND;
    auth.heardSince = auth.t; // a gap in which an end may have been announced
    auth.answer.set('s1', false);
    assert.equal(await l.isLive('s1'), false, 'asked afresh, though the answer was fresh');
    auth.answer.set('s1', true);
    await l.isLive('s1');
    auth.t += SECOND;
    auth.heardSince = auth.t;
    auth.down = timeout();
    await assert.rejects(l.isLive('s1'), (err) => err instanceof AppError && err.status === 504);
  });

  it('When this replica is not subscribed to ended sessions (its broker connection is down), then no cached answer is used and auth is asked', async () => {
    const { auth, liveness } = fakeAuth();
    const l = liveness();
    auth.answer.set('s1', true);
    await l.isLive('s1');
    auth.heardSince = undefined;
    auth.down = unroutable(); // the RPC cannot go out either
    await assert.rejects(l.isLive('s1'), (err) => err instanceof AppError && err.status === 503);
    // Subscribed again: the earlier answer is still from before the gap.
    auth.t += SECOND;
    auth.heardSince = auth.t;
    await assert.rejects(l.isLive('s1'), (err) => err instanceof AppError && err.status === 503);
    auth.down = undefined;
    assert.equal(await l.isLive('s1'), true);
  });

  it('When auth is known away, then requests with a usable answer do not wait on it; one call at a time finds out when it is back', async () => {
    const { auth, liveness } = fakeAuth();
    const l = liveness();
    for (const sid of ['s1', 's2']) auth.answer.set(sid, true);
    await l.isLive('s1');
    await l.isLive('s2');
    auth.down = timeout();
    auth.t += 11 * SECOND;
    assert.equal(await l.isLive('s1'), true); // this one waited for the failed call
    const calls = auth.calls;

    // Auth frozen: its calls hang. Requests are answered meanwhile, with one call under way.
    let release!: () => void;
    auth.hold = new Promise<void>((resolve) => (release = resolve));
    const answers = await Promise.all([l.isLive('s1'), l.isLive('s2'), l.isLive('s1')]);
    assert.deepEqual(answers, [true, true, true]);
    assert.equal(auth.calls, calls + 1, 'one probe, not one call per request');

    // Auth thaws and answers: the probe's answer is recorded and requests ask again when stale.
    auth.down = undefined;
    auth.answer.set('s1', false);
    release();
    auth.hold = undefined;
    await new Promise((r) => setImmediate(r));
    assert.equal(await l.isLive('s1'), false, 'the probe recorded auth\'s new answer for s1');
    assert.ok(auth.lines.some((line) => line.includes('auth answers session checks again')));
  });
});
