/**
 * Phantom recipients: a sender naming 1 000 made-up user ids per request used to store 1 000
 * rows each time (25 MB from 3 requests). Now user ids are resolved against the notification
 * service's user directory when the message is consumed (ids it has not heard of yet are
 * confirmed with auth, the source of truth): an unknown id stores nothing and is counted in the
 * send's record, ready for the send status. Checked through the public API
 * (the real recipient's inbox) and in the notification database (what was stored).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { announceUsers, waitUntilKnown } from '../support/directory.js';
import { call } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';

describe('Phantom recipients', () => {
  let stack: Stack;
  let token: string;
  let adminId: string;
  let db: pg.Client;

  before(async () => {
    stack = await startStack();
    const admin = await login(stack);
    token = admin.accessToken;
    adminId = admin.user.id;
    await waitUntilKnown(stack.env, [adminId]);
    db = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await db.connect();
  });
  after(async () => {
    await db?.end();
    await stack?.stop();
  });

  async function send(body: Record<string, unknown>): Promise<string> {
    const res = await call<{ id: string }>(`${stack.mainUrl}/notifications`, { token, body: { body: 'phantom', ...body } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.id;
  }

  async function sendRecord(notificationId: string): Promise<{ unknown: string[]; rows: number }> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { rows } = await db.query<{ unknown: string[] }>('SELECT unknown_user_ids::text[] AS unknown FROM sends WHERE notification_id = $1', [notificationId]);
      if (rows[0]) {
        const { rows: n } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox_items WHERE notification_id = $1', [notificationId]);
        return { unknown: rows[0].unknown, rows: n[0]?.n ?? 0 };
      }
      assert.ok(Date.now() < deadline, `send ${notificationId} was not recorded within 15 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('When a send names 1 000 made-up user ids and one real user, then one row is stored and the 1 000 are counted as unknown', async () => {
    // Arrange
    const phantoms = Array.from({ length: 999 }, () => randomUUID());
    const rowsBefore = Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox_items')).rows[0]?.n);

    // Act: three requests, as in the finding
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await send({ recipients: { userIds: [...phantoms, adminId] }, title: `phantoms ${i}` }));

    // Assert
    for (const id of ids) {
      const record = await sendRecord(id);
      assert.equal(record.rows, 1, 'only the real user got a row');
      assert.equal(record.unknown.length, 999);
      assert.deepEqual(new Set(record.unknown), new Set(phantoms));
    }
    const rowsAfter = Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox_items')).rows[0]?.n);
    assert.equal(rowsAfter - rowsBefore, 3);
    const inbox = await call(`${stack.notificationUrl}/inbox`, { token });
    assert.deepEqual(
      (inbox.body.items as { title: string }[]).map((n) => n.title).filter((t) => t.startsWith('phantoms')).sort(),
      ['phantoms 0', 'phantoms 1', 'phantoms 2'],
    );
  });

  it('When a send names only unknown ids, then nothing is stored and the send still records them', async () => {
    const phantoms = [randomUUID(), randomUUID()];
    const id = await send({ recipients: { userIds: phantoms }, title: 'nobody' });
    const record = await sendRecord(id);
    assert.equal(record.rows, 0);
    assert.deepEqual(new Set(record.unknown), new Set(phantoms));
  });

  it('When a real user is named before their announcement reached the directory, then auth confirms them and the notification is stored', async () => {
    // Arrange: the admin is real (auth knows them) but the directory has not heard of them yet
    await db.query('DELETE FROM directory_users WHERE user_id = $1', [adminId]);

    // Act
    const id = await send({ recipients: { userIds: [adminId] }, title: 'announcement still on its way' });

    // Assert: stored, not counted as unknown, and the directory learned the user from auth's answer
    const record = await sendRecord(id);
    assert.equal(record.rows, 1);
    assert.deepEqual(record.unknown, []);
    const { rows } = await db.query<{ role: string }>('SELECT role FROM directory_users WHERE user_id = $1', [adminId]);
    assert.equal(rows[0]?.role, 'admin');
  });

  it('When a named user is announced by auth, then sends to them are stored; role fan-out is unaffected by unknown ids', async () => {
    // Arrange: a user the directory learns about (as auth announces its users)
    const known = randomUUID();
    await announceUsers(stack.env, [known], 'manager');
    const phantom = randomUUID();

    // Act
    const id = await send({ recipients: { userIds: [known, phantom], roles: ['admin'] }, title: 'mixed' });

    // Assert: the known user and the admin (by role) each have a row; the phantom none
    const record = await sendRecord(id);
    assert.equal(record.rows, 2);
    assert.deepEqual(record.unknown, [phantom]);
  });
});
