/**
 * A dev stack and a qa stack started with default settings on one machine share the broker
 * and the database server and never see each other's messages or data. The stacks run
 * in-process with only APP_ENV (and free ports) set, so the default namespaces and database
 * names are the ones `APP_ENV=dev npm start` and `APP_ENV=qa npm start` use. Those databases are
 * left in place afterwards: they are the developers' own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadAuthConfig } from '../../services/auth/src/config.js';
import { createAuthService } from '../../services/auth/src/service.js';
import { loadMainConfig } from '../../services/main-backend/src/config.js';
import { createMainBackendService } from '../../services/main-backend/src/service.js';
import { loadNotificationConfig } from '../../services/notification/src/config.js';
import { createNotificationService } from '../../services/notification/src/service.js';
import { uniqueSuffix } from '../support/env.js';
import { call, sleep } from '../support/http.js';
import { captureLogs } from '../support/logs.js';
import { openSocket } from '../support/ws-client.js';

interface DefaultStack {
  env: Record<string, string>;
  mainUrl: string;
  notificationUrl: string;
  wsUrl: string;
  stop(): Promise<void>;
}

/** Only APP_ENV, free ports and a bootstrap admin: every name comes from the defaults. */
async function startDefaultStack(appEnv: 'dev' | 'qa', admin: { email: string; password: string }): Promise<DefaultStack> {
  const env: Record<string, string> = {
    APP_ENV: appEnv,
    NODE_ENV: 'test',
    AUTH_PORT: '0',
    MAIN_BACKEND_PORT: '0',
    NOTIFICATION_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    BOOTSTRAP_ADMIN_EMAIL: admin.email,
    BOOTSTRAP_ADMIN_PASSWORD: admin.password,
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
  };
  const auth = createAuthService(loadAuthConfig(env), { logger: captureLogs('auth').logger });
  const main = createMainBackendService(loadMainConfig(env), { logger: captureLogs('main-backend').logger });
  const notification = createNotificationService(loadNotificationConfig(env), { logger: captureLogs('notification').logger });
  await auth.start();
  await Promise.all([main.start(), notification.start()]);
  return {
    env,
    mainUrl: `http://127.0.0.1:${main.port()}`,
    notificationUrl: `http://127.0.0.1:${notification.port()}`,
    wsUrl: `ws://127.0.0.1:${notification.port()}/ws`,
    async stop() {
      await Promise.allSettled([main.stop(), notification.stop()]);
      await auth.stop();
    },
  };
}

describe('dev and qa side by side with default settings', () => {
  const run = uniqueSuffix();
  // The same address in both partitions, with different passwords: two different accounts.
  const email = `isolation-${run}@warren.test`;
  const devAdmin = { email, password: `dev partition password ${run}` };
  const qaAdmin = { email, password: `qa partition password ${run}` };
  let dev: DefaultStack;
  let qa: DefaultStack;

  before(async () => {
    [dev, qa] = await Promise.all([startDefaultStack('dev', devAdmin), startDefaultStack('qa', qaAdmin)]);
  });
  after(async () => {
    await Promise.allSettled([dev?.stop(), qa?.stop()]);
  });

  const login = async (stack: DefaultStack, who: { email: string; password: string }) =>
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
    const socket = openSocket(`${qa.wsUrl}?token=${devSession.accessToken}`);
    assert.equal((await socket.closed).code, 4001);
  });

  it("When dev sends a notification addressed to qa's admin, then it never reaches qa", async () => {
    const devSession = (await login(dev, devAdmin)).body;
    const qaSession = (await login(qa, qaAdmin)).body;
    const qaSocket = openSocket(`${qa.wsUrl}?token=${qaSession.accessToken}`);
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
    // ... and qa never hears of it.
    await assert.rejects(qaSocket.next(1000), /no frame/);
    const qaPage = await call(`${qa.notificationUrl}/inbox?limit=100`, { token: qaSession.accessToken });
    assert.ok(!qaPage.body.items.some((n: { title: string }) => n.title === title));
    assert.equal((await call(`${qa.notificationUrl}/inbox/unread-count`, { token: qaSession.accessToken })).body.count, qaUnreadBefore);
    qaSocket.close();
  });
});
