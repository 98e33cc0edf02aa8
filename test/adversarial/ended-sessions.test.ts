/**
 * An ended session stops working everywhere at once, not when its access token expires:
 * after logout, logout-all, deleting a session, a password reset or a demotion, the session's
 * sockets on every notification replica close with 4001, its token gets 401 on /inbox and 4001
 * on a new socket or a renewal, and a demoted manager cannot send any more. A replica that
 * starts after the session ended refuses it too (it reads the ended sessions recorded in its
 * database). The access tokens here live 15 minutes, as in production: nothing below is the
 * token expiring.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { call, sleep } from '../support/http.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { openSocket, type TestSocket } from '../support/ws-client.js';

/** Generous bound for "within 1 s" on a loaded 2-core machine; without announcements it is 15 min. */
const CLOSE_BOUND_MS = 3000;
const PASSWORD = 'a long enough passphrase 9';

describe('ended sessions on the notification service', () => {
  let stack: Stack;
  let smtp: TestSmtpServer;
  let replica: { url: string; wsUrl: string };
  let admin: Awaited<ReturnType<typeof login>>;

  before(async () => {
    smtp = await startSmtpServer();
    stack = await startStack({ SMTP_URL: smtp.url, ACCESS_TOKEN_TTL: '900' });
    replica = await stack.addNotificationReplica();
    admin = await login(stack);
  });
  after(async () => {
    await stack?.stop();
    await smtp?.stop();
  });

  async function newUser(name: string) {
    const email = `${name}@warren.test`;
    await call(`${stack.mainUrl}/auth/register`, { body: { email, password: PASSWORD, name } });
    const code = codeIn(await smtp.waitForMessage((m) => m.envelope.to.includes(email), 10_000));
    assert.equal((await call(`${stack.mainUrl}/auth/verify-email`, { body: { email, code } })).status, 200);
    return { email, ...(await login(stack, email, PASSWORD)) };
  }

  /** A socket that got `ready` (so it is authenticated and registered). */
  async function readySocket(wsUrl: string, token: string): Promise<TestSocket> {
    const socket = openSocket(`${wsUrl}?token=${token}`);
    assert.equal((await socket.next()).type, 'ready');
    return socket;
  }

  /** Waits for the close (bounded) and returns its code and how long it took from `since`. */
  async function closeOf(socket: TestSocket, since: number) {
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      socket.closed,
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 10_000))),
    ]);
    clearTimeout(timer);
    assert.ok(closed, 'the socket was not closed within 10 s');
    return { code: closed.code, elapsedMs: Date.now() - since };
  }

  async function assertClosedPromptly(sockets: TestSocket[], since: number) {
    for (const s of sockets) {
      const { code, elapsedMs } = await closeOf(s, since);
      assert.equal(code, 4001);
      assert.ok(elapsedMs < CLOSE_BOUND_MS, `closed after ${elapsedMs} ms`);
    }
  }

  /** /inbox on both replicas answers 401 session_ended (polled: the announcement is asynchronous). */
  async function assertRefusedOnRest(token: string) {
    for (const url of [stack.notificationUrl, replica.url]) {
      const deadline = Date.now() + CLOSE_BOUND_MS;
      let res = await call(`${url}/inbox`, { token });
      while (res.status === 200 && Date.now() < deadline) {
        await sleep(50);
        res = await call(`${url}/inbox`, { token });
      }
      assert.equal(res.status, 401);
      assert.equal(res.body.code, 'session_ended');
      assert.equal((await call(`${url}/inbox/unread-count`, { token })).status, 401);
    }
  }

  /** A new socket with the token never gets `ready`: it is closed with 4001. */
  async function assertRefusedOnWs(token: string) {
    for (const wsUrl of [stack.notificationWsUrl, replica.wsUrl]) {
      const socket = openSocket(`${wsUrl}?token=${token}`);
      const first = await Promise.race([socket.next().catch(() => undefined), socket.closed]);
      assert.ok(!first || !('type' in first) || first.type !== 'ready', 'an ended session got ready');
      assert.equal((await closeOf(socket, Date.now())).code, 4001);
    }
  }

  it('When a user logs out, then that session closes 4001 on every replica and is refused, and their other session lives on', async () => {
    const user = await newUser('logout');
    const other = await login(stack, user.email, PASSWORD);
    const sockets = [await readySocket(stack.notificationWsUrl, user.accessToken), await readySocket(replica.wsUrl, user.accessToken)];
    const otherSocket = await readySocket(replica.wsUrl, other.accessToken);

    const since = Date.now();
    assert.equal((await call(`${stack.mainUrl}/auth/logout`, { method: 'POST', token: user.accessToken })).status, 204);
    await assertClosedPromptly(sockets, since);
    await assertRefusedOnRest(user.accessToken);
    await assertRefusedOnWs(user.accessToken);

    assert.equal((await call(`${stack.notificationUrl}/inbox`, { token: other.accessToken })).status, 200);
    otherSocket.ws.send(JSON.stringify({ type: 'ping' }));
    assert.equal((await otherSocket.next()).type, 'pong', 'the other session is untouched');
    otherSocket.close();
  });

  it('When a user logs out everywhere, then every session of theirs closes and is refused', async () => {
    const user = await newUser('logoutall');
    const second = await login(stack, user.email, PASSWORD);
    const sockets = [await readySocket(stack.notificationWsUrl, user.accessToken), await readySocket(replica.wsUrl, second.accessToken)];

    const since = Date.now();
    assert.equal((await call(`${stack.mainUrl}/auth/logout-all`, { method: 'POST', token: second.accessToken })).status, 204);
    await assertClosedPromptly(sockets, since);
    for (const token of [user.accessToken, second.accessToken]) {
      await assertRefusedOnRest(token);
      await assertRefusedOnWs(token);
    }
  });

  it('When a session is deleted from another one, then the deleted one closes and cannot renew a socket of the other', async () => {
    const user = await newUser('deleted');
    const keeper = await login(stack, user.email, PASSWORD);
    const victim = await readySocket(stack.notificationWsUrl, user.accessToken);
    const kept = await readySocket(replica.wsUrl, keeper.accessToken);

    const since = Date.now();
    assert.equal((await call(`${stack.mainUrl}/auth/sessions/${user.session.id}`, { method: 'DELETE', token: keeper.accessToken })).status, 204);
    await assertClosedPromptly([victim], since);
    await assertRefusedOnRest(user.accessToken);

    // Renewing a live socket with the ended session's token is refused like any bad token.
    kept.ws.send(JSON.stringify({ type: 'auth', token: user.accessToken }));
    assert.equal((await closeOf(kept, Date.now())).code, 4001);
    assert.equal((await call(`${replica.url}/inbox`, { token: keeper.accessToken })).status, 200, 'the keeper session itself is fine');
  });

  it('When the password is reset, then every session of the user closes and is refused', async () => {
    const user = await newUser('reset');
    const sockets = [await readySocket(stack.notificationWsUrl, user.accessToken), await readySocket(replica.wsUrl, user.accessToken)];
    assert.equal((await call(`${stack.mainUrl}/auth/password/forgot`, { body: { email: user.email } })).status, 202);
    const code = codeIn(await smtp.waitForMessage((m) => m.envelope.to.includes(user.email) && /reset/i.test(m.subject), 10_000));

    const since = Date.now();
    const reset = await call(`${stack.mainUrl}/auth/password/reset`, { body: { email: user.email, code, newPassword: 'another long passphrase 7' } });
    assert.equal(reset.status, 200);
    await assertClosedPromptly(sockets, since);
    await assertRefusedOnRest(user.accessToken);
    await assertRefusedOnWs(user.accessToken);
  });

  it('When a manager is demoted, then their token cannot send any more, their sockets close, and a new login has no send permission', async () => {
    const user = await newUser('demoted');
    assert.equal((await call(`${stack.mainUrl}/users/${user.user.id}`, { method: 'PATCH', token: admin.accessToken, body: { role: 'manager' } })).status, 200);
    const manager = await login(stack, user.email, PASSWORD);
    assert.ok(manager.permissions.includes('notifications:send'));
    const send = (token: string) =>
      call(`${stack.mainUrl}/notifications`, { token, body: { recipients: { userIds: [admin.user.id] }, title: 'from a manager', body: 'b' } });
    // This send also leaves main-backend's session check cached as "live" for 10 s.
    assert.equal((await send(manager.accessToken)).status, 202);
    const socket = await readySocket(replica.wsUrl, manager.accessToken);

    const since = Date.now();
    const demoted = await call(`${stack.mainUrl}/users/${user.user.id}`, { method: 'PATCH', token: admin.accessToken, body: { role: 'employee' } });
    assert.equal(demoted.status, 200);
    await assertClosedPromptly([socket], since);
    const deadline = Date.now() + CLOSE_BOUND_MS;
    let res = await send(manager.accessToken);
    while (res.status === 202 && Date.now() < deadline) {
      await sleep(50);
      res = await send(manager.accessToken);
    }
    assert.equal(res.status, 401, `a demoted manager's token still sends (${res.status})`);
    assert.ok(Date.now() - since < CLOSE_BOUND_MS);
    await assertRefusedOnRest(manager.accessToken);
    assert.equal((await call(`${stack.mainUrl}/auth/refresh`, { body: { refreshToken: manager.refreshToken } })).status, 401, 'no refresh either');

    const again = await login(stack, user.email, PASSWORD);
    assert.ok(!again.permissions.includes('notifications:send'));
    assert.equal((await send(again.accessToken)).status, 403);
    assert.equal((await call(`${stack.notificationUrl}/inbox`, { token: again.accessToken })).status, 200, 'the new session works');
  });

  it('When a replica missed an announcement that another replica recorded, then it refuses the session within seconds', async () => {
    const user = await newUser('missed');
    const sockets = [await readySocket(stack.notificationWsUrl, user.accessToken), await readySocket(replica.wsUrl, user.accessToken)];
    // Arrange what a replica that was disconnected sees: the ended session only in the database,
    // recorded by the durable consumer of another replica, no live announcement.
    const db = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await db.connect();
    const since = Date.now();
    try {
      await db.query(
        `INSERT INTO ended_sessions (session_id, user_id, ended_at, expires_at) VALUES ($1, $2, now(), now() + interval '16 minutes')`,
        [user.session.id, user.user.id],
      );
    } finally {
      await db.end();
    }
    for (const s of sockets) {
      const { code, elapsedMs } = await closeOf(s, since);
      assert.equal(code, 4001);
      assert.ok(elapsedMs < 8000, `closed after ${elapsedMs} ms (the database is re-read every 2 s)`);
    }
    await assertRefusedOnRest(user.accessToken);
  });

  it('When a replica starts after a session ended, then it refuses that session too', async () => {
    const user = await newUser('late');
    const socket = await readySocket(stack.notificationWsUrl, user.accessToken);
    assert.equal((await call(`${stack.mainUrl}/auth/logout`, { method: 'POST', token: user.accessToken })).status, 204);
    assert.equal((await closeOf(socket, Date.now())).code, 4001);

    // Once the durable consumer has recorded it, a replica that starts learns it from the database.
    const db = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await db.connect();
    try {
      const deadline = Date.now() + 10_000;
      while ((await db.query('SELECT 1 FROM ended_sessions WHERE session_id = $1', [user.session.id])).rowCount === 0) {
        assert.ok(Date.now() < deadline, 'the ended session was never recorded');
        await sleep(50);
      }
    } finally {
      await db.end();
    }
    const late = await stack.addNotificationReplica();
    const res = await call(`${late.url}/inbox`, { token: user.accessToken });
    assert.equal(res.status, 401, 'the new replica knows at once (from its database)');
    assert.equal(res.body.code, 'session_ended');
    const refused = openSocket(`${late.wsUrl}?token=${user.accessToken}`);
    assert.equal((await closeOf(refused, Date.now())).code, 4001);
  });
});
