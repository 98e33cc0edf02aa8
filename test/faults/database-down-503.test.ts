/**
 * The databases down, on a PostgreSQL cluster of the test's own: every service's database lives
 * there, the cluster is stopped as in a routine restart. Requests that need a database answer
 * 503 with Retry-After and code database_unavailable (they used to answer 500 internal_error):
 * /login (auth's database, over RPC), POST /notifications (auth's session check, main's
 * idempotency keys), /inbox (notification's); a new socket is closed with 1013 (try again later).
 * Once the cluster is back, the same requests succeed again without restarting anything.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { until } from '../support/wait.js';
import { call, sleep, type JsonResponse } from '../support/http.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { ADMIN, login, startStack, type Stack } from '../support/stack.js';
import { uniqueSuffix } from '../support/env.js';
import { openSocket } from '../support/ws-client.js';

describe('Databases down', () => {
  let pg: PrivatePostgres;
  let stack: Stack;

  before(async () => {
    pg = await startPrivatePostgres();
    const suffix = uniqueSuffix();
    stack = await startStack({
      AUTH_DATABASE_URL: pg.databaseUrl(`warren_test_${suffix}_auth`),
      MAIN_DATABASE_URL: pg.databaseUrl(`warren_test_${suffix}_main`),
      NOTIFICATION_DATABASE_URL: pg.databaseUrl(`warren_test_${suffix}_notification`),
      // Every authenticated request asks auth whether its session is live (no cached answer).
      SESSION_CHECK_CACHE_SECONDS: '0',
    });
  });
  after(async () => {
    // The cluster is removed whole: the services' databases go with it.
    await stack?.stop();
    await pg?.remove();
  });

  it('when the database cluster is stopped, then /login, POST /notifications and /inbox answer 503 with Retry-After; when it is back, they work again', async () => {
    // Arrange: a session, made while the databases are up
    const admin = await login(stack);
    const send = (key?: string) =>
      call(`${stack.mainUrl}/notifications`, {
        token: admin.accessToken,
        headers: key ? { 'idempotency-key': key } : {},
        body: { recipients: { userIds: [admin.user.id] }, title: 'during the outage', body: 'x' },
      });
    const loginRequest = () => call(`${stack.mainUrl}/login`, { body: { email: ADMIN.email, password: ADMIN.password } });
    const inbox = () => call(`${stack.notificationUrl}/inbox`, { token: admin.accessToken });

    // Act
    await pg.stop('fast');

    // Assert: each answers 503, Retry-After, problem details; no 500
    const assert503 = (what: string, res: JsonResponse) => {
      assert.equal(res.status, 503, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.ok(Number(res.headers.get('retry-after')) > 0, `${what}: Retry-After`);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(res.body.code, 'database_unavailable', what);
    };
    assert503('/login', await loginRequest());
    const key = randomUUID();
    assert503('POST /notifications with Idempotency-Key', await send(key));
    assert503('POST /notifications', await send());
    assert503('GET /inbox', await inbox());
    assert503('GET /inbox/unread-count', await call(`${stack.notificationUrl}/inbox/unread-count`, { token: admin.accessToken }));
    // Readiness within a second or two (a check's answer is reused for READINESS_CACHE_MS).
    await until(async () => (await call(`${stack.notificationUrl}/readyz`)).status === 503, 'notification not ready', 5000, 100);
    const socket = openSocket(`${stack.notificationWsUrl}?token=${admin.accessToken}`);
    assert.equal((await socket.closed).code, 1013, 'a socket is told to try again later, not 1011');

    // Act: the cluster comes back
    await pg.start();

    // Assert: the same requests succeed again (the pools reconnect on their own), and the send
    // retried with its key is accepted
    const deadline = Date.now() + 30_000;
    const recovered = async (what: string, request: () => Promise<JsonResponse>, status: number) => {
      for (;;) {
        const res = await request();
        if (res.status === status) return res;
        assert.ok(res.status < 500 || res.status === 503, `${what}: ${res.status} while recovering`);
        assert.ok(Date.now() < deadline, `${what}: still ${res.status} 30 s after the database came back`);
        await sleep(200);
      }
    };
    await recovered('/login', loginRequest, 200);
    const accepted = await recovered('POST /notifications (retried with its key)', () => send(key), 202);
    await recovered('GET /inbox', inbox, 200);
    for (;;) {
      const res = await inbox();
      const items = res.body.items as { title: string }[];
      if (items.some((n) => n.title === 'during the outage')) break;
      assert.ok(Date.now() < deadline, `notification ${accepted.body.id} not in the inbox 30 s after the database came back`);
      await sleep(200);
    }
  });
});
