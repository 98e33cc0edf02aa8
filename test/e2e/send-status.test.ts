/**
 * GET /notifications/:id on the notification service: what became of one send. Its sender and
 * any admin see `{id, sender, title, createdAt, recipients, read, unknownUserIds}`; anyone else,
 * and every id that names no send (unknown, malformed, out of range), gets the same 404, so
 * send ids cannot be probed. `read` follows the recipients' reads.
 *
 * The sender here is a manager known to the directory by id; its token, like the other users',
 * is the admin's claims with another `sub` and `role` (forge.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { announceUsers } from '../support/directory.js';
import { activeSigningKey, decodePayload, signWith } from '../support/forge.js';
import { call, sleep, type JsonResponse } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';

describe('GET /notifications/:id (send status)', () => {
  let stack: Stack;
  let adminToken: string;
  let adminId: string;
  let mint: (sub: string, role: 'admin' | 'manager' | 'employee') => string;
  let db: pg.Client;

  before(async () => {
    stack = await startStack();
    const admin = await login(stack);
    adminToken = admin.accessToken;
    adminId = admin.user.id;
    const key = await activeSigningKey(stack);
    const claims = decodePayload(adminToken);
    mint = (sub, role) => {
      const now = Math.floor(Date.now() / 1000);
      return signWith(key, { ...claims, sub, role, jti: randomUUID(), iat: now, exp: now + 900 });
    };
    db = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await db.connect();
  });
  after(async () => {
    await db?.end();
    await stack?.stop();
  });

  async function person(role: 'manager' | 'employee'): Promise<{ id: string; token: string }> {
    const id = randomUUID();
    await announceUsers(stack.env, [id], role);
    return { id, token: mint(id, role) };
  }

  const status = (id: string, token: string): Promise<JsonResponse> => call(`${stack.notificationUrl}/notifications/${id}`, { token });

  /** The status once the send is stored (the consumer stores it a moment after the 202). */
  async function storedStatus(id: string, token: string): Promise<JsonResponse> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const res = await status(id, token);
      if (res.status === 200) return res;
      assert.ok(Date.now() < deadline, `send ${id} was not stored in 10 s (${res.status})`);
      await sleep(50);
    }
  }

  it('When a manager sends to two users and a made-up id, then the manager and an admin see the status; read follows the reads', async () => {
    // Arrange
    const manager = await person('manager');
    const [alice, bob] = [await person('employee'), await person('employee')];
    const phantom = randomUUID();
    const sent = await call(`${stack.mainUrl}/notifications`, {
      token: manager.token,
      body: { recipients: { userIds: [alice.id, bob.id, phantom] }, title: 'quarterly figures', body: 'b' },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const id = sent.body.id as string;

    // Act
    const asSender = await storedStatus(id, manager.token);
    const asAdmin = await status(id, adminToken);

    // Assert
    assert.deepEqual(Object.keys(asSender.body), ['id', 'sender', 'title', 'createdAt', 'recipients', 'read', 'unknownUserIds']);
    assert.deepEqual({ ...asSender.body, createdAt: undefined }, {
      id,
      sender: { id: manager.id, name: null },
      title: 'quarterly figures',
      createdAt: undefined,
      recipients: 2,
      read: 0,
      unknownUserIds: [phantom],
    });
    assert.ok(Math.abs(Date.parse(asSender.body.createdAt) - Date.now()) < 60_000);
    assert.equal(asSender.headers.get('cache-control'), 'no-store');
    assert.equal(asAdmin.status, 200);
    assert.deepEqual(asAdmin.body, asSender.body);

    // ... reads are counted as they happen
    const aliceItem = (await call(`${stack.notificationUrl}/inbox`, { token: alice.token })).body.items[0];
    assert.equal(aliceItem.notificationId, id);
    assert.equal((await call(`${stack.notificationUrl}/inbox/${aliceItem.id}/read`, { method: 'POST', token: alice.token })).status, 204);
    assert.equal((await status(id, manager.token)).body.read, 1);
    assert.equal((await call(`${stack.notificationUrl}/inbox/${aliceItem.id}/read`, { method: 'POST', token: alice.token })).status, 204);
    assert.equal((await status(id, manager.token)).body.read, 1, 'reading twice counts once');
    assert.equal((await call(`${stack.notificationUrl}/inbox/read-all`, { method: 'POST', token: bob.token })).status, 204);
    assert.equal((await status(id, manager.token)).body.read, 2);
  });

  it('When anyone else asks, then 404, the same as for a send that does not exist', async () => {
    const manager = await person('manager');
    const sent = await call(`${stack.mainUrl}/notifications`, { token: manager.token, body: { recipients: { userIds: [adminId] }, title: 'mine', body: 'b' } });
    assert.equal(sent.status, 202);
    await storedStatus(sent.body.id, manager.token);

    const otherManager = await person('manager');
    const recipientEmployee = await person('employee');
    const never = await status(randomUUID(), adminToken);
    for (const [who, token] of [
      ['another manager', otherManager.token],
      ['an employee', recipientEmployee.token],
      ['the recipient (the admin with a manager role)', mint(adminId, 'manager')],
    ] as const) {
      const res = await status(sent.body.id, token);
      assert.equal(res.status, 404, who);
      assert.deepEqual({ ...res.body, instance: undefined }, { ...never.body, instance: undefined }, `${who}: indistinguishable from no send`);
    }
    assert.equal(never.body.code, 'send_not_found');
    assert.equal((await status(sent.body.id, 'not a token')).status, 401);
    assert.equal((await call(`${stack.notificationUrl}/notifications/${sent.body.id}`)).status, 401);
  });

  it('When the id is malformed or out of range, then 404 (400 for U+0000), never a 5xx', async () => {
    for (const id of ['abc', '0000000000000001', `${randomUUID()}x`, 'x'.repeat(5000), '%E2%82%AC', "'%20OR%201=1--", '00000000-0000-0000-0000-000000000000', randomUUID().toUpperCase()]) {
      const res = await status(id, adminToken);
      assert.equal(res.status, 404, `${id.slice(0, 40)}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    const nul = await status('%00', adminToken);
    assert.equal(nul.status, 400);
    assert.equal(nul.body.code, 'invalid_text');
  });

  it('When the system sent it (no requestedBy), then only an admin sees it, with sender null; a send that named nobody known still has a status', async () => {
    // A send recorded with no sender and no rows, as the consumer records one from another team
    const id = randomUUID();
    const phantom = randomUUID();
    await db.query(`INSERT INTO sends (notification_id, sender_id, title, unknown_user_ids) VALUES ($1, NULL, 'system', $2::uuid[])`, [id, [phantom]]);

    const res = await status(id, adminToken);
    assert.equal(res.status, 200);
    assert.deepEqual({ ...res.body, createdAt: undefined }, { id, sender: null, title: 'system', createdAt: undefined, recipients: 0, read: 0, unknownUserIds: [phantom] });
    const manager = await person('manager');
    assert.equal((await status(id, manager.token)).status, 404);
  });

  it('When the sender sent a batch, then each of its notifications has a status of its own', async () => {
    const manager = await person('manager');
    const [a, b] = [await person('employee'), await person('employee')];
    const res = await call(`${stack.mainUrl}/notifications/batch`, {
      token: manager.token,
      body: { notifications: [{ recipients: { userIds: [a.id] }, title: 'first', body: 'b' }, { recipients: { userIds: [a.id, b.id], roles: ['manager'] }, title: 'second', body: 'b' }] },
    });
    assert.equal(res.status, 202);
    const [first, second] = res.body.ids as [string, string];
    assert.equal((await storedStatus(first, manager.token)).body.recipients, 1);
    const managers = Number((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM directory_users WHERE role = 'manager'")).rows[0]?.n);
    const secondStatus = await storedStatus(second, manager.token);
    assert.equal(secondStatus.body.title, 'second');
    assert.equal(secondStatus.body.recipients, 2 + managers, 'two named users and every manager');
  });
});
