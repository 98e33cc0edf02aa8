/**
 * The per-IP limit on the unauthenticated auth endpoints is counted in main-backend's database,
 * so two replicas behind one gateway allow an address the limit once, not once each. The second
 * replica is a process of its own: the two share nothing but the database, as on two hosts.
 * Behind TRUST_PROXY=1 the address is the one the proxy appended to X-Forwarded-For; entries a
 * client wrote before it change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, type JsonResponse } from '../support/http.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { startStack, type Stack } from '../support/stack.js';

const LIMIT = 4;

describe('per-IP rate limit across main-backend replicas', () => {
  let stack: Stack;
  let second: ServiceProcess;
  before(async () => {
    stack = await startStack({ AUTH_RATE_LIMIT_PER_MINUTE: String(LIMIT), TRUST_PROXY: '1' });
    second = await startServiceProcess('main-backend', { ...stack.env, LOG_LEVEL: 'info' });
  });
  after(async () => {
    await second?.stop();
    await stack?.stop();
  });

  /** What the gateway sends on: the client's own X-Forwarded-For (if any), then the address it saw. */
  const forgot = (base: string, ip: string, n: number, clientXff?: string) =>
    call(`${base}/auth/password/forgot`, {
      body: { email: `r${n}@warren.test` },
      headers: { 'x-forwarded-for': clientXff ? `${clientXff}, ${ip}` : ip },
    });
  /** `r` of the draft-8 RateLimit header: what this address has left in the window. */
  const remaining = (res: JsonResponse) => Number(/;\s*r=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1]);
  const retryAfter = (res: JsonResponse) => Number(res.headers.get('retry-after'));

  it('When one address alternates its requests over two replicas, then the limit holds for the sum, with one window; another address is still served', async () => {
    // Arrange: the limit is 4 a minute; two requests on each replica, alternated, use it up.
    const ip = '203.0.113.7';
    const replicas = [stack.mainUrl, second.url];
    const within: JsonResponse[] = [];
    for (let n = 0; n < LIMIT; n++) within.push(await forgot(replicas[n % 2] as string, ip, n));

    // Act
    const onFirst = await forgot(stack.mainUrl, ip, 5);
    const onSecond = await forgot(second.url, ip, 6);
    const otherAddress = await forgot(second.url, '203.0.113.8', 7);

    // Assert: each replica counted the other's requests
    assert.deepEqual(
      within.map((r) => r.status),
      [202, 202, 202, 202],
    );
    assert.deepEqual(within.map(remaining), [3, 2, 1, 0], 'each answer counts the requests the other replica took');
    for (const [name, res] of [
      ['the fifth request, the third on the first replica', onFirst],
      ['the sixth, the third on the second replica', onSecond],
    ] as const) {
      assert.equal(res.status, 429, name);
      assert.equal(res.body.code, 'rate_limited', name);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.ok(retryAfter(res) >= 1 && retryAfter(res) <= 60, `${name}: Retry-After ${retryAfter(res)}`);
    }
    assert.ok(Math.abs(retryAfter(onFirst) - retryAfter(onSecond)) <= 1, 'both replicas name the end of one shared window');
    assert.equal(otherAddress.status, 202, 'X-Forwarded-For names the client behind TRUST_PROXY=1');
  });

  it('When one address sends a burst at both replicas at once, then exactly the limit is accepted in sum', async () => {
    // Act: 12 requests at the same moment, every other one on each replica
    const ip = '203.0.113.20';
    const answers = await Promise.all(Array.from({ length: 12 }, (_, n) => forgot(n % 2 ? second.url : stack.mainUrl, ip, 100 + n)));

    // Assert: counting is atomic in the shared store, not read-then-write per replica
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [...Array(LIMIT).fill(202), ...Array(12 - LIMIT).fill(429)]);
  });

  it('When a client writes its own X-Forwarded-For entries, different on every request, then its requests still count as its address', async () => {
    // Act: a client rotating a forged first entry, over both replicas
    const ip = '203.0.113.30';
    const answers: number[] = [];
    for (let n = 0; n < LIMIT + 2; n++) answers.push((await forgot(n % 2 ? second.url : stack.mainUrl, ip, 200 + n, `198.51.100.${n}`)).status);

    // Assert
    assert.deepEqual(answers, [...Array(LIMIT).fill(202), 429, 429]);
  });
});
