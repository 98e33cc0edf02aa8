/**
 * What clients get while the broker is down, on a RabbitMQ node of the test's own that it
 * stops and starts: every service reports not ready (503 on /readyz) but stays alive (200 on
 * /healthz); a send answers 503 problem details instead of hanging; once the node is back,
 * readiness returns by itself, and a send retried with its Idempotency-Key is stored exactly
 * once, whether or not its 503 attempt got through.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { call, type JsonResponse } from '../support/http.js';
import { startPrivateRabbit, type PrivateRabbit } from '../support/private-rabbitmq.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

/** A request that would hang fails the test here instead: far above any answer we accept. */
const HANG_MS = 30_000;

describe('while the broker is down', () => {
  let rabbit: PrivateRabbit;
  let stack: Stack;
  let admin: Awaited<ReturnType<typeof login>>;
  const ports = () => [stack.auth.port(), stack.main.port(), stack.notification.port()];
  const status = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(HANG_MS) })).status;

  before(async () => {
    rabbit = await startPrivateRabbit();
    stack = await startStack({ RABBITMQ_URL: rabbit.url });
    admin = await login(stack);
  });
  after(async () => {
    await stack?.stop();
    await rabbit?.remove();
  });

  const send = (title: string, key: string): Promise<JsonResponse & { ms: number }> => {
    const started = Date.now();
    return fetch(`${stack.mainUrl}/notifications`, {
      method: 'POST',
      signal: AbortSignal.timeout(HANG_MS),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.accessToken}`, 'idempotency-key': key },
      body: JSON.stringify({ recipients: { userIds: [admin.user.id] }, title, body: 'sent around an outage' }),
    }).then(async (res) => ({ status: res.status, headers: res.headers, body: await res.json(), ms: Date.now() - started }));
  };

  async function storedTitled(title: string): Promise<number> {
    const page = await call(`${stack.notificationUrl}/inbox?limit=100`, { token: admin.accessToken });
    assert.equal(page.status, 200);
    return page.body.items.filter((i: { title: string }) => i.title === title).length;
  }

  const outageTitle = `during the outage ${randomUUID()}`;
  const outageKey = `outage-${randomUUID()}`;

  it('When the broker stops, then /readyz is 503 on every service, /healthz stays 200, and a send answers 503 problem details instead of hanging', async () => {
    // Arrange: all ready
    for (const port of ports()) assert.equal(await status(`http://127.0.0.1:${port}/readyz`), 200);

    // Act
    await rabbit.stop();

    // Assert
    await until(async () => {
      const answers = await Promise.all(ports().map((p) => status(`http://127.0.0.1:${p}/readyz`)));
      return answers.every((s) => s === 503);
    }, 'every service to report not ready', 20_000);
    for (const port of ports()) assert.equal(await status(`http://127.0.0.1:${port}/healthz`), 200, 'alive, only not ready');

    const res = await send(outageTitle, outageKey);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(typeof res.body.code, 'string');
    assert.ok(res.ms < HANG_MS, 'answered, not hung');
    assert.ok(Number(res.headers.get('retry-after')) > 0, 'the 503 says when to retry');

    // A login needs the auth service over the broker: 503 as well, never a 500.
    const loginRes = await fetch(`${stack.mainUrl}/login`, {
      method: 'POST',
      signal: AbortSignal.timeout(HANG_MS),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: admin.user.email, password: 'whatever it is' }),
    });
    assert.equal(loginRes.status, 503);
    assert.equal(loginRes.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.ok(Number(loginRes.headers.get('retry-after')) > 0, 'the 503 says when to retry');
  });

  it('When the broker is back, then every service is ready again and a retry with the same key is stored exactly once', { timeout: 120_000 }, async () => {
    // Act
    await rabbit.start();

    // Assert: readiness comes back by itself (reconnect, no restart)
    await until(async () => {
      const answers = await Promise.all(ports().map((p) => status(`http://127.0.0.1:${p}/readyz`)));
      return answers.every((s) => s === 200);
    }, 'every service to be ready again', 60_000, 250);

    // The client retries its 503'd send with the same key until accepted
    let retried: Awaited<ReturnType<typeof send>> | undefined;
    await until(async () => (retried = await send(outageTitle, outageKey)).status === 202, 'the retried send to be accepted', 30_000, 250);
    assert.equal(retried?.status, 202);

    // ... and a later send goes through as well: once it is stored, everything before it is
    const sentinel = `after the outage ${randomUUID()}`;
    assert.equal((await send(sentinel, `sentinel-${randomUUID()}`)).status, 202);
    await until(async () => (await storedTitled(sentinel)) === 1, 'the sentinel to be stored', 30_000);
    assert.equal(await storedTitled(outageTitle), 1, 'the send that answered 503, then 202 on retry, is stored exactly once');
  });
});
