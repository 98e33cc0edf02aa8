/**
 * The per-IP limit on the unauthenticated auth endpoints is counted in main-backend's database,
 * so two replicas behind one gateway allow an address the limit once, not once each. Behind
 * TRUST_PROXY=1 the address is the one the proxy put in X-Forwarded-For.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadMainConfig } from '../../services/main-backend/src/config.js';
import { createMainBackendService, type MainBackendService } from '../../services/main-backend/src/service.js';
import { call } from '../support/http.js';
import { captureLogs } from '../support/logs.js';
import { startStack, type Stack } from '../support/stack.js';

describe('per-IP rate limit across main-backend replicas', () => {
  let stack: Stack;
  let second: MainBackendService;
  let secondUrl: string;
  before(async () => {
    stack = await startStack({ AUTH_RATE_LIMIT_PER_MINUTE: '4', TRUST_PROXY: '1' });
    second = createMainBackendService(loadMainConfig(stack.env), { logger: captureLogs('main-backend').logger });
    await second.start();
    secondUrl = `http://127.0.0.1:${second.port()}`;
  });
  after(async () => {
    await second?.stop();
    await stack?.stop();
  });

  const forgot = (base: string, ip: string, n: number) =>
    call(`${base}/auth/password/forgot`, { body: { email: `r${n}@warren.test` }, headers: { 'x-forwarded-for': ip } });

  it('When one address spreads its requests over two replicas, then the limit holds for the sum; another address is still served', async () => {
    // Arrange: the limit is 4 a minute; two requests on each replica use it up.
    const ip = '203.0.113.7';
    const statuses = [
      (await forgot(stack.mainUrl, ip, 1)).status,
      (await forgot(secondUrl, ip, 2)).status,
      (await forgot(stack.mainUrl, ip, 3)).status,
      (await forgot(secondUrl, ip, 4)).status,
    ];

    // Act
    const onFirst = await forgot(stack.mainUrl, ip, 5);
    const onSecond = await forgot(secondUrl, ip, 6);
    const otherAddress = await forgot(secondUrl, '203.0.113.8', 7);

    // Assert
    assert.deepEqual(statuses, [202, 202, 202, 202]);
    assert.equal(onFirst.status, 429, 'the fifth request, the third on this replica, is over the shared limit');
    assert.equal(onFirst.body.code, 'rate_limited');
    assert.ok(Number(onFirst.headers.get('retry-after')) > 0);
    assert.equal(onSecond.status, 429);
    assert.equal(otherAddress.status, 202, 'X-Forwarded-For names the client behind TRUST_PROXY=1');
  });
});
