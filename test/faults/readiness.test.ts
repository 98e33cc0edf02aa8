/**
 * What /readyz tells a load balancer, service by service. Each replica is ready only while it
 * can reach its own database and the broker (the broker's loss is in
 * broker-outage-answers.test.ts); here the databases live on a PostgreSQL cluster of the test's
 * own, which it stops and starts: auth, main-backend and notification each answer 503 naming
 * `database` (the broker still `ok`), stay alive (/healthz 200), and are ready again by
 * themselves once the cluster is back. (Auth unreachable leaves main-backend and notification
 * ready: test/faults/auth-paused.test.ts; decision 0026.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call } from '../support/http.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { uniqueSuffix } from '../support/env.js';
import { startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

describe('readiness per service', () => {
  let pg: PrivatePostgres;
  let stack: Stack;
  const services = () =>
    Object.entries({ auth: stack.auth.port(), 'main-backend': stack.main.port(), notification: stack.notification.port() }).map(
      ([name, port]) => [name, `http://127.0.0.1:${port}`] as const,
    );

  before(async () => {
    pg = await startPrivatePostgres();
    const suffix = uniqueSuffix();
    stack = await startStack({
      AUTH_DATABASE_URL: pg.databaseUrl(`warren_test_${suffix}_auth`),
      MAIN_DATABASE_URL: pg.databaseUrl(`warren_test_${suffix}_main`),
      NOTIFICATION_DATABASE_URL: pg.databaseUrl(`warren_test_${suffix}_notification`),
    });
  });
  after(async () => {
    await stack?.stop();
    await pg?.remove();
  });

  it('When a service cannot reach its database, then its /readyz is 503 naming it, /healthz stays 200; when it is back, ready again by itself', async () => {
    // Arrange
    for (const [name, url] of services()) {
      const res = await call(`${url}/readyz`);
      assert.deepEqual([res.status, res.body], [200, { status: 'ready', checks: { database: 'ok', broker: 'ok', consumers: 'ok' } }], name);
    }

    // Act
    await pg.stop('fast');

    // Assert
    try {
      for (const [name, url] of services()) {
        // Within a few seconds: a check's answer is reused for a second (READINESS_CACHE_MS).
        await until(async () => (await call(`${url}/readyz`)).status === 503, `${name} not ready`, 5000, 100);
        const res = await call(`${url}/readyz`);
        assert.deepEqual([res.status, res.body], [503, { status: 'not_ready', checks: { database: 'down', broker: 'ok', consumers: 'ok' } }], name);
        assert.equal((await call(`${url}/healthz`)).status, 200, `${name} stays alive`);
      }
    } finally {
      await pg.start();
    }
    for (const [name, url] of services()) {
      await until(async () => (await call(`${url}/readyz`)).status === 200, `${name} to be ready again`, 30_000, 200);
    }
  });
});
