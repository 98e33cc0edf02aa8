/**
 * GET /notifications/sent on a real stack: "what I sent". Each user gets their own sends only,
 * newest first (another manager and an admin see none of the first's; an employee gets an empty
 * page), each with its status and whom it was addressed to; pages meet without gap or repeat,
 * also across the sends of one batch (which share created_at); counts follow the recipients'
 * reads; and hostile queries (limits out of range, NUL, garbage, forged and other users' cursors,
 * a very long query) get the same 4xx GET /inbox gives for the same thing, never a 5xx.
 *
 * Managers here are known to the directory by id; their tokens, like the employees', are the
 * admin's claims with another `sub` and `role` (forge.ts), as in send-status.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createWarrenClient, WarrenProblem } from '../../packages/client/src/index.js';
import { announceUsers } from '../support/directory.js';
import { activeSigningKey, decodePayload, signWith } from '../support/forge.js';
import { call, type JsonResponse } from '../support/http.js';
import { ADMIN, login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

type Role = 'admin' | 'manager' | 'employee';

describe('GET /notifications/sent (what I sent)', () => {
  let stack: Stack;
  let admin: { id: string; name: string; token: string };
  let mint: (sub: string, role: Role) => string;
  let db: pg.Client;

  before(async () => {
    stack = await startStack();
    const session = await login(stack);
    const me = await call(`${stack.mainUrl}/auth/me`, { token: session.accessToken });
    admin = { id: session.user.id, name: me.body.user.name, token: session.accessToken };
    const key = await activeSigningKey(stack);
    const claims = decodePayload(session.accessToken);
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

  async function person(role: Exclude<Role, 'admin'>): Promise<{ id: string; token: string }> {
    const id = randomUUID();
    await announceUsers(stack.env, [id], role);
    return { id, token: mint(id, role) };
  }

  const sent = (token: string, query = ''): Promise<JsonResponse> => call(`${stack.notificationUrl}/notifications/sent${query}`, { token });

  async function send(token: string, body: Record<string, unknown>): Promise<string> {
    const res = await call(`${stack.mainUrl}/notifications`, { token, headers: { 'idempotency-key': randomUUID() }, body: { body: 'b', ...body } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.id;
  }

  async function sendBatch(token: string, notifications: Record<string, unknown>[]): Promise<string[]> {
    const res = await call(`${stack.mainUrl}/notifications/batch`, { token, headers: { 'idempotency-key': randomUUID() }, body: { notifications: notifications.map((n) => ({ body: 'b', ...n })) } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.ids;
  }

  /** Waits until every one of `ids` is stored (has a send record), then returns. */
  async function stored(ids: string[]): Promise<void> {
    await until(async () => {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sends WHERE notification_id = ANY($1::uuid[])', [ids]);
      return rows[0]?.n === ids.length;
    }, `${ids.length} sends stored`);
  }

  /** Every page of the caller's list, `limit` at a time. */
  async function allPages(token: string, limit: number): Promise<{ id: string }[][]> {
    const pages: { id: string }[][] = [];
    let cursor: string | null = null;
    do {
      const res = await sent(token, `?limit=${limit}${cursor ? `&before=${cursor}` : ''}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      pages.push(res.body.items);
      cursor = res.body.nextCursor;
      assert.ok(pages.length < 200, 'paging ends');
    } while (cursor);
    return pages;
  }

  it('When two managers and an admin send, then each lists only their own sends, newest first; an employee gets an empty page', async () => {
    // Arrange
    const [first, second] = [await person('manager'), await person('manager')];
    const employee = await person('employee');
    const firsts = [];
    for (const title of ['one', 'two', 'three']) {
      firsts.push(await send(first.token, { recipients: { userIds: [employee.id] }, title: `first's ${title}` }));
      await stored([firsts[firsts.length - 1] as string]); // stored one after the other: a known order
    }
    const seconds = [await send(second.token, { recipients: { userIds: [employee.id] }, title: "second's" })];
    const admins = [await send(admin.token, { recipients: { userIds: [employee.id] }, title: "admin's" })];
    await stored([...seconds, ...admins]);

    // Act
    const [asFirst, asSecond, asAdmin, asEmployee] = await Promise.all([sent(first.token), sent(second.token), sent(admin.token), sent(employee.token)]);

    // Assert
    assert.equal(asFirst.status, 200);
    assert.equal(asFirst.headers.get('cache-control'), 'no-store');
    assert.deepEqual(asFirst.body.items.map((i: { id: string }) => i.id), [...firsts].reverse());
    assert.deepEqual(asFirst.body.items.map((i: { title: string }) => i.title), ["first's three", "first's two", "first's one"]);
    assert.equal(asFirst.body.nextCursor, null);
    assert.deepEqual(asSecond.body.items.map((i: { id: string }) => i.id), seconds);
    assert.deepEqual(asAdmin.body.items.map((i: { id: string }) => i.id), admins, "the admin's own only: no one else's, though an admin may look any up by id");
    assert.ok(asAdmin.body.items.every((i: { sender: { id: string } }) => i.sender.id === admin.id));
    assert.deepEqual(asEmployee.body, { items: [], nextCursor: null });
    assert.equal(asEmployee.headers.get('cache-control'), 'no-store');
    for (const res of [asFirst, asSecond, asAdmin]) assert.ok(res.body.items.every((i: { sender: { id: string } }) => i.sender.id !== employee.id));

    // ... and without a valid token, nobody's
    assert.equal((await call(`${stack.notificationUrl}/notifications/sent`)).status, 401);
    assert.equal((await sent('not a token')).status, 401);
  });

  it('When a manager sends to a role and to people, then the item says whom (roles, how many named, the first with their names), with its status', async () => {
    // Arrange
    const manager = await person('manager');
    const employees = [await person('employee'), await person('employee')];
    const phantom = randomUUID();
    const employeesNow = Number((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM directory_users WHERE role = 'employee'")).rows[0]?.n);
    const id = await send(manager.token, { recipients: { roles: ['employee'], userIds: [admin.id, phantom, employees[0]?.id] }, title: 'All hands' });
    await stored([id]);

    // Act
    const res = await sent(manager.token);

    // Assert
    const item = res.body.items[0];
    assert.deepEqual(Object.keys(item), ['id', 'sender', 'title', 'createdAt', 'recipients', 'read', 'unknownUserIds', 'unknownUserCount', 'to']);
    assert.deepEqual({ ...item, createdAt: undefined }, {
      id,
      sender: { id: manager.id, name: null },
      title: 'All hands',
      createdAt: undefined,
      recipients: employeesNow + 1, // every employee (the one named among them, once) and the admin
      read: 0,
      unknownUserIds: [phantom],
      unknownUserCount: 1,
      to: { roles: ['employee'], userCount: 3, users: [{ id: admin.id, name: admin.name }, { id: phantom, name: null }, { id: employees[0]?.id, name: null }] },
    });
    // What GET /notifications/:id answers for it is the same status
    const status = await call(`${stack.notificationUrl}/notifications/${id}`, { token: manager.token });
    assert.deepEqual(status.body, { id, sender: item.sender, title: item.title, createdAt: item.createdAt, recipients: item.recipients, read: item.read, unknownUserIds: item.unknownUserIds });
  });

  it('When recipients read a send, then its read count in the list rises (and falls when one marks it unread again)', async () => {
    const manager = await person('manager');
    const [a, b] = [await person('employee'), await person('employee')];
    const id = await send(manager.token, { recipients: { userIds: [a.id, b.id] }, title: 'Counted' });
    await stored([id]);
    const counts = async () => {
      const item = (await sent(manager.token)).body.items[0];
      assert.equal(item.id, id);
      return [item.recipients, item.read];
    };
    assert.deepEqual(await counts(), [2, 0]);

    const aItem = (await call(`${stack.notificationUrl}/inbox`, { token: a.token })).body.items[0];
    assert.equal((await call(`${stack.notificationUrl}/inbox/${aItem.id}/read`, { method: 'POST', token: a.token })).status, 204);
    assert.deepEqual(await counts(), [2, 1]);
    assert.equal((await call(`${stack.notificationUrl}/inbox/read-all`, { method: 'POST', token: b.token })).status, 204);
    assert.deepEqual(await counts(), [2, 2]);
    assert.equal((await call(`${stack.notificationUrl}/inbox/${aItem.id}/unread`, { method: 'POST', token: a.token })).status, 204);
    assert.deepEqual(await counts(), [2, 1]);
  });

  it('When a sender pages through a batch (one created_at) and single sends, then the pages meet without gap or repeat at every size', async () => {
    // Arrange: 4 single sends, then a batch of 30 (stored in one transaction: one created_at), then 3 more
    const manager = await person('manager');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await send(manager.token, { recipients: { roles: ['manager'] }, title: `single ${i}` }));
    ids.push(...(await sendBatch(manager.token, Array.from({ length: 30 }, (_, i) => ({ recipients: { userIds: [admin.id] }, title: `batch ${i}` })))));
    for (let i = 4; i < 7; i++) ids.push(await send(manager.token, { recipients: { roles: ['manager'] }, title: `single ${i}` }));
    await stored(ids);
    const batchTimes = await db.query<{ n: number }>('SELECT count(DISTINCT created_at)::int AS n FROM sends WHERE notification_id = ANY($1::uuid[])', [ids.slice(4, 34)]);
    assert.equal(batchTimes.rows[0]?.n, 1, 'the batch shares one created_at');
    const expected = (
      await db.query<{ id: string }>('SELECT notification_id AS id FROM sends WHERE sender_id = $1 ORDER BY created_at DESC, notification_id DESC', [manager.id])
    ).rows.map((r) => r.id);
    assert.deepEqual([...expected].sort(), [...ids].sort());

    for (const limit of [1, 3, 7, 20, 30, 37, 100]) {
      // Act
      const pages = await allPages(manager.token, limit);

      // Assert
      assert.deepEqual(pages.flat().map((i) => i.id), expected, `limit ${limit}`);
      assert.ok(pages.slice(0, -1).every((p) => p.length === limit), `limit ${limit}: full pages but the last`);
    }
    const first = await sent(manager.token);
    assert.equal(first.body.items.length, 20, 'the default page is 20');
  });

  it("When another user's cursor, or a forged one, is given, then it pages the caller's own sends only", async () => {
    // Arrange: a manager with 3 sends, and another with a cursor in their own list
    const [mine, theirs] = [await person('manager'), await person('manager')];
    const myIds = [await send(mine.token, { recipients: { roles: ['manager'] }, title: 'mine 1' }), await send(mine.token, { recipients: { roles: ['manager'] }, title: 'mine 2' })];
    const theirIds = [await send(theirs.token, { recipients: { roles: ['manager'] }, title: 'theirs 1' }), await send(theirs.token, { recipients: { roles: ['manager'] }, title: 'theirs 2' })];
    await stored([...myIds, ...theirIds]);
    const theirCursor = (await sent(theirs.token, '?limit=1')).body.nextCursor as string;
    assert.ok(theirCursor);
    const forge = (at: string, id: string) => Buffer.from(JSON.stringify([at, id])).toString('base64url');

    for (const [what, cursor] of [
      ["another user's cursor", theirCursor],
      ['a forged cursor in the far future naming their send', forge('9999-12-31T23:59:59.999999Z', theirIds[0] as string)],
      ['a forged cursor with a random id', forge('2999-01-01T00:00:00.000000Z', randomUUID())],
    ] as const) {
      // Act
      const res = await sent(mine.token, `?before=${cursor}`);

      // Assert
      assert.equal(res.status, 200, what);
      const got = res.body.items.map((i: { id: string }) => i.id);
      assert.ok(got.every((id: string) => myIds.includes(id)), `${what}: only mine (${got.join(', ')})`);
      assert.ok(res.body.items.every((i: { sender: { id: string } }) => i.sender.id === mine.id), what);
    }
    const epoch = await sent(mine.token, `?before=${forge('1970-01-01T00:00:00.000000Z', randomUUID())}`);
    assert.deepEqual(epoch.body, { items: [], nextCursor: null }, 'before anything was sent: nothing');
  });

  it('When the query is hostile, then the answer is the 4xx GET /inbox gives for the same thing, never a 5xx', async () => {
    const manager = await person('manager');
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const id = randomUUID();
    // [what, query on /notifications/sent, query on /inbox meaning the same]
    const cases: [string, string, string][] = [
      ['limit 0', '?limit=0', '?limit=0'],
      ['limit 101', '?limit=101', '?limit=101'],
      ['limit abc', '?limit=abc', '?limit=abc'],
      ['limit -1', '?limit=-1', '?limit=-1'],
      ['limit 1.5', '?limit=1.5', '?limit=1.5'],
      ['limit empty', '?limit=', '?limit='],
      ['limit huge', '?limit=99999999999999999999999', '?limit=99999999999999999999999'],
      ['limit twice', '?limit=1&limit=2', '?limit=1&limit=2'],
      ['limit NUL', '?limit=%00', '?limit=%00'],
      ['limit 1 then NUL', '?limit=1%00', '?limit=1%00'],
      ['cursor NUL', '?before=%00', '?before=%00'],
      ['cursor garbage', '?before=garbage!', '?before=garbage!'],
      ['cursor base64 of nonsense', `?before=${enc({ hello: 'world' })}`, '?before=zz'],
      ['cursor with a bad date', `?before=${enc(['2030-02-30T00:00:00.000000Z', id])}`, '?before=0020000000000000'],
      ['cursor in year 0', `?before=${enc(['0000-01-01T00:00:00.000000Z', id])}`, '?before=ffffffffffffffff'],
      ['cursor with a bad id', `?before=${enc(['2030-01-01T00:00:00.000000Z', "' OR 1=1 --"])}`, "?before='%20OR%201=1%20--"],
      ['cursor twice', `?before=${enc(['2030-01-01T00:00:00.000000Z', id])}&before=${enc(['2030-01-01T00:00:00.000000Z', id])}`, '?before=0000000000000001&before=0000000000000001'],
      ['cursor of 4 000 characters', `?before=${'A'.repeat(4000)}`, `?before=${'A'.repeat(4000)}`],
      ['a query of 64 KB', `?before=${'A'.repeat(64 * 1024)}`, `?before=${'A'.repeat(64 * 1024)}`],
    ];
    for (const [what, sentQuery, inboxQuery] of cases) {
      // Act
      const [res, inbox] = await Promise.all([sent(manager.token, sentQuery), call(`${stack.notificationUrl}/inbox${inboxQuery}`, { token: manager.token })]);

      // Assert
      assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.status, inbox.status, `${what}: the same status as /inbox`);
      assert.equal(res.body?.code, inbox.body?.code, `${what}: the same code as /inbox (${res.body?.code})`);
      if (res.body?.code === 'validation_failed') {
        assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path), inbox.body.errors.map((e: { path: string }) => e.path), `${what}: names the same parameter`);
      }
    }
    assert.equal((await sent(manager.token, '?limit=100&unknown=1')).status, 200, 'an unknown parameter is ignored, as on /inbox');
  });

  it("When @warren/client's notifications.sent pages the admin's sends, then it gets the same pages, and a bad cursor is a WarrenProblem 400", async () => {
    // Arrange
    const client = createWarrenClient({ mainBackendUrl: stack.mainUrl, notificationUrl: stack.notificationUrl });
    await client.login({ email: ADMIN.email, password: ADMIN.password });
    const { ids } = await client.notifications.sendBatch([1, 2, 3].map((n) => ({ recipients: { userIds: [admin.id] }, title: `client ${n}`, body: 'b' })));
    await stored(ids);
    const all = (await sent(admin.token, '?limit=100')).body.items.map((i: { id: string }) => i.id);

    // Act
    const first = await client.notifications.sent({ limit: 2 });
    const second = await client.notifications.sent({ limit: 100, before: first.nextCursor ?? undefined });

    // Assert
    assert.deepEqual([...first.items, ...second.items].map((i) => i.id), all);
    assert.equal(second.nextCursor, null);
    assert.deepEqual((await client.notifications.sent()).items.map((i) => i.id), all.slice(0, 20));
    await assert.rejects(client.notifications.sent({ before: 'nope' }), (err) => err instanceof WarrenProblem && err.status === 400 && err.code === 'validation_failed');
    await client.logout();
  });

  it('When the OpenAPI document is asked for, then it documents GET /notifications/sent with its page schema', async () => {
    const doc = (await call(`${stack.notificationUrl}/openapi.json`)).body;
    const op = doc.paths['/notifications/sent']?.get;
    assert.equal(op?.operationId, 'sentNotifications');
    assert.deepEqual(op.parameters.map((p: { name: string }) => p.name).sort(), ['before', 'limit']);
    assert.ok(doc.components.schemas.SentItem, 'the item schema is a component');
  });
});
