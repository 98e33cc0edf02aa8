/**
 * The WebSocket closes that protect the server, each tried as a client would provoke it: a peer
 * that stops answering pings is dropped (heartbeat), a full server refuses with 1013, a server
 * going down closes with 1001 (reconnect elsewhere), and a client flooding frames is closed
 * with 1008. Each time the well-behaved sockets next to it keep being served.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { call } from '../support/http.js';
import { activeSigningKey, decodePayload, signWith } from '../support/forge.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { openSocket, type TestSocket } from '../support/ws-client.js';

const HEARTBEAT_MS = 1000;
const MAX_CONNECTIONS = 2;

/** Resolves with the close, or fails after `ms` (a generous bound: this is no timing test). */
async function closedWithin(socket: TestSocket, ms = 15_000): Promise<{ code: number; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      socket.closed,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`socket not closed within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function expectReady(socket: TestSocket): Promise<void> {
  const ready = await socket.next(10_000);
  assert.equal(ready.type, 'ready', JSON.stringify(ready));
}

/** A ping frame answered by a pong as the very next frame: the socket is open and served. */
async function expectServed(socket: TestSocket): Promise<void> {
  socket.ws.send(JSON.stringify({ type: 'ping' }));
  assert.deepEqual(await socket.next(10_000), { type: 'pong' });
}

describe('socket closes that protect the server', () => {
  let stack: Stack;
  let mint: (sub?: string) => string;
  let adminToken: string;
  let adminId: string;
  const sockets: TestSocket[] = [];
  const open = (token: string, url = stack.notificationWsUrl, opts: { autoPong?: boolean } = {}) => {
    const s = openSocket(`${url}?token=${encodeURIComponent(token)}`, {}, opts);
    sockets.push(s);
    return s;
  };
  /** Closes every socket a test opened and waits until each is gone (the server counts them). */
  const closeAll = async () => {
    for (const s of sockets.splice(0)) {
      if (s.ws.readyState !== WebSocket.CLOSED) s.ws.close();
      await closedWithin(s);
    }
  };

  before(async () => {
    stack = await startStack({ WS_HEARTBEAT_MS: String(HEARTBEAT_MS), WS_MAX_CONNECTIONS: String(MAX_CONNECTIONS) });
    const session = await login(stack);
    adminToken = session.accessToken;
    adminId = session.user.id;
    const key = await activeSigningKey(stack);
    const claims = decodePayload(session.accessToken);
    mint = (sub = randomUUID()) => signWith(key, { ...claims, sub, jti: randomUUID(), iat: Math.floor(Date.now() / 1000) });
  });
  after(async () => {
    for (const s of sockets) s.ws.terminate();
    await stack?.stop();
  });

  it('When the server already holds WS_MAX_CONNECTIONS sockets, then the next one is closed with 1013 and a place that frees up is given again', async () => {
    // Arrange: the server full, with sockets of two different users (the per-user cap is not it)
    const a = open(mint());
    const b = open(mint());
    await expectReady(a);
    await expectReady(b);

    // Act
    const refused = open(mint());

    // Assert
    const closed = await closedWithin(refused);
    assert.equal(closed.code, 1013, `closed with ${closed.code} ${closed.reason}`);
    await expectServed(a);
    await expectServed(b);

    // One leaves: a new socket gets in (polled: the server counts the leaver once its TCP is gone)
    a.ws.close();
    await closedWithin(a);
    const deadline = Date.now() + 10_000;
    let admitted: TestSocket | undefined;
    while (!admitted) {
      const candidate = open(mint());
      const first = await Promise.race([candidate.next(10_000).then((f) => f.type), candidate.closed.then((c) => `closed ${c.code}`)]);
      if (first === 'ready') admitted = candidate;
      else assert.ok(Date.now() < deadline && first === 'closed 1013', `a freed place was not given again (${first})`);
    }
    await expectServed(admitted);
    await closeAll();
  });

  it('When a peer stops answering server pings, then the server drops it, while a socket that answers stays open', async () => {
    // Arrange: one client that never answers pings (as a peer that vanished), one that does
    const silent = open(mint(), stack.notificationWsUrl, { autoPong: false });
    const healthy = open(mint());
    await expectReady(silent);
    await expectReady(healthy);
    let pingsToSilent = 0;
    let pingsToHealthy = 0;
    silent.ws.on('ping', () => pingsToSilent++);
    healthy.ws.on('ping', () => pingsToHealthy++);

    // Act + Assert: the silent one is cut without a close frame (it would not read one) ...
    const dropped = await closedWithin(silent, 20 * HEARTBEAT_MS);
    assert.equal(dropped.code, 1006, `the silent peer was closed with ${dropped.code}, not dropped`);
    // ... after it was pinged and did not answer ...
    assert.ok(pingsToSilent >= 1, `the silent peer was pinged ${pingsToSilent} times before it was dropped`);
    // ... and the healthy one, pinged and answering all along, is still served.
    const pingsSeen = pingsToHealthy;
    await new Promise<void>((resolve) => healthy.ws.once('ping', () => resolve()));
    await new Promise<void>((resolve) => healthy.ws.once('ping', () => resolve()));
    assert.ok(pingsToHealthy >= pingsSeen + 2);
    assert.equal(healthy.ws.readyState, WebSocket.OPEN, 'a socket that answers pings is never dropped');
    await expectServed(healthy);
    await closeAll();
  });

  it('When a client floods frames (over 100 in the window), then it is closed with 1008 and other sockets are unaffected', async () => {
    // Arrange
    const neighbour = open(mint());
    const flooder = open(mint());
    await expectReady(neighbour);
    await expectReady(flooder);

    // Act: 150 valid pings at once
    for (let i = 0; i < 150; i++) flooder.ws.send(JSON.stringify({ type: 'ping' }));

    // Assert: answered up to the limit, then closed for policy; at most 100 pongs came back
    const closed = await closedWithin(flooder);
    assert.equal(closed.code, 1008, `closed with ${closed.code} ${closed.reason}`);
    let pongs = 0;
    for (;;) {
      const frame = await flooder.next(0).catch(() => undefined);
      if (!frame) break;
      if (frame.type === 'pong') pongs++;
    }
    assert.ok(pongs <= 100, `${pongs} pongs: the flood was not cut at 100 frames`);
    await expectServed(neighbour);
    await closeAll();
  });

  it('When a notification replica shuts down, then its sockets close with 1001 (reconnect elsewhere) and the other replica keeps serving', async () => {
    // Arrange: a second replica on the same broker and database, one socket on each
    const replica = await stack.addNotificationReplica();
    // The admin: a user the directory knows, so the notification below is stored for them.
    const user = adminId;
    const token = adminToken;
    const onReplica = open(token, replica.wsUrl);
    const onFirst = open(token);
    await expectReady(onReplica);
    await expectReady(onFirst);

    // Act
    const stopping = replica.service.stop();
    const closed = await closedWithin(onReplica);
    await stopping;

    // Assert
    assert.equal(closed.code, 1001, `closed with ${closed.code} ${closed.reason}`);
    await expectServed(onFirst);
    const sent = await call(`${stack.mainUrl}/notifications`, {
      token: adminToken,
      body: { recipients: { userIds: [user] }, title: 'after the replica left', body: 'b' },
    });
    assert.equal(sent.status, 202);
    const frame = await onFirst.next(10_000);
    assert.equal(frame.type, 'notification');
    assert.equal((frame.notification as { title: string }).title, 'after the replica left');
    await closeAll();
  });
});
