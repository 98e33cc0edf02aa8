/**
 * The notification WebSocket protocol end to end, on the real broker and database: gap-free
 * catch-up (`?after=`) after 1 000 missed and while notifications keep arriving, read-state sync
 * across sockets, token expiry and renewal, junk and oversize frames, slow consumers, connection
 * limits, ping, and isolation between users.
 *
 * The notification service knows users only by id, so most tests use a fresh random user: its
 * token is the real admin's claims with another `sub`, signed with the real key (forge.ts), and
 * notifications reach it through POST /notifications with `userIds: [that id]`, once the id is
 * announced to the service's user directory (directory.ts) as auth announces its users.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { announceUsers, knownUser } from '../support/directory.js';
import { call, sleep } from '../support/http.js';
import { activeSigningKey, decodePayload, signWith, type RealKey } from '../support/forge.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { openSocket, type TestSocket } from '../support/ws-client.js';
import type { Notification } from '../../services/notification/src/domain/notification.js';


/** A stack with what the tests need at hand: the admin (who may send) and a token mint. */
interface Ctx {
  stack: Stack;
  adminToken: string;
  adminId: string;
  /** A valid access token for `sub` (the admin's other claims), expiring at `exp` (default in 900 s). */
  mint(sub: string, exp?: number): string;
}

async function prepare(stack: Stack): Promise<Ctx> {
  const session = await login(stack);
  const key: RealKey = await activeSigningKey(stack);
  const claims = decodePayload(session.accessToken);
  return {
    stack,
    adminToken: session.accessToken,
    adminId: session.user.id,
    mint(sub, exp) {
      const now = Math.floor(Date.now() / 1000);
      return signWith(key, { ...claims, sub, jti: randomUUID(), iat: now, exp: exp ?? now + 900 });
    },
  };
}

function socketFor(ctx: Ctx, token: string, afterId?: string): TestSocket {
  const q = `token=${encodeURIComponent(token)}${afterId === undefined ? '' : `&after=${encodeURIComponent(afterId)}`}`;
  return openSocket(`${ctx.stack.notificationWsUrl}?${q}`);
}

/** Sends one notification through main-backend; returns its notification id (not the inbox id). */
async function send(ctx: Ctx, userIds: string[], title: string, extra: { body?: string; data?: Record<string, unknown> } = {}): Promise<string> {
  const res = await call<{ id: string }>(`${ctx.stack.mainUrl}/notifications`, {
    token: ctx.adminToken,
    body: { recipients: { userIds }, title, body: extra.body ?? `body of ${title}`, ...(extra.data ? { data: extra.data } : {}) },
  });
  assert.equal(res.status, 202, `POST /notifications answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** Sends one notification per title, `concurrency` requests in flight; `onSent` after each 202. */
async function sendMany(
  ctx: Ctx,
  userIds: string[],
  titles: string[],
  opts: { concurrency?: number; body?: string; data?: Record<string, unknown>; onSent?: (n: number) => void; stop?: () => boolean } = {},
): Promise<number> {
  let nextIndex = 0;
  let sent = 0;
  const worker = async () => {
    while (nextIndex < titles.length && !opts.stop?.()) {
      const title = titles[nextIndex++] as string;
      await send(ctx, userIds, title, { ...(opts.body ? { body: opts.body } : {}), ...(opts.data ? { data: opts.data } : {}) });
      sent += 1;
      opts.onSent?.(sent);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 10 }, worker));
  return sent;
}

async function unreadCount(ctx: Ctx, token: string): Promise<number> {
  const res = await call<{ count: number }>(`${ctx.stack.notificationUrl}/inbox/unread-count`, { token });
  assert.equal(res.status, 200);
  return res.body.count;
}

/** Waits until the user's unread count is exactly `n` (i.e. that many are stored). */
async function waitForUnread(ctx: Ctx, token: string, n: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let count = -1;
  while (Date.now() < deadline) {
    count = await unreadCount(ctx, token);
    assert.ok(count <= n, `unread count ${count} passed the expected ${n}`);
    if (count === n) return;
    await sleep(50);
  }
  assert.fail(`unread count still ${count} after ${timeoutMs} ms, expected ${n}`);
}

/** The user's whole inbox over REST, oldest first. */
async function inboxOldestFirst(ctx: Ctx, token: string): Promise<Notification[]> {
  const items: Notification[] = [];
  let before: string | null = null;
  do {
    const res: { status: number; body: { items: Notification[]; nextCursor: string | null } } = await call(
      `${ctx.stack.notificationUrl}/inbox?limit=100${before ? `&before=${before}` : ''}`,
      { token },
    );
    assert.equal(res.status, 200);
    items.push(...res.body.items);
    before = res.body.nextCursor;
  } while (before);
  return items.reverse();
}

/** The next `n` frames, each of which must be a notification. */
async function notifications(socket: TestSocket, n: number, timeoutMs = 10_000): Promise<Notification[]> {
  const out: Notification[] = [];
  for (let i = 0; i < n; i++) {
    const frame = await socket.next(timeoutMs).catch(async (err: Error) => {
      const closed = socket.ws.readyState === socket.ws.CLOSED ? `; the socket closed with ${(await socket.closed).code}` : '';
      return assert.fail(`${err.message} (after ${i} of ${n} notifications${closed})`);
    });
    assert.equal(frame.type, 'notification', `frame ${i} of ${n} is ${JSON.stringify(frame).slice(0, 200)}`);
    out.push(frame.notification as Notification);
  }
  return out;
}

async function expectReady(socket: TestSocket, unread?: number): Promise<void> {
  const ready = await socket.next();
  assert.equal(ready.type, 'ready', `first frame: ${JSON.stringify(ready)}`);
  if (unread !== undefined) assert.deepEqual(ready, { type: 'ready', unreadCount: unread });
}

/**
 * Asserts nothing arrives on the socket: waits a little (for anything in flight through the
 * broker), then a ping must be answered by a pong as the very next frame.
 */
async function expectQuiet(socket: TestSocket, waitMs = 400): Promise<void> {
  await sleep(waitMs);
  socket.ws.send(JSON.stringify({ type: 'ping' }));
  assert.deepEqual(await socket.next(), { type: 'pong' });
}

function assertStrictlyIncreasing(ids: string[]): void {
  for (let i = 1; i < ids.length; i++) {
    assert.ok((ids[i - 1] as string) < (ids[i] as string), `ids not strictly increasing at ${i}: ${ids[i - 1]} then ${ids[i]}`);
  }
}

async function closedWithin(socket: TestSocket, ms: number): Promise<{ code: number; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`socket not closed within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([socket.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function range(n: number, prefix: string): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix} ${i}`);
}

describe('notification socket', () => {
  let ctx: Ctx;
  const sockets: TestSocket[] = [];
  const open = (token: string, afterId?: string) => {
    const s = socketFor(ctx, token, afterId);
    sockets.push(s);
    return s;
  };

  before(async () => {
    ctx = await prepare(await startStack());
  });
  after(async () => {
    for (const s of sockets) s.ws.terminate();
    await ctx?.stack.stop();
  });

  it('When a socket reconnects with ?after= after 1 000 were missed, then it gets ready, exactly those 1 000 oldest first, then live ones', async () => {
    // Arrange: socket A sees notification k, then goes away
    const user = await knownUser(ctx.stack.env);
    const token = ctx.mint(user);
    const a = open(token);
    await expectReady(a, 0);
    await send(ctx, [user], 'k');
    const [k] = await notifications(a, 1);
    assert.equal(k?.title, 'k');
    a.close();
    await closedWithin(a, 5000);

    const missedTitles = range(1000, 'missed');
    await sendMany(ctx, [user], missedTitles, { concurrency: 40 });
    await waitForUnread(ctx, token, 1001, 30_000);

    // Act
    const b = open(token, k!.id);

    // Assert: ready first, then the 1 000 in order, no duplicate, nothing else
    await expectReady(b, 1001);
    const replayed = await notifications(b, 1000);
    const ids = replayed.map((n) => n.id);
    assertStrictlyIncreasing([k!.id, ...ids]);
    assert.equal(new Set(ids).size, 1000);
    assert.deepEqual(new Set(replayed.map((n) => n.title)), new Set(missedTitles));
    const stored = (await inboxOldestFirst(ctx, token)).filter((n) => n.id > k!.id);
    assert.deepEqual(replayed, stored, 'the replay is exactly the stored notifications newer than k');

    // ... and a notification sent afterwards arrives live, after them
    await send(ctx, [user], 'after the replay');
    const [live] = await notifications(b, 1);
    assert.equal(live?.title, 'after the replay');
    assert.ok(live!.id > (ids[999] as string));
    await expectQuiet(b);
  });

  it('When sockets catch up with ?after= while notifications keep being sent, then each gets every one exactly once, in order, without gap', async () => {
    // Arrange: four users with 20 stored each; their sockets will ask for what came after the 10th
    const users = Array.from({ length: 4 }, () => randomUUID());
    await announceUsers(ctx.stack.env, users);
    const tokens = users.map((u) => ctx.mint(u));
    await sendMany(ctx, users, range(20, 'seed'), { concurrency: 5 });
    for (const t of tokens) await waitForUnread(ctx, t, 20);
    const afterIds = await Promise.all(tokens.map(async (t) => (await inboxOldestFirst(ctx, t))[9]!.id));

    // Act: 300 more sent to all four while sockets open all along the stream (one every 8 sends)
    const racing: { user: number; socket: TestSocket }[] = [];
    await sendMany(ctx, users, range(300, 'race'), {
      concurrency: 8,
      onSent: (n) => {
        if (n % 8 !== 1) return;
        const user = racing.length % users.length;
        racing.push({ user, socket: open(tokens[user] as string, afterIds[user]) });
      },
    });
    for (const t of tokens) await waitForUnread(ctx, t, 320);

    // Assert: every socket ends up with exactly its user's stored notifications newer than afterId
    assert.equal(racing.length, 38);
    const expected = await Promise.all(
      tokens.map(async (t, i) => (await inboxOldestFirst(ctx, t)).filter((n) => n.id > (afterIds[i] as string))),
    );
    for (const e of expected) assert.equal(e.length, 310);
    for (const [i, { user, socket }] of racing.entries()) {
      await expectReady(socket);
      const got = await notifications(socket, 310);
      assert.deepEqual(
        got.map((n) => n.id),
        expected[user]!.map((n) => n.id),
        `socket ${i}: not every notification exactly once in order`,
      );
      assert.deepEqual(got, expected[user]);
    }
    await Promise.all(racing.map(({ socket }) => expectQuiet(socket)));
  });

  it('When a socket catches up on many large notifications while more arrive, then it gets them all: the replay is paced, not cut off as a slow consumer', async () => {
    // Arrange: 480 missed notifications of ~12 KB each (~6 MB: more than the socket buffers hold)
    const user = await knownUser(ctx.stack.env);
    const token = ctx.mint(user);
    const big = { body: 'b'.repeat(4000), data: { pad: 'd'.repeat(8000) } };
    await sendMany(ctx, [user], range(480, 'large'), { ...big, concurrency: 40 });
    await waitForUnread(ctx, token, 480);

    // Act: a client reconnects from the start and reads nothing for a while, so the replay has
    // to wait for it; meanwhile 30 more arrive (live, while the socket is still catching up)
    const s = open(token, '0000000000000000');
    await new Promise((resolve) => s.ws.once('open', resolve));
    s.ws.pause();
    await sleep(300);
    await sendMany(ctx, [user], range(30, 'during the replay'), { ...big, concurrency: 10 });
    await waitForUnread(ctx, token, 510);
    await sleep(300);
    s.ws.resume();

    // Assert: every one, once, in order
    await expectReady(s, 480);
    const got = await notifications(s, 510);
    assert.deepEqual(
      got.map((n) => n.id),
      (await inboxOldestFirst(ctx, token)).map((n) => n.id),
    );
    await expectQuiet(s);
  });

  it('When notifications are read over REST or over a socket, then every socket of the user hears it with the exact unread count', async () => {
    // Arrange: two sockets of one user, three notifications
    const user = await knownUser(ctx.stack.env);
    const token = ctx.mint(user);
    const s1 = open(token);
    const s2 = open(token);
    await expectReady(s1, 0);
    await expectReady(s2, 0);
    await sendMany(ctx, [user], ['one', 'two', 'three'], { concurrency: 1 });
    const [first] = await notifications(s1, 3);
    await notifications(s2, 3);

    // Act 1: one read over REST
    const read = await call(`${ctx.stack.notificationUrl}/inbox/${first!.id}/read`, { method: 'POST', token });

    // Assert 1
    assert.equal(read.status, 204);
    for (const s of [s1, s2]) assert.deepEqual(await s.next(), { type: 'read', ids: [first!.id], unreadCount: 2 });

    // Act 2: all read over socket 1
    s1.ws.send(JSON.stringify({ type: 'read', all: true }));

    // Assert 2
    for (const s of [s1, s2]) assert.deepEqual(await s.next(), { type: 'read', all: true, unreadCount: 0 });
    assert.equal(await unreadCount(ctx, token), 0);

    // Act 3: reading an already read one, over REST and over the socket
    const again = await call(`${ctx.stack.notificationUrl}/inbox/${first!.id}/read`, { method: 'POST', token });
    s2.ws.send(JSON.stringify({ type: 'read', ids: [first!.id] }));
    s2.ws.send(JSON.stringify({ type: 'read', all: true }));

    // Assert 3: nothing changes, nobody hears anything
    assert.equal(again.status, 204);
    await expectQuiet(s1);
    await expectQuiet(s2);
    assert.equal(await unreadCount(ctx, token), 0);
  });

  it('When the token expires, then the socket closes with 4001 unless renewed by the same user, and a renewal for another user closes it', async () => {
    // Arrange: two sockets of the admin with a token that expires in 2–3 s
    const claims = decodePayload(ctx.adminToken);
    const exp = Math.floor(Date.now() / 1000) + 3;
    const short = ctx.mint(claims.sub as string, exp);
    const expiring = open(short);
    const renewed = open(short);
    await expectReady(expiring);
    await expectReady(renewed);

    // Act: the second one renews with a fresh real token before expiry
    const fresh = await login(ctx.stack);
    renewed.ws.send(JSON.stringify({ type: 'auth', token: fresh.accessToken }));
    const ok = await renewed.next();
    assert.equal(ok.type, 'auth_ok', JSON.stringify(ok));
    assert.equal(ok.expiresAt, new Date((decodePayload(fresh.accessToken).exp as number) * 1000).toISOString());

    // Assert: the first closes with 4001, not before its exp (only a lower bound: a busy
    // machine may close it late, never early)
    const closed = await closedWithin(expiring, 20_000);
    const closedAt = Date.now();
    assert.equal(closed.code, 4001);
    assert.ok(closedAt >= exp * 1000 - 100, `closed ${exp * 1000 - closedAt} ms before exp`);

    // ... the renewed one outlives it (its old expiry timer, due at the same time, has fired
    // by now: a pong proves it is open) and still receives notifications
    renewed.ws.send(JSON.stringify({ type: 'ping' }));
    assert.deepEqual(await renewed.next(), { type: 'pong' });
    assert.equal(renewed.ws.readyState, renewed.ws.OPEN);
    await send(ctx, [ctx.adminId], 'after renewal');
    const [n] = await notifications(renewed, 1);
    assert.equal(n?.title, 'after renewal');

    // Act + Assert: renewing with another user's (valid) token closes with 4001
    const other = open(ctx.adminToken);
    await expectReady(other);
    other.ws.send(JSON.stringify({ type: 'auth', token: ctx.mint(randomUUID()) }));
    assert.equal((await closedWithin(other, 5000)).code, 4001);
    // ... and so does renewing with garbage
    const garbage = open(ctx.adminToken);
    await expectReady(garbage);
    garbage.ws.send(JSON.stringify({ type: 'auth', token: 'not.a.token' }));
    assert.equal((await closedWithin(garbage, 5000)).code, 4001);
    assert.equal(renewed.ws.readyState, renewed.ws.OPEN);
  });

  it('When a client sends a ping frame, then it gets a pong', async () => {
    // Arrange
    const s = open(ctx.mint(randomUUID()));
    await expectReady(s, 0);
    // Act
    s.ws.send(JSON.stringify({ type: 'ping' }));
    // Assert
    assert.deepEqual(await s.next(), { type: 'pong' });
  });

  it("When a notification goes to user X, then user Y's socket never sees it nor can mark it read", async () => {
    // Arrange
    const x = await knownUser(ctx.stack.env);
    const y = await knownUser(ctx.stack.env);
    const xToken = ctx.mint(x);
    const yToken = ctx.mint(y);
    const sx = open(xToken);
    const sy = open(yToken);
    await expectReady(sx, 0);
    await expectReady(sy, 0);

    // Act
    await send(ctx, [x], 'for x only');
    await send(ctx, [y], 'for y only');

    // Assert: each sees only its own
    const [forX] = await notifications(sx, 1);
    const [forY] = await notifications(sy, 1);
    assert.equal(forX?.title, 'for x only');
    assert.equal(forY?.title, 'for y only');
    await expectQuiet(sx);
    await expectQuiet(sy);

    // Y tries to mark X's notification read over the socket: an error, X hears nothing
    sy.ws.send(JSON.stringify({ type: 'read', ids: [forX!.id] }));
    const refused = await sy.next();
    assert.equal(refused.type, 'error');
    assert.equal(refused.code, 'notification_not_found');
    await expectQuiet(sx);
    assert.equal(await unreadCount(ctx, xToken), 1);

    // A socket of Y reconnecting from the very start replays only Y's
    const replay = open(yToken, '0000000000000000');
    await expectReady(replay, 1);
    assert.deepEqual(await notifications(replay, 1), [forY]);
    await expectQuiet(replay);
  });

  describe('with tight socket limits', () => {
    let tight: Ctx;
    const tightSockets: TestSocket[] = [];
    const openTight = (token: string, afterId?: string) => {
      const s = socketFor(tight, token, afterId);
      tightSockets.push(s);
      return s;
    };

    before(async () => {
      tight = await prepare(
        await startStack({ WS_MAX_PAYLOAD_BYTES: '1024', WS_MAX_BUFFERED_BYTES: '16384', WS_MAX_CONNECTIONS_PER_USER: '2' }),
      );
    });
    after(async () => {
      for (const s of tightSockets) s.ws.terminate();
      await tight?.stack.stop();
    });

    it('When a client sends junk, unknown, binary or oversize frames, then it gets error frames, then 1008 or 1009, and the server keeps serving', async () => {
      // Arrange
      const user = await knownUser(tight.stack.env);
      const token = tight.mint(user);
      const s = openTight(token);
      await expectReady(s, 0);

      // Act + Assert: junk answered with an error frame, the socket stays usable
      s.ws.send('this is not JSON {');
      s.ws.send(JSON.stringify({ type: 'subscribe', channel: 'everything' }));
      s.ws.send(JSON.stringify({ type: 'ping', extra: true }));
      s.ws.send(Buffer.from([0x7b, 0x7d, 0x00, 0xff]), { binary: true });
      for (let i = 0; i < 4; i++) {
        const err = await s.next();
        assert.equal(err.type, 'error', JSON.stringify(err));
        assert.equal(err.code, 'invalid_frame');
        assert.equal(typeof err.message, 'string');
      }
      await send(tight, [user], 'still served');
      assert.equal((await notifications(s, 1))[0]?.title, 'still served');

      // more than 10 invalid frames: 1008
      const noisy = openTight(tight.mint(randomUUID()));
      await expectReady(noisy, 0);
      for (let i = 0; i < 11; i++) noisy.ws.send(`junk ${i}`);
      const closedNoisy = await closedWithin(noisy, 5000);
      assert.equal(closedNoisy.code, 1008);

      // a frame over WS_MAX_PAYLOAD_BYTES: 1009
      const big = openTight(tight.mint(randomUUID()));
      await expectReady(big, 0);
      big.ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(2000) }));
      assert.equal((await closedWithin(big, 5000)).code, 1009);

      // the first socket is still served, and new ones are accepted
      await send(tight, [user], 'served after the others were closed');
      assert.equal((await notifications(s, 1))[0]?.title, 'served after the others were closed');
      const fresh = openTight(token);
      await expectReady(fresh, 2);
    });

    it('When a socket stops reading, then it is closed with 4008 while another socket of the user receives everything', async (t) => {
      // Arrange: two sockets of one user; the slow one stops reading from TCP
      const user = await knownUser(tight.stack.env);
      const token = tight.mint(user);
      const normal = openTight(token);
      const slow = openTight(token);
      await expectReady(normal, 0);
      await expectReady(slow, 0);
      let slowReceived = 0;
      slow.ws.on('message', () => slowReceived++);
      slow.ws.pause();

      // Act: large notifications until the server gives up on the slow one (resumed at once,
      // so that it can read the close frame before the server terminates the connection)
      const closedSlow = () =>
        tight.stack.logs.notification.lines.some((l) => l.message === 'slow consumer closed' && l.userId === user);
      const watcher = setInterval(() => {
        if (closedSlow() && slow.ws.isPaused) slow.ws.resume();
      }, 2);
      const big = { body: 'b'.repeat(4000), data: { pad: 'd'.repeat(7000) } };
      let sent = 0;
      try {
        sent += await sendMany(tight, [user], range(2000, 'big'), { ...big, concurrency: 16, stop: closedSlow });
        // ... and some more afterwards, which the normal socket must get as well
        sent += await sendMany(tight, [user], range(20, 'after'), { ...big, concurrency: 16 });
      } finally {
        clearInterval(watcher);
      }

      // Assert: the server closed the slow one as a slow consumer (4008). The client sees 4008
      // if it reads through its backlog to the close frame before the server's 1 s grace ends;
      // on a loaded machine it may not, and then sees the connection cut (1006) — the server's
      // log line (written where it sends 4008) is what proves the reason either way.
      assert.ok(closedSlow(), `the server never closed the paused socket (${sent} sent)`);
      if (slow.ws.isPaused) slow.ws.resume();
      const closed = await closedWithin(slow, 20_000);
      assert.ok(closed.code === 4008 || closed.code === 1006, `close code ${closed.code} (${closed.reason})`);
      t.diagnostic(`the slow client saw close code ${closed.code}`);
      assert.ok(slowReceived < sent, `the slow socket got ${slowReceived} of ${sent}`);
      t.diagnostic(`${sent} sent; the slow socket read ${slowReceived} frames before its close`);

      // ... while the normal one got every notification, in order
      await waitForUnread(tight, token, sent);
      const got = await notifications(normal, sent);
      assert.deepEqual(
        got.map((n) => n.id),
        (await inboxOldestFirst(tight, token)).map((n) => n.id),
      );
      await expectQuiet(normal);
    });

    it('When a user opens a third socket, then it is closed with 4029 and the first two stay open; a malformed ?after= closes with 1008', async () => {
      // Arrange
      const token = tight.mint(randomUUID());
      const s1 = openTight(token);
      const s2 = openTight(token);
      await expectReady(s1, 0);
      await expectReady(s2, 0);

      // Act
      const s3 = openTight(token);

      // Assert
      assert.equal((await closedWithin(s3, 5000)).code, 4029);
      await assert.rejects(s3.next(100), /no frame/, 'the refused socket got no frame (not even ready)');
      await expectQuiet(s1, 0);
      await expectQuiet(s2, 0);

      const malformed = openTight(tight.mint(randomUUID()), 'not-an-id');
      assert.equal((await closedWithin(malformed, 5000)).code, 1008);
    });
  });
});
