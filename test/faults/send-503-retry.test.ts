/**
 * A send refused while the broker is down (a node of the test's own), retried once it is back:
 * exactly one notification exists. The 503 comes from the session check (it needs the broker
 * too, and uses no cached answer while this replica cannot hear ended sessions: decision 0026),
 * before anything was published, so it carries no key and a plain retry cannot duplicate; a 503
 * whose publish may have gone out carries the attempt's key
 * (services/main-backend/test/send-notification-503.test.ts), and when one does here, the retry
 * uses it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, sleep } from '../support/http.js';
import { startPrivateRabbit, type PrivateRabbit } from '../support/private-rabbitmq.js';
import { login, startStack, type Stack } from '../support/stack.js';

describe('A send answered 503, retried', () => {
  let node: PrivateRabbit;
  let stack: Stack;

  before(async () => {
    node = await startPrivateRabbit();
    // The session check's answer is kept, so the send itself meets the broker outage.
    stack = await startStack({ RABBITMQ_URL: node.url, SESSION_CHECK_CACHE_SECONDS: '300' });
  });
  after(async () => {
    await stack?.stop();
    await node?.remove();
  });

  it('When a keyless send is refused with the broker down and retried once it is back, then exactly one notification is stored', async () => {
    // Arrange: a session whose liveness is already known
    const admin = await login(stack);
    const body = { recipients: { userIds: [admin.user.id] }, title: 'sent during the outage', body: 'x' };
    const send = (headers: Record<string, string> = {}) => call(`${stack.mainUrl}/notifications`, { token: admin.accessToken, headers, body });
    assert.equal((await send()).status, 202);

    // Act: the broker goes away; a keyless send fails
    await node.stop('SIGTERM');
    const failed = await send();

    // Assert: 503 problem details with Retry-After; a key only if the publish was attempted
    assert.equal(failed.status, 503, JSON.stringify(failed.body));
    assert.ok(Number(failed.headers.get('retry-after')) > 0);
    const key = failed.headers.get('idempotency-key');
    const withKey = key ? { 'idempotency-key': key } : undefined;

    // Act: the broker is back; the client retries with the key, twice (as a client might)
    await node.start();
    const deadline = Date.now() + 60_000;
    let retried;
    for (;;) {
      retried = await send(withKey);
      if (retried.status === 202) break;
      assert.ok([503, 504].includes(retried.status), `retry: ${retried.status}`);
      assert.ok(Date.now() < deadline, 'the retry was not accepted within 60 s of the broker coming back');
      await sleep(500);
    }
    if (withKey) {
      const again = await send(withKey);
      assert.equal(again.status, 202);
      assert.equal(again.body.id, retried.body.id, 'the same key answers the same notification');
    }

    // Assert: exactly one notification of that attempt in the inbox (plus the one sent before
    // the outage), counted once a sentinel sent after every retry has been stored
    const sentinel = await call(`${stack.mainUrl}/notifications`, { token: admin.accessToken, body: { ...body, title: 'sentinel' } });
    assert.equal(sentinel.status, 202);
    for (;;) {
      const inbox = await call(`${stack.notificationUrl}/inbox?limit=100`, { token: admin.accessToken });
      const titles = ((inbox.body?.items ?? []) as { title: string }[]).map((n) => n.title);
      if (titles.includes('sentinel')) {
        assert.equal(titles.filter((t) => t === body.title).length, 2);
        return;
      }
      assert.ok(Date.now() < deadline, 'the sentinel was not stored within 60 s');
      await sleep(200);
    }
  });
});
