/**
 * Every stored notification carries `notificationId` (the id its send answered, shared by all
 * its recipients) and `sender` ({id, name} of the user who sent it, null for the system's own),
 * in the inbox, on live socket frames and on the `?after=` catch-up alike. Names come from the
 * notification service's user directory (fed by user.upserted, which now carries the name, or
 * asked of auth for a sender it has no name for), never from what a message says: a message
 * published straight to the broker by another team names its sender by `requestedBy` or not at
 * all, and a `sender` field in it changes nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import pg from 'pg';
import type { InboxNotification as Notification } from '@warren/shared/contracts/inbox';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { announceUsers } from '../support/directory.js';
import { RABBITMQ_URL } from '../support/env.js';
import { activeSigningKey, decodePayload, signWith } from '../support/forge.js';
import { call, sleep } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { openSocket, type TestSocket } from '../support/ws-client.js';

const ADMIN_NAME = 'Administrator';

describe('notificationId and sender on every stored notification', () => {
  let stack: Stack;
  let adminToken: string;
  let adminId: string;
  let mint: (sub: string) => string;
  let db: pg.Client;
  let conn: ChannelModel;
  let ch: ConfirmChannel;
  const sockets: TestSocket[] = [];

  before(async () => {
    stack = await startStack();
    const admin = await login(stack);
    adminToken = admin.accessToken;
    adminId = admin.user.id;
    const key = await activeSigningKey(stack);
    const claims = decodePayload(adminToken);
    mint = (sub) => {
      const now = Math.floor(Date.now() / 1000);
      return signWith(key, { ...claims, sub, jti: randomUUID(), iat: now, exp: now + 900 });
    };
    db = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await db.connect();
    conn = await amqplib.connect(RABBITMQ_URL);
    ch = await conn.createConfirmChannel();
  });
  after(async () => {
    for (const s of sockets) s.ws.terminate();
    await conn?.close();
    await db?.end();
    await stack?.stop();
  });

  async function user(): Promise<{ id: string; token: string }> {
    const id = randomUUID();
    await announceUsers(stack.env, [id]);
    return { id, token: mint(id) };
  }

  async function readySocket(token: string, afterId?: string): Promise<TestSocket> {
    const socket = openSocket(`${stack.notificationWsUrl}?token=${encodeURIComponent(token)}${afterId ? `&after=${afterId}` : ''}`);
    sockets.push(socket);
    assert.equal((await socket.next()).type, 'ready');
    return socket;
  }

  async function frames(socket: TestSocket, n: number): Promise<Notification[]> {
    const out: Notification[] = [];
    for (let i = 0; i < n; i++) {
      const frame = await socket.next(15_000);
      assert.equal(frame.type, 'notification', JSON.stringify(frame));
      out.push(frame.notification as Notification);
    }
    return out;
  }

  const inbox = async (token: string): Promise<Notification[]> => (await call(`${stack.notificationUrl}/inbox?limit=100`, { token })).body.items.reverse();

  /** Publishes straight to the broker, as another team's service would. */
  async function publish(routingKey: string, message: Record<string, unknown>): Promise<void> {
    ch.publish(topology(stack.env.BROKER_NAMESPACE as string).exchanges.events.name, routingKey, Buffer.from(JSON.stringify(message)), {
      persistent: true,
      contentType: 'application/json',
      messageId: randomUUID(),
    });
    await ch.waitForConfirms();
  }

  async function directoryName(userId: string): Promise<string | null | undefined> {
    const { rows } = await db.query<{ name: string | null }>('SELECT name FROM directory_users WHERE user_id = $1', [userId]);
    return rows[0]?.name;
  }

  it('When a user sends, then each copy carries the send id and the sender, identical in the inbox, live and on the catch-up', async () => {
    // Arrange
    const u = await user();
    const live = await readySocket(u.token);

    // Act: one single send, one batch of two
    const single = await call(`${stack.mainUrl}/notifications`, { token: adminToken, body: { recipients: { userIds: [u.id] }, title: 'single', body: 'b' } });
    const batch = await call(`${stack.mainUrl}/notifications/batch`, {
      token: adminToken,
      body: { notifications: [{ recipients: { userIds: [u.id] }, title: 'batch 0', body: 'b' }, { recipients: { userIds: [u.id] }, title: 'batch 1', body: 'b' }] },
    });
    assert.equal(single.status, 202);
    assert.equal(batch.status, 202);
    const sendIds = [single.body.id, ...batch.body.ids];

    // Assert: live frames
    const got = await frames(live, 3);
    assert.deepEqual(got.map((n) => n.notificationId), sendIds);
    for (const n of got) assert.deepEqual(n.sender, { id: adminId, name: ADMIN_NAME });
    assert.deepEqual(Object.keys(got[0] as object), ['id', 'notificationId', 'sender', 'type', 'title', 'body', 'data', 'createdAt', 'readAt']);
    // ... the inbox says exactly the same
    assert.deepEqual(await inbox(u.token), got);
    // ... and so does a catch-up after the first
    const catchUp = await readySocket(u.token, got[0]?.id);
    assert.deepEqual(await frames(catchUp, 2), got.slice(1));
  });

  it('When one send reaches several users, then they all see the same notificationId and their own inbox id', async () => {
    const [a, b] = [await user(), await user()];
    const res = await call(`${stack.mainUrl}/notifications`, { token: adminToken, body: { recipients: { userIds: [a.id, b.id] }, title: 'shared', body: 'b' } });
    assert.equal(res.status, 202);
    let both: Notification[] = [];
    for (const deadline = Date.now() + 10_000; both.length < 2 && Date.now() < deadline; await sleep(50)) {
      both = [...(await inbox(a.token)), ...(await inbox(b.token))];
    }
    assert.equal(both.length, 2);
    assert.equal(both[0]?.notificationId, res.body.id);
    assert.equal(both[1]?.notificationId, res.body.id);
  });

  it('When another team publishes straight to the broker, then the sender is its requestedBy with the directory name, or null; a sender field is not believed', async () => {
    const u = await user();
    const socket = await readySocket(u.token);
    const unknownSender = randomUUID();
    const base = (title: string) => ({ notificationId: randomUUID(), recipients: { userIds: [u.id] }, title, body: 'b', requestedAt: new Date().toISOString() });
    const system = { ...base('from the system'), sender: { id: adminId, name: 'The CEO' } };
    const onBehalf = { ...base('on behalf of the admin'), requestedBy: { userId: adminId }, sender: { id: randomUUID(), name: 'Someone else' } };
    const nobody = { ...base('on behalf of nobody auth knows'), requestedBy: { userId: unknownSender } };
    const teamBatch = {
      notifications: [0, 1].map((i) => ({ notificationId: randomUUID(), recipients: { userIds: [u.id] }, title: `team batch ${i}`, body: 'b' })),
      requestedBy: { userId: adminId },
      requestedAt: new Date().toISOString(),
    };

    await publish(ROUTING_KEYS.notificationRequested, system);
    await publish(ROUTING_KEYS.notificationRequested, onBehalf);
    await publish(ROUTING_KEYS.notificationRequested, nobody);
    await publish(ROUTING_KEYS.notificationBatchRequested, teamBatch);

    const got = await frames(socket, 5);
    assert.deepEqual(
      got.map((n) => [n.title, n.notificationId, n.sender]),
      [
        ['from the system', system.notificationId, null],
        ['on behalf of the admin', onBehalf.notificationId, { id: adminId, name: ADMIN_NAME }],
        ['on behalf of nobody auth knows', nobody.notificationId, { id: unknownSender, name: null }],
        ['team batch 0', teamBatch.notifications[0]?.notificationId, { id: adminId, name: ADMIN_NAME }],
        ['team batch 1', teamBatch.notifications[1]?.notificationId, { id: adminId, name: ADMIN_NAME }],
      ],
    );
    assert.deepEqual(await inbox(u.token), got);
  });

  it('When the directory has no name for a sender, then auth is asked and the name is there from the first frame on', async () => {
    // Arrange: as after an upgrade, the admin is known by id and role only
    await db.query('UPDATE directory_users SET name = NULL WHERE user_id = $1', [adminId]);
    const u = await user();
    const socket = await readySocket(u.token);

    // Act
    const res = await call(`${stack.mainUrl}/notifications`, { token: adminToken, body: { recipients: { userIds: [u.id] }, title: 'looked up', body: 'b' } });

    // Assert
    assert.equal(res.status, 202);
    const [n] = await frames(socket, 1);
    assert.deepEqual(n?.sender, { id: adminId, name: ADMIN_NAME });
    assert.equal(await directoryName(adminId), ADMIN_NAME, 'recorded for the next sends');
  });

  it('When auth announces users, then the directory keeps their names: a repeat of the version fills a missing one, an event without a name keeps it', async () => {
    assert.equal(await directoryName(adminId), ADMIN_NAME, 'the bootstrap admin was announced with a name');
    const id = randomUUID();
    const announce = async (event: Record<string, unknown>) => {
      await publish(ROUTING_KEYS.userUpserted, { userId: id, role: 'employee', occurredAt: new Date().toISOString(), ...event });
    };
    const settle = async (check: () => Promise<boolean>, what: string) => {
      for (const deadline = Date.now() + 10_000; !(await check()); await sleep(50)) assert.ok(Date.now() < deadline, what);
    };
    const row = async () => (await db.query<{ name: string | null; role: string; version: string }>('SELECT name, role, version FROM directory_users WHERE user_id = $1', [id])).rows[0];

    await announce({ version: 1 });
    await settle(async () => (await row()) !== undefined, 'announced without a name');
    assert.equal((await row())?.name, null);

    await announce({ version: 1, name: 'Ada' });
    await settle(async () => (await row())?.name === 'Ada', 'the same version fills the name');

    await announce({ version: 1, name: 'Not Ada' });
    await announce({ version: 2, role: 'manager' });
    await settle(async () => (await row())?.role === 'manager', 'the newer version applied');
    assert.equal((await row())?.name, 'Ada', 'a name is neither overwritten by the same version nor dropped by an event without one');

    await announce({ version: 3, name: 'Ada L.' });
    await settle(async () => (await row())?.name === 'Ada L.', 'a newer version renames');
  });

  it('When a row was stored before sends were recorded, then it shows its notificationId and a null sender', async () => {
    const u = await user();
    const notificationId = randomUUID();
    await db.query(`INSERT INTO inbox_items (notification_id, user_id, type, title, body) VALUES ($1, $2, 'general', 'from long ago', 'b')`, [notificationId, u.id]);
    const [n] = await inbox(u.token);
    assert.equal(n?.notificationId, notificationId);
    assert.equal(n?.sender, null);
  });
});
