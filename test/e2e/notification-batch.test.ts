/**
 * POST /notifications/batch end to end, on the real broker and database: ids in item order, each
 * recipient gets each notification once and in that order (live and in the inbox), all or
 * nothing (one bad item names its index and sends nothing; 0 or 101 items are refused), the
 * Idempotency-Key (replay, another body, a race of two identical requests), its own body limit
 * (larger than a single send's, read only after the guards), and batches large enough to travel
 * as several messages.
 *
 * Recipients are fresh random users announced to the notification service's directory; their
 * tokens are the admin's claims with another `sub` (forge.ts). "Nothing more was stored" is
 * proven without a fixed wait: a sentinel sent afterwards must arrive first.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { InboxNotification as Notification } from '@warren/shared/contracts/inbox';
import { announceUsers } from '../support/directory.js';
import { activeSigningKey, decodePayload, signWith } from '../support/forge.js';
import { call, sleep, type JsonResponse } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { openSocket, type TestSocket } from '../support/ws-client.js';

describe('POST /notifications/batch', () => {
  let stack: Stack;
  let adminToken: string;
  let adminId: string;
  let mint: (sub: string, extra?: Record<string, unknown>) => string;
  const sockets: TestSocket[] = [];

  before(async () => {
    stack = await startStack();
    const admin = await login(stack);
    adminToken = admin.accessToken;
    adminId = admin.user.id;
    const key = await activeSigningKey(stack);
    const claims = decodePayload(adminToken);
    mint = (sub, extra = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return signWith(key, { ...claims, sub, jti: randomUUID(), iat: now, exp: now + 900, ...extra });
    };
  });
  after(async () => {
    for (const s of sockets) s.ws.terminate();
    await stack?.stop();
  });

  const batch = (body: unknown, opts: { key?: string; token?: string } = {}): Promise<JsonResponse> =>
    call(`${stack.mainUrl}/notifications/batch`, {
      token: opts.token ?? adminToken,
      headers: opts.key ? { 'idempotency-key': opts.key } : {},
      body,
    });

  const item = (userIds: string[], title: string, extra: Record<string, unknown> = {}) => ({ recipients: { userIds }, title, body: `body of ${title}`, ...extra });

  /** Batch messages main-backend has published so far (its /metrics). */
  async function batchMessagesPublished(): Promise<number> {
    const text = await (await fetch(`${stack.mainUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('amqp_messages_published_total{') && l.includes('routing_key="notification.batch.requested"'));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  }

  async function users(n: number): Promise<{ id: string; token: string }[]> {
    const ids = Array.from({ length: n }, () => randomUUID());
    await announceUsers(stack.env, ids);
    return ids.map((id) => ({ id, token: mint(id) }));
  }

  async function readySocket(token: string): Promise<TestSocket> {
    const socket = openSocket(`${stack.notificationWsUrl}?token=${encodeURIComponent(token)}`);
    sockets.push(socket);
    assert.equal((await socket.next()).type, 'ready');
    return socket;
  }

  async function frames(socket: TestSocket, n: number): Promise<Notification[]> {
    const out: Notification[] = [];
    for (let i = 0; i < n; i++) {
      const frame = await socket.next(15_000);
      assert.equal(frame.type, 'notification', `frame ${i}: ${JSON.stringify(frame).slice(0, 200)}`);
      out.push(frame.notification as Notification);
    }
    return out;
  }

  /** The user's whole inbox, oldest first. */
  async function inbox(token: string): Promise<Notification[]> {
    const items: Notification[] = [];
    let cursor: string | null = null;
    do {
      const page: JsonResponse<{ items: Notification[]; nextCursor: string | null }> = await call(
        `${stack.notificationUrl}/inbox?limit=100${cursor ? `&before=${cursor}` : ''}`,
        { token },
      );
      assert.equal(page.status, 200);
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    return items.reverse();
  }

  /**
   * Sends a sentinel to `user` alone and waits until it is the newest row of their inbox: every
   * message published before it has been consumed by then, so the inbox is final.
   */
  async function settled(user: { id: string; token: string }): Promise<Notification[]> {
    const title = `sentinel ${randomUUID()}`;
    assert.equal((await call(`${stack.mainUrl}/notifications`, { token: adminToken, body: item([user.id], title) })).status, 202);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const all = await inbox(user.token);
      if (all.some((n) => n.title === title)) return all.filter((n) => !n.title.startsWith('sentinel '));
      assert.ok(Date.now() < deadline, 'the sentinel was never stored');
      await sleep(50);
    }
  }

  it('When a batch is sent, then 202 answers one id per item in order, and every recipient gets each once, in item order, live and in the inbox', async () => {
    // Arrange: three users online; the items address them in different combinations
    const [a, b, c] = (await users(3)) as [{ id: string; token: string }, { id: string; token: string }, { id: string; token: string }];
    const socketA = await readySocket(a.token);
    const socketC = await readySocket(c.token);
    const items = [
      item([a.id, b.id, c.id], 'batch 0'),
      item([a.id], 'batch 1', { type: 'report.ready', data: { n: 1 } }),
      item([b.id, c.id], 'batch 2'),
      item([c.id, a.id], 'batch 3'),
      item([a.id, b.id, c.id], 'batch 4'),
    ];

    const published = await batchMessagesPublished();

    // Act
    const res = await batch({ notifications: items });

    // Assert: ids in item order, distinct UUIDs, all in one message
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal((await batchMessagesPublished()) - published, 1, 'one message for the batch');
    const ids = res.body.ids as string[];
    assert.equal(ids.length, 5);
    assert.equal(new Set(ids).size, 5);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    // ... each live socket gets its items in item order, with their notificationId and sender
    const expectFor = (user: string) => items.flatMap((it, i) => (it.recipients.userIds.includes(user) ? [{ title: it.title, notificationId: ids[i] }] : []));
    for (const [socket, user] of [[socketA, a.id], [socketC, c.id]] as const) {
      const got = await frames(socket, expectFor(user).length);
      assert.deepEqual(got.map((n) => ({ title: n.title, notificationId: n.notificationId })), expectFor(user));
      for (const n of got) assert.deepEqual(n.sender, { id: adminId, name: 'Administrator' });
      assert.equal(got[0]?.body, 'body of ' + got[0]?.title);
    }
    // ... and each inbox holds them once, oldest first in item order (b was offline)
    for (const user of [a, b, c]) {
      const stored = await settled(user);
      assert.deepEqual(stored.map((n) => ({ title: n.title, notificationId: n.notificationId })), expectFor(user.id), `inbox of ${user.id}`);
    }
    const typed = (await inbox(a.token)).find((n) => n.title === 'batch 1');
    assert.equal(typed?.type, 'report.ready');
    assert.deepEqual(typed?.data, { n: 1 });
  });

  it('When one item is invalid, then 400 names it by its index and nothing of the batch is sent', async () => {
    const [user] = (await users(1)) as [{ id: string; token: string }];
    const prefix = `all-or-nothing ${randomUUID()}`;
    const good = (i: number) => item([user.id], `${prefix} ${i}`);
    const cases: [string, unknown[], string][] = [
      ['empty title at 3', [good(0), good(1), good(2), { ...good(3), title: '   ' }, good(4)], 'notifications.3.title'],
      ['no recipients at 0', [{ ...good(0), recipients: {} }, good(1)], 'notifications.0.recipients'],
      ['unknown key at 1', [good(0), { ...good(1), priority: 'high' }], 'notifications.1'],
      ['bad user id at 2', [good(0), good(1), item(['not-a-uuid'], 'x')], 'notifications.2.recipients.userIds.0'],
      ['a string item', [good(0), 'hello'], 'notifications.1'],
      ['data too deep at 1', [good(0), { ...good(1), data: JSON.parse('{"a":'.repeat(33) + '1' + '}'.repeat(33)) }], 'notifications.1.data'],
    ];
    for (const [what, notifications, path] of cases) {
      const res = await batch({ notifications });
      assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'validation_failed', what);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.ok(
        (res.body.errors as { path: string }[]).some((e) => e.path === path || e.path.startsWith(`${path}.`)),
        `${what}: expected a path starting with ${path}, got ${JSON.stringify(res.body.errors)}`,
      );
      for (const e of res.body.errors as { path: string }[]) assert.match(e.path, /^notifications\.\d+/, `${what}: every error names its item`);
    }
    // U+0000 is refused at the edge, with the item's path too
    const nul = await batch({ notifications: [good(0), { ...good(1), title: 'a\u0000b' }] });
    assert.equal(nul.status, 400);
    assert.equal(nul.body.code, 'invalid_text');
    assert.equal(nul.body.errors?.[0]?.path, 'notifications.1.title');

    const stored = await settled(user);
    assert.deepEqual(stored, [], 'nothing of a refused batch was stored');
  });

  it('When a batch has 0 or 101 items, or is not a batch, then 400 and nothing is sent; 100 items are accepted', async () => {
    const [user] = (await users(1)) as [{ id: string; token: string }];
    const many = (n: number) => Array.from({ length: n }, (_, i) => item([user.id], `size ${i}`));
    for (const [what, body] of [
      ['0 items', { notifications: [] }],
      ['101 items', { notifications: many(101) }],
      ['no list', {}],
      ['a list at the top', many(2)],
      ['a single body', item([user.id], 'single')],
      ['an extra key', { notifications: many(1), also: true }],
      ['notifications not a list', { notifications: { 0: many(1)[0] } }],
    ] as const) {
      const res = await batch(body);
      assert.equal(res.status, 400, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'validation_failed', what);
    }
    const over = await batch({ notifications: many(101) });
    assert.deepEqual(over.body.errors.map((e: { path: string }) => e.path), ['notifications'], '101 is refused as a whole, not item by item');
    assert.deepEqual(await settled(user), []);

    const hundred = await batch({ notifications: many(100) });
    assert.equal(hundred.status, 202, JSON.stringify(hundred.body));
    assert.equal(hundred.body.ids.length, 100);
    const stored = await settled(user);
    assert.deepEqual(stored.map((n) => n.title), many(100).map((n) => n.title), 'all 100 stored once, in order');
    assert.deepEqual(stored.map((n) => n.notificationId), hundred.body.ids);
  });

  it('When a batch names more than 5 000 user ids in all, then 400 naming notifications and nothing is sent; 5 000 are accepted', async () => {
    const [user] = (await users(1)) as [{ id: string; token: string }];
    const thousand = (i: number) => item([user.id, ...Array.from({ length: 999 }, () => randomUUID())], `ids ${i}`);
    // 100 items of 1 000 ids each: the finding's 3.9 MB batch that held the consumer ~6 s
    for (const [what, notifications] of [
      ['5 001 ids', [...Array.from({ length: 5 }, (_, i) => thousand(i)), item([user.id], 'one more')]],
      ['100 000 ids', Array.from({ length: 100 }, (_, i) => thousand(i))],
    ] as const) {
      const res = await batch({ notifications });
      assert.equal(res.status, 400, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'validation_failed', what);
      assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path), ['notifications'], what);
    }
    assert.deepEqual(await settled(user), []);

    const atCap = await batch({ notifications: Array.from({ length: 5 }, (_, i) => thousand(i)) });
    assert.equal(atCap.status, 202, JSON.stringify(atCap.body));
    assert.equal(atCap.body.ids.length, 5);
  });

  it('When the same Idempotency-Key and body are sent again, then the same ids are answered and nothing is stored twice; another body is a 422', async () => {
    const [user] = (await users(1)) as [{ id: string; token: string }];
    const key = `batch-${randomUUID()}`;
    const body = { notifications: [item([user.id], 'replay 0', { data: { a: 1, b: { c: 2, d: 3 } } }), item([user.id], 'replay 1')] };

    const first = await batch(body, { key });
    const again = await batch(body, { key });
    // The same body with its keys in another order is the same request
    const reordered = await batch(
      { notifications: [{ data: { b: { d: 3, c: 2 }, a: 1 }, body: 'body of replay 0', title: 'replay 0', recipients: { userIds: [user.id] } }, body.notifications[1]] },
      { key },
    );
    const other = await batch({ notifications: [item([user.id], 'replay 0'), item([user.id], 'something else')] }, { key });
    const single = await call(`${stack.mainUrl}/notifications`, { token: adminToken, headers: { 'idempotency-key': key }, body: body.notifications[0] });

    assert.equal(first.status, 202);
    assert.equal(again.status, 202);
    assert.deepEqual(again.body.ids, first.body.ids);
    assert.equal(reordered.status, 202, JSON.stringify(reordered.body));
    assert.deepEqual(reordered.body.ids, first.body.ids);
    assert.equal(other.status, 422);
    assert.equal(other.body.code, 'idempotency_key_reused');
    assert.equal(single.status, 422, 'a batch key reused for a single send is another request');

    // Keys belong to their sender: another sender with the same key makes a batch of their own
    const otherSender = await batch(body, { key, token: mint(randomUUID()) });
    assert.equal(otherSender.status, 202);
    assert.notDeepEqual(otherSender.body.ids, first.body.ids);

    const stored = await settled(user);
    assert.deepEqual(stored.map((n) => n.notificationId).sort(), [...first.body.ids, ...otherSender.body.ids].sort());
    assert.equal(stored.filter((n) => n.notificationId === first.body.ids[0]).length, 1);
  });

  it('When two identical batches with one key race, then both answer the same ids and each recipient gets each notification once', async () => {
    const [user] = (await users(1)) as [{ id: string; token: string }];
    const socket = await readySocket(user.token);
    for (let round = 0; round < 3; round++) {
      const key = `race-${round}-${randomUUID()}`;
      const body = { notifications: Array.from({ length: 10 }, (_, i) => item([user.id], `race ${round} ${i}`)) };
      const answers = await Promise.all([batch(body, { key }), batch(body, { key })]);
      for (const a of answers) assert.equal(a.status, 202, JSON.stringify(a.body));
      assert.deepEqual(answers[0]?.body.ids, answers[1]?.body.ids, `round ${round}: one batch, one set of ids`);
      const got = await frames(socket, 10);
      assert.deepEqual(got.map((n) => n.title), body.notifications.map((n) => n.title), `round ${round}: once each, in order`);
    }
    const stored = await settled(user);
    assert.equal(stored.length, 30);
    assert.equal(new Set(stored.map((n) => n.notificationId)).size, 30);
    // Nothing more arrived live than what was stored
    assert.equal((await socket.next()).type, 'notification'); // the sentinel
    socket.ws.send(JSON.stringify({ type: 'ping' }));
    assert.deepEqual(await socket.next(), { type: 'pong' });
  });

  it('When a batch of large items needs several messages, then all are stored once and arrive in item order', async () => {
    // 100 items with 6 KB of data each: about 2 MB of messages, far over one message's 256 KiB
    const [user] = (await users(1)) as [{ id: string; token: string }];
    const socket = await readySocket(user.token);
    const items = Array.from({ length: 100 }, (_, i) => item([user.id], `large ${i}`, { body: 'é'.repeat(3000), data: { blob: 'x'.repeat(6000), i } }));
    const published = await batchMessagesPublished();

    const res = await batch({ notifications: items });

    assert.equal(res.status, 202, JSON.stringify(res.body).slice(0, 300));
    const messages = (await batchMessagesPublished()) - published;
    assert.ok(messages >= 8 && messages <= 20, `${messages} messages for about 3.6 MB of upper bounds`);
    const got = await frames(socket, 100);
    assert.deepEqual(got.map((n) => n.title), items.map((n) => n.title));
    assert.deepEqual(got.map((n) => n.notificationId), res.body.ids);
    assert.deepEqual(got[42]?.data, { blob: 'x'.repeat(6000), i: 42 });
    assert.equal((await settled(user)).length, 100);
  });

  it('Then the batch body limit is 101 times the single one, and is only read once the caller is allowed', async () => {
    const [user] = (await users(1)) as [{ id: string; token: string }];
    // 300 KB: over a single send's 100 KB, within the batch's
    const big = { notifications: Array.from({ length: 100 }, (_, i) => item([user.id], `big ${i}`, { body: 'b'.repeat(3000) })) };
    const accepted = await batch(big);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));

    // Over the batch limit (101 × 100 KB)
    const huge = JSON.stringify({ notifications: [{ ...item([user.id], 'huge'), body: 'h'.repeat(10_400_000) }] });
    const tooLarge = await fetch(`${stack.mainUrl}/notifications/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: huge,
    });
    assert.equal(tooLarge.status, 413);
    assert.equal(((await tooLarge.json()) as { code: string }).code, 'payload_too_large');

    // Without a token, or without the permission, the body is never parsed: 401 / 403, not 413 or 400
    const anonymous = await fetch(`${stack.mainUrl}/notifications/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge });
    assert.equal(anonymous.status, 401);
    const employee = mint(randomUUID(), { role: 'employee', scope: '' });
    for (const body of [huge, '{not json']) {
      const refused = await fetch(`${stack.mainUrl}/notifications/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${employee}` },
        body,
      });
      assert.equal(refused.status, 403);
      assert.equal(((await refused.json()) as { code: string }).code, 'missing_permission');
    }
    // The path's other spellings reach the same route, and its body rules
    for (const path of ['/Notifications/Batch', '/notifications/batch/']) {
      const res = await fetch(`${stack.mainUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` }, body: JSON.stringify(big) });
      assert.equal(res.status, 202, path);
    }
    const malformed = await fetch(`${stack.mainUrl}/notifications/batch`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` }, body: '{"notifications":[' });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as { code: string }).code, 'malformed_json');
    const notJson = await fetch(`${stack.mainUrl}/notifications/batch`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${adminToken}` }, body: 'x' });
    assert.equal(notJson.status, 415);
    // The single send keeps its own limit
    const singleBig = await call(`${stack.mainUrl}/notifications`, { token: adminToken, body: item([user.id], 'single big', { body: 'b'.repeat(4000), data: { x: 'y'.repeat(110_000) } }) });
    assert.equal(singleBig.status, 413);
  });
});
