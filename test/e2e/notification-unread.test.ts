/**
 * POST /inbox/:id/unread (decision 0027): a read notification becomes unread again, the exact
 * counter follows, every socket of the user hears `{"type":"unread"}` (also a socket on another
 * replica), and another user's id is the same 404 as an unknown one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { call } from '../support/http.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';
import { openSocket, type TestSocket } from '../support/ws-client.js';

describe('marking a notification unread again', () => {
  let stack: Stack;
  let smtp: TestSmtpServer;
  let admin: Awaited<ReturnType<typeof login>>;
  let replicaWsUrl: string;

  before(async () => {
    smtp = await startSmtpServer();
    stack = await startStack({ SMTP_URL: smtp.url });
    admin = await login(stack);
    replicaWsUrl = (await stack.addNotificationReplica()).wsUrl;
  });
  after(async () => {
    await stack?.stop();
    await smtp?.stop();
  });

  const unreadCount = async (token: string) => (await call(`${stack.notificationUrl}/inbox/unread-count`, { token })).body.count as number;
  const post = (path: string, token = admin.accessToken) => call(`${stack.notificationUrl}${path}`, { method: 'POST', token });

  async function nextOfType(socket: TestSocket, type: string): Promise<Record<string, unknown>> {
    for (;;) {
      const frame = await socket.next(5000);
      if (frame.type === type) return frame;
    }
  }

  it('When a read notification is marked unread, then the counter, the row and every socket follow', async () => {
    for (const title of ['first', 'second']) {
      const sent = await call(`${stack.mainUrl}/notifications`, { token: admin.accessToken, body: { recipients: { userIds: [admin.user.id] }, title, body: '' } });
      assert.equal(sent.status, 202);
    }
    await until(async () => (await unreadCount(admin.accessToken)) === 2, 'two unread');
    const items = (await call(`${stack.notificationUrl}/inbox`, { token: admin.accessToken })).body.items as { id: string; readAt: string | null }[];
    const id = items[0]!.id;
    assert.equal((await post(`/inbox/${id}/read`)).status, 204);
    assert.equal(await unreadCount(admin.accessToken), 1);

    const here = openSocket(`${stack.notificationWsUrl}?token=${admin.accessToken}`);
    const there = openSocket(`${replicaWsUrl}?token=${admin.accessToken}`);
    try {
      assert.equal((await nextOfType(here, 'ready')).unreadCount, 1);
      assert.equal((await nextOfType(there, 'ready')).unreadCount, 1);

      assert.equal((await post(`/inbox/${id}/unread`)).status, 204);
      assert.deepEqual(await nextOfType(here, 'unread'), { type: 'unread', ids: [id], unreadCount: 2 });
      assert.deepEqual(await nextOfType(there, 'unread'), { type: 'unread', ids: [id], unreadCount: 2 }, 'the other replica too');
      assert.equal(await unreadCount(admin.accessToken), 2);
      const row = (await call(`${stack.notificationUrl}/inbox`, { token: admin.accessToken })).body.items.find((n: { id: string }) => n.id === id);
      assert.equal(row.readAt, null);
      assert.equal(await unreadInDatabase(admin.user.id), 2, 'the counter agrees with the rows');

      // Already unread: no change, no frame, no error; then a read brings the usual read frame.
      assert.equal((await post(`/inbox/${id}/unread`)).status, 204);
      assert.equal(await unreadCount(admin.accessToken), 2);
      assert.equal((await post(`/inbox/${id}/read`)).status, 204);
      assert.deepEqual(await nextOfType(here, 'read'), { type: 'read', ids: [id], unreadCount: 1 }, 'the next frame is the read, not a second unread');
    } finally {
      here.close();
      there.close();
    }
  });

  it("When the id is another user's, unknown or malformed, then 404 and nothing changes", async () => {
    const email = 'reader@warren.test';
    const password = 'a long enough passphrase 9';
    await call(`${stack.mainUrl}/auth/register`, { body: { email, password, name: 'Reader' } });
    const code = codeIn(await smtp.waitForMessage((m) => m.envelope.to.includes(email), 10_000));
    assert.equal((await call(`${stack.mainUrl}/auth/verify-email`, { body: { email, code } })).status, 200);
    const reader = await login(stack, email, password);

    const items = (await call(`${stack.notificationUrl}/inbox`, { token: admin.accessToken })).body.items as { id: string }[];
    assert.equal((await post(`/inbox/${items[0]!.id}/read`)).status, 204);
    const adminUnread = await unreadCount(admin.accessToken);
    assert.equal((await post(`/inbox/${items[0]!.id}/unread`, reader.accessToken)).status, 404, "another user's notification");
    assert.equal(await unreadCount(admin.accessToken), adminUnread, 'the owner is untouched');
    assert.equal(await unreadCount(reader.accessToken), 0);
    for (const bad of ['00000000000fffff', '7fffffffffffffff', 'not-an-id']) {
      assert.equal((await post(`/inbox/${bad}/unread`)).status, 404, bad);
    }
    assert.equal((await post(`/inbox/${items[0]!.id}/unread`, 'not a token')).status, 401);
    assert.equal(await unreadCount(admin.accessToken), adminUnread);
  });

  async function unreadInDatabase(userId: string): Promise<number> {
    const client = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox_items WHERE user_id = $1 AND read_at IS NULL', [userId]);
      return rows[0]?.n ?? -1;
    } finally {
      await client.end();
    }
  }
});
