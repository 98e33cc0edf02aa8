/**
 * A dev stack and a qa stack started with default settings on one machine share the broker
 * and the database server and never see each other's messages or data. The two stacks here
 * differ only in APP_ENV: every name they use is the default APP_ENV gives (`warren.dev`,
 * `warren_auth_qa`, ...), moved under one prefix unique to this run, so the test proves the
 * defaults keep the partitions apart without touching the developers' own `warren_*_dev/qa`
 * databases and namespaces. Both stacks' databases and namespaces are dropped afterwards, and
 * the admins get random passwords.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { databaseName } from '@warren/shared/db/database';
import { loadAuthConfig } from '../../services/auth/src/config.js';
import { loadMainConfig } from '../../services/main-backend/src/config.js';
import { loadNotificationConfig } from '../../services/notification/src/config.js';
import { uniqueSuffix } from '../support/env.js';
import { call, sleep } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';
import { openSocket } from '../support/ws-client.js';

/** `postgres://…/warren_auth_dev` → `postgres://…/warren_test_<run>_warren_auth_dev`. */
function prefixedDatabase(defaultUrl: string, run: string): string {
  const url = new URL(defaultUrl);
  url.pathname = `/warren_test_${run}_${databaseName(defaultUrl)}`;
  return url.toString();
}

/**
 * The names `APP_ENV=<appEnv> npm start` would use, each under this run's prefix: the
 * namespace and database names still come from the defaults, so a default that failed to
 * tell dev from qa would make both stacks share them here too.
 */
function partitionEnv(appEnv: 'dev' | 'qa', run: string): Record<string, string> {
  const defaults = { APP_ENV: appEnv };
  const namespace = loadNotificationConfig(defaults).brokerNamespace;
  return {
    APP_ENV: appEnv,
    NODE_ENV: 'test',
    BROKER_NAMESPACE: `test-${run}.${namespace}`,
    AUTH_DATABASE_URL: prefixedDatabase(loadAuthConfig(defaults).databaseUrl, run),
    MAIN_DATABASE_URL: prefixedDatabase(loadMainConfig(defaults).databaseUrl, run),
    NOTIFICATION_DATABASE_URL: prefixedDatabase(loadNotificationConfig(defaults).databaseUrl, run),
    AUTH_PORT: '0',
    MAIN_BACKEND_PORT: '0',
    NOTIFICATION_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
  };
}

/** A whole stack with the partition's names and its own admin (startStack drops it all at stop). */
function startPartition(appEnv: 'dev' | 'qa', run: string, admin: { email: string; password: string }): Promise<Stack> {
  return startStack({ ...partitionEnv(appEnv, run), BOOTSTRAP_ADMIN_EMAIL: admin.email, BOOTSTRAP_ADMIN_PASSWORD: admin.password });
}

describe('dev and qa side by side with default settings', () => {
  const run = uniqueSuffix();
  // The same address in both partitions, with different (random) passwords: two accounts.
  const email = `isolation-${run}@warren.test`;
  const devAdmin = { email, password: randomBytes(18).toString('base64url') };
  const qaAdmin = { email, password: randomBytes(18).toString('base64url') };
  let dev: Stack;
  let qa: Stack;

  before(async () => {
    // Both start even if one fails, so `after` can drop whatever either created.
    const [d, q] = await Promise.allSettled([startPartition('dev', run, devAdmin), startPartition('qa', run, qaAdmin)]);
    if (d.status === 'fulfilled') dev = d.value;
    if (q.status === 'fulfilled') qa = q.value;
    if (d.status === 'rejected') throw d.reason;
    if (q.status === 'rejected') throw q.reason;
  });
  after(async () => {
    await Promise.allSettled([dev?.stop(), qa?.stop()]);
  });

  const login = async (stack: Stack, who: { email: string; password: string }) =>
    call(`${stack.mainUrl}/login`, { body: { email: who.email, password: who.password } });

  it('Then the defaults give each partition its own namespace, databases and ports', () => {
    const d = loadNotificationConfig({ APP_ENV: 'dev' });
    const q = loadNotificationConfig({ APP_ENV: 'qa' });
    assert.equal(d.brokerNamespace, 'warren.dev');
    assert.equal(q.brokerNamespace, 'warren.qa');
    assert.notEqual(d.databaseUrl, q.databaseUrl);
    assert.match(q.databaseUrl, /warren_notification_qa$/);
    assert.deepEqual([loadMainConfig({ APP_ENV: 'dev' }).port, loadMainConfig({ APP_ENV: 'qa' }).port], [3000, 4000]);
  });

  it("Then the two stacks run on this run's prefixed copies of those defaults, never the developers' own", () => {
    assert.equal(dev.env.BROKER_NAMESPACE, `test-${run}.warren.dev`);
    assert.equal(qa.env.BROKER_NAMESPACE, `test-${run}.warren.qa`);
    for (const [stack, appEnv] of [[dev, 'dev'], [qa, 'qa']] as const) {
      assert.equal(databaseName(stack.env.AUTH_DATABASE_URL as string), `warren_test_${run}_warren_auth_${appEnv}`);
      assert.equal(databaseName(stack.env.MAIN_DATABASE_URL as string), `warren_test_${run}_warren_main_backend_${appEnv}`);
      assert.equal(databaseName(stack.env.NOTIFICATION_DATABASE_URL as string), `warren_test_${run}_warren_notification_${appEnv}`);
    }
  });

  it("When each partition's admin logs in, then only its own password works there", async () => {
    assert.equal((await login(dev, devAdmin)).status, 200);
    assert.equal((await login(qa, qaAdmin)).status, 200);
    assert.equal((await login(dev, qaAdmin)).status, 401, "qa's account is not in dev's database");
    assert.equal((await login(qa, devAdmin)).status, 401, "dev's account is not in qa's database");
  });

  it("When a dev token is shown to qa, then qa refuses it (its own keys, issuer and audience)", async () => {
    const devSession = (await login(dev, devAdmin)).body;
    assert.equal((await call(`${qa.mainUrl}/auth/me`, { token: devSession.accessToken })).status, 401);
    assert.equal((await call(`${qa.notificationUrl}/inbox`, { token: devSession.accessToken })).status, 401);
    const socket = openSocket(`${qa.notificationWsUrl}?token=${devSession.accessToken}`);
    assert.equal((await socket.closed).code, 4001);
  });

  it("When dev sends a notification addressed to qa's admin, then it never reaches qa", async () => {
    const devSession = (await login(dev, devAdmin)).body;
    const qaSession = (await login(qa, qaAdmin)).body;
    const qaSocket = openSocket(`${qa.notificationWsUrl}?token=${qaSession.accessToken}`);
    const ready = await qaSocket.next();
    assert.equal(ready.type, 'ready');
    const qaUnreadBefore = (await call(`${qa.notificationUrl}/inbox/unread-count`, { token: qaSession.accessToken })).body.count;

    const title = `cross-partition ${run}`;
    const sent = await call(`${dev.mainUrl}/notifications`, {
      token: devSession.accessToken,
      body: { recipients: { userIds: [qaSession.user.id, devSession.user.id] }, title, body: 'must stay in dev' },
    });
    assert.equal(sent.status, 202);

    // It is stored in dev (for both ids, as dev knows no better) ...
    const deadline = Date.now() + 10_000;
    let inDev = false;
    while (!inDev && Date.now() < deadline) {
      const page = await call(`${dev.notificationUrl}/inbox?limit=100`, { token: devSession.accessToken });
      inDev = page.body.items.some((n: { title: string }) => n.title === title);
      if (!inDev) await sleep(50);
    }
    assert.ok(inDev, 'dev stored it');
    // ... and qa never hears of it. A sentinel sent in qa after dev's send must be the next
    // frame qa's socket sees: had dev's message crossed over, it would have come first (one
    // broker, and dev's was already stored) — no fixed wait needed to prove an absence.
    const sentinelTitle = `qa sentinel ${run}`;
    const sentinel = await call(`${qa.mainUrl}/notifications`, {
      token: qaSession.accessToken,
      body: { recipients: { userIds: [qaSession.user.id] }, title: sentinelTitle, body: 'qa only' },
    });
    assert.equal(sentinel.status, 202);
    const frame = await qaSocket.next(10_000);
    assert.equal(frame.type, 'notification');
    assert.equal((frame.notification as { title: string }).title, sentinelTitle, 'the first frame qa sees is its own');
    const qaPage = await call(`${qa.notificationUrl}/inbox?limit=100`, { token: qaSession.accessToken });
    assert.ok(!qaPage.body.items.some((n: { title: string }) => n.title === title));
    assert.equal((await call(`${qa.notificationUrl}/inbox/unread-count`, { token: qaSession.accessToken })).body.count, qaUnreadBefore + 1);
    qaSocket.close();
  });
});
