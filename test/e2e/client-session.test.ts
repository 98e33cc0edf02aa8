/**
 * @warren/client against the real services (in-process stack, real RabbitMQ and PostgreSQL):
 * login and its refusals as WarrenProblems, concurrent 401s served by one refresh, refresh-token
 * reuse ending the session, inbox paging, read state, sends with and without Idempotency-Key,
 * batch sends, hostile inputs, logout. The client is imported from its TypeScript sources;
 * the portals load the same code as a bundle (test/s3-layout.test.ts checks that copy).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inboxNotificationSchema } from '@warren/shared/contracts/inbox';
import { createWarrenClient, WarrenProblem, type FetchLike, type InboxNotification, type WarrenClient } from '../../packages/client/src/index.js';
import { call } from '../support/http.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { ADMIN, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

interface Recorded {
  method: string;
  path: string;
}

describe('@warren/client against the real stack: session, inbox, sends', () => {
  let stack: Stack;
  let smtp: TestSmtpServer;
  let admin: WarrenClient;
  let adminId: string;
  const employee = { email: 'erin@warren.test', password: 'an employee passphrase 7' };

  /**
   * A client on the stack whose fetch records every request, and can spoil the Authorization
   * header of the next `n` requests (the server then answers 401 invalid_token, as it would for
   * a token signed with a retired key).
   */
  function newClient(storageKey = 'warren:test:refreshToken') {
    const requests: Recorded[] = [];
    let spoil = 0;
    const recordingFetch: FetchLike = async (url, init) => {
      const headers = { ...init.headers };
      if (spoil > 0 && headers.authorization) {
        spoil--;
        headers.authorization = 'Bearer eyJhbGciOiJFUzI1NiJ9.e30.c3BvaWx0';
      }
      requests.push({ method: init.method, path: new URL(url).pathname });
      return fetch(url, { ...init, headers });
    };
    const store = new Map<string, string>();
    const client = createWarrenClient({
      mainBackendUrl: stack.mainUrl,
      notificationUrl: stack.notificationUrl,
      fetch: recordingFetch,
      storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v), removeItem: (k) => void store.delete(k) },
      storageKey,
    });
    return { client, requests, store, spoil: (n: number) => (spoil = n), refreshes: () => requests.filter((r) => r.path === '/auth/refresh').length };
  }

  /** Notifications of the admin's inbox with these titles, once stored. */
  async function stored(client: WarrenClient, titles: string[]): Promise<InboxNotification[]> {
    let found: InboxNotification[] = [];
    await until(async () => {
      const page = await client.inbox.list({ limit: 100 });
      found = page.items.filter((n) => titles.includes(n.title));
      return found.length >= titles.length;
    }, `${titles.length} notifications to be stored`);
    return found;
  }

  before(async () => {
    smtp = await startSmtpServer();
    stack = await startStack({ SMTP_URL: smtp.url });
    admin = newClient().client;
    adminId = (await admin.login(ADMIN)).user.id;
    await call(`${stack.mainUrl}/auth/register`, { body: { ...employee, name: 'Erin Employee' } });
    const code = codeIn(await smtp.waitForMessage((m) => m.envelope.to.includes(employee.email), 10_000));
    assert.equal((await call(`${stack.mainUrl}/auth/verify-email`, { body: { email: employee.email, code } })).status, 200);
  });
  after(async () => {
    await stack?.stop();
    await smtp?.stop();
  });

  it('When the password is wrong, then login throws the server\'s problem details as a WarrenProblem, without the password', async () => {
    const { client } = newClient();
    const err = await client.login({ email: ADMIN.email, password: 'wrong-password-zebra' }).catch((e: unknown) => e);
    assert.ok(err instanceof WarrenProblem);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_credentials');
    assert.equal(err.detail, 'The email or password is incorrect.');
    assert.match(err.type, /invalid_credentials$/);
    assert.equal(err.title, 'Unauthorized');
    assert.doesNotMatch(JSON.stringify(err) + String(err.stack), /zebra/);
    assert.equal(client.session.state, 'signedOut');
  });

  it('When logged in, then me() answers the user and only the refresh token is stored', async () => {
    const { client, store } = newClient('warren:dev:admin:refreshToken');
    await client.login(ADMIN);
    const me = await client.me();
    assert.equal(me.user.email, ADMIN.email);
    assert.equal(me.user.role, 'admin');
    assert.ok(me.permissions.includes('notifications:send'));
    assert.deepEqual([...store.keys()], ['warren:dev:admin:refreshToken']);
    assert.ok((store.get('warren:dev:admin:refreshToken')?.length ?? 0) >= 22, 'an opaque refresh token');
    const state = client.session;
    assert.ok(state.state === 'signedIn' && state.user.id === adminId);
    await client.logout();
  });

  it('When five calls are refused with 401 at once, then the client makes one refresh and all five succeed with the new token', async () => {
    const { client, spoil, refreshes, requests } = newClient();
    await client.login(ADMIN);
    spoil(5);

    const answers = await Promise.all([
      client.inbox.unreadCount(),
      client.inbox.unreadCount(),
      client.inbox.list({ limit: 1 }),
      client.me(),
      client.inbox.unreadCount(),
    ]);

    assert.equal(refreshes(), 1, 'one POST /auth/refresh for five 401s');
    assert.equal(typeof answers[0], 'number');
    assert.equal((answers[3] as { user: { id: string } }).user.id, adminId);
    assert.equal(requests.filter((r) => r.path !== '/login' && r.path !== '/auth/refresh').length, 10, 'each call tried twice');
    await client.logout();
  });

  it('When a rotated refresh token is presented again, then the server ends the session and the client that held it is ended too', async () => {
    const a = newClient();
    await a.client.login(ADMIN);
    const rotated = a.store.get('warren:test:refreshToken') as string;
    await a.client.refresh();
    assert.notEqual(a.store.get('warren:test:refreshToken'), rotated);

    // A stale copy of the old token (a duplicated tab, a restored backup) is used.
    const b = newClient();
    b.store.set('warren:test:refreshToken', rotated);
    await assert.rejects(b.client.refresh(), { name: 'WarrenProblem', status: 401, code: 'refresh_token_reused' });
    assert.equal(b.store.size, 0);

    // The whole session was revoked: the client holding the current token learns it on its next refresh.
    const err = await a.client.refresh().catch((e: unknown) => e);
    assert.ok(err instanceof WarrenProblem && err.status === 401);
    assert.deepEqual(a.client.session, { state: 'ended', code: err.code });
    assert.equal(a.store.size, 0);
    await assert.rejects(a.client.inbox.unreadCount(), { code: 'not_signed_in' });
  });

  it('When the inbox holds more than a page, then list() pages through it newest first with no gap or overlap', async () => {
    const titles = Array.from({ length: 5 }, (_, i) => `page test ${i}`);
    for (const title of titles) await admin.notifications.send({ recipients: { userIds: [adminId] }, title, body: 'b' });
    await stored(admin, titles);

    const seen: InboxNotification[] = [];
    let before: string | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const page = await admin.inbox.list({ limit: 2, ...(before ? { before } : {}) });
      assert.ok(page.items.length <= 2);
      seen.push(...page.items);
      if (!page.nextCursor) break;
      assert.equal(page.nextCursor, page.items.at(-1)?.id);
      before = page.nextCursor;
    }
    const ids = seen.map((n) => n.id);
    assert.deepEqual(ids, [...ids].sort().reverse(), 'newest first');
    assert.equal(new Set(ids).size, ids.length, 'no overlap');
    assert.deepEqual(seen.filter((n) => titles.includes(n.title)).map((n) => n.title), [...titles].reverse());
  });

  it('When paging is asked for out of range, then each answer is a 400 WarrenProblem, never a 5xx', async () => {
    for (const page of [{ limit: 0 }, { limit: 101 }, { limit: -1 }, { before: 'zz' }, { before: 'f'.repeat(16) }, { before: '0'.repeat(2000) }]) {
      const err = await admin.inbox.list(page).catch((e: unknown) => e);
      assert.ok(err instanceof WarrenProblem, JSON.stringify(page));
      assert.equal(err.status, 400, `${JSON.stringify(page).slice(0, 60)} → ${err.status} ${err.code}`);
    }
  });

  it('When notifications are marked read, then the exact unread count follows; another user\'s or a made-up id is a 404', async () => {
    const [n] = await stored(admin, ['page test 0']);
    const before = await admin.inbox.unreadCount();
    await admin.inbox.markRead(n!.id);
    assert.equal(await admin.inbox.unreadCount(), before - 1);
    const page = await admin.inbox.list({ limit: 100 });
    assert.ok(page.items.find((x) => x.id === n!.id)?.readAt);

    const erin = newClient().client;
    await erin.login(employee);
    for (const id of [n!.id, '../../auth/me', '001fffffffffffff', '0020000000000000', 'x'.repeat(500), '%00']) {
      const err = await erin.inbox.markRead(id).catch((e: unknown) => e);
      assert.ok(err instanceof WarrenProblem, id);
      assert.ok(err.status === 404 || err.status === 400, `${id.slice(0, 20)} → ${err.status} ${err.code}`);
    }
    await admin.inbox.markAllRead();
    assert.equal(await admin.inbox.unreadCount(), 0);
  });

  it('When a send is repeated with its Idempotency-Key, then the same id answers and it is stored once; another body with that key is 422', async () => {
    const body = { recipients: { userIds: [adminId] }, title: 'idempotent send', body: 'once' };
    const first = await admin.notifications.send(body, { idempotencyKey: 'client-test-key-1' });
    const again = await admin.notifications.send({ ...body, data: {} }, { idempotencyKey: 'client-test-key-1' });
    assert.equal(again.id, first.id);
    await stored(admin, ['idempotent send']);
    const copies = (await admin.inbox.list({ limit: 100 })).items.filter((n) => n.title === 'idempotent send');
    assert.equal(copies.length, 1);

    const err = await admin.notifications.send({ ...body, body: 'other' }, { idempotencyKey: 'client-test-key-1' }).catch((e: unknown) => e);
    assert.ok(err instanceof WarrenProblem);
    assert.equal(err.status, 422);
    assert.equal(err.code, 'idempotency_key_reused');
    assert.equal(err.idempotencyKey, 'client-test-key-1');
  });

  it('When a send is hostile or not allowed, then the WarrenProblem says why (path and code) and nothing is stored', async () => {
    const cases: [Parameters<WarrenClient['notifications']['send']>[0], number, string][] = [
      [{ recipients: { userIds: [adminId] }, title: 'nul \u0000 inside', body: '' }, 400, 'invalid_text'],
      [{ recipients: {}, title: 'nobody', body: '' }, 400, 'validation_failed'],
      [{ recipients: { userIds: ['not-a-uuid'] }, title: 'bad id', body: '' }, 400, 'validation_failed'],
      [{ recipients: { userIds: [adminId] }, title: 'x'.repeat(201), body: '' }, 400, 'validation_failed'],
    ];
    for (const [body, status, code] of cases) {
      const err = await admin.notifications.send(body).catch((e: unknown) => e);
      assert.ok(err instanceof WarrenProblem);
      assert.equal(err.status, status, body.title.slice(0, 20));
      assert.equal(err.code, code);
      assert.ok(err.errors.length > 0 && err.errors.every((e) => typeof e.path === 'string'), 'errors name the field');
      assert.ok(err.idempotencyKey, 'the key to retry with');
    }
    const erin = newClient().client;
    await erin.login(employee);
    await assert.rejects(erin.notifications.send({ recipients: { roles: ['admin'] }, title: 'from an employee', body: '' }), {
      status: 403,
      code: 'missing_permission',
    });
    assert.ok(!(await admin.inbox.list({ limit: 100 })).items.some((n) => ['nul \u0000 inside', 'nobody', 'from an employee'].includes(n.title)));
  });

  it('When a notification is stored, then it has the contract\'s shape: notificationId is the send\'s id and sender its user', async () => {
    const { id } = await admin.notifications.send({ recipients: { userIds: [adminId] }, title: 'shape check', body: 'b', data: { k: [1] } });
    const [n] = await stored(admin, ['shape check']);
    const parsed = inboxNotificationSchema.parse(n);
    assert.equal(parsed.notificationId, id);
    assert.deepEqual(parsed.sender, { id: adminId, name: 'Administrator' });
    assert.deepEqual(parsed.data, { k: [1] });
  });

  it('When a batch is sent, then its ids come back in item order and each is stored; one bad item or 101 items send nothing', async () => {
    const bodies = ['batch 0', 'batch 1', 'batch 2'].map((title) => ({ recipients: { userIds: [adminId] }, title, body: 'b' }));
    const { ids } = await admin.notifications.sendBatch(bodies, { idempotencyKey: 'client-batch-1' });
    assert.equal(ids.length, 3);
    assert.equal(new Set(ids).size, 3);
    const again = await admin.notifications.sendBatch(bodies, { idempotencyKey: 'client-batch-1' });
    assert.deepEqual(again.ids, ids);
    const found = await stored(admin, ['batch 0', 'batch 1', 'batch 2']);
    assert.equal(found.length, 3, 'each stored once');

    const bad = await admin.notifications.sendBatch([bodies[0]!, { ...bodies[1]!, title: '' }]).catch((e: unknown) => e);
    assert.ok(bad instanceof WarrenProblem);
    assert.equal(bad.status, 400);
    assert.ok(bad.errors.some((e) => /^(notifications\.)?1\b/.test(e.path)), JSON.stringify(bad.errors));
    const tooMany = Array.from({ length: 101 }, (_, i) => ({ recipients: { userIds: [adminId] }, title: `too many ${i}`, body: '' }));
    await assert.rejects(admin.notifications.sendBatch(tooMany), { status: 400 });
  });

  it('When logging out, then the refresh token stops working on the server and the client forgets it', async () => {
    const { client, store } = newClient();
    await client.login(ADMIN);
    const refreshToken = store.get('warren:test:refreshToken');
    await client.logout();
    assert.equal(client.session.state, 'signedOut');
    assert.equal(store.size, 0);
    assert.equal((await call(`${stack.mainUrl}/auth/refresh`, { body: { refreshToken } })).status, 401);
  });
});
