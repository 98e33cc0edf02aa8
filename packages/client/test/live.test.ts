/**
 * The live subscription against a scripted server and a socket the test drives: where it
 * starts, how it resumes, what each close code does, token renewal on the socket, keepalive,
 * and the unread count. The real-stack versions are in test/e2e/client-live.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InboxNotification, LiveState, LiveStateInfo, ReadChange } from '../src/index.js';
import { FakeSocket, fakeServer, notification, socket, until } from './fakes.js';

const credentials = { email: 'a@warren.test', password: 'pw' };

async function subscribed(opts: Parameters<typeof fakeServer>[0] = {}, after?: string) {
  const server = fakeServer(opts);
  await server.client.login(credentials);
  const received: InboxNotification[] = [];
  const states: { state: LiveState; info: LiveStateInfo }[] = [];
  const reads: ReadChange[] = [];
  const counts: number[] = [];
  const sub = server.client.live.subscribe((n) => received.push(n), {
    ...(after === undefined ? {} : { after }),
    onState: (state, info) => states.push({ state, info }),
    onRead: (r) => reads.push(r),
    onUnreadCount: (c) => counts.push(c),
  });
  return { ...server, sub, received, states, reads, counts, lastState: () => states.at(-1) };
}

const ids = (list: InboxNotification[]) => list.map((n) => n.id);

describe('the live subscription', () => {
  it('When subscribing without a start, then it starts after the newest inbox id (or before every id for an empty inbox)', async () => {
    const full = await subscribed({ inbox: [notification('00000000000000a0'), notification('000000000000009f')] });
    const first = await socket(0);
    assert.equal(full.callsTo('/inbox')[0]?.query, '?limit=1');
    assert.equal(first.params.get('after'), '00000000000000a0');
    assert.equal(first.params.get('token'), 'access-1');
    assert.equal(new URL(first.url).origin + new URL(first.url).pathname, 'wss://api.dev.test/ws');
    full.sub.close();

    const empty = await subscribed();
    assert.equal((await socket(0)).params.get('after'), '0000000000000000');
    empty.sub.close();

    const given = await subscribed({}, '0000000000000007');
    assert.equal((await socket(0)).params.get('after'), '0000000000000007');
    assert.equal(given.callsTo('/inbox').length, 0, 'told where to start: no inbox read');
    given.sub.close();
  });

  it('When notifications arrive and the replica goes away (1001), then it reconnects with ?after= the last id and drops what it already delivered', async () => {
    const s = await subscribed();
    const first = await socket(0);
    first.ready(0);
    first.notify('000000000000000a');
    first.notify('000000000000000b');
    assert.equal(s.sub.lastId, '000000000000000b');

    first.serverClose(1001);
    assert.equal(s.lastState()?.state, 'reconnecting');
    assert.equal(s.lastState()?.info.code, 1001);
    const second = await socket(1);
    assert.equal(second.params.get('after'), '000000000000000b');
    second.ready(2);
    // A replay overlapping what was delivered: each id reaches the application once, in order.
    second.notify('000000000000000a');
    second.notify('000000000000000b');
    second.notify('000000000000000c');
    second.notify('000000000000000b');

    assert.deepEqual(ids(s.received), ['000000000000000a', '000000000000000b', '000000000000000c']);
    assert.deepEqual(s.states.map((x) => x.state), ['connecting', 'open', 'reconnecting', 'open']);
    s.sub.close();
  });

  it('When the socket keeps failing, then the waits grow with jitter up to the cap, and a ready socket starts them over', async () => {
    const s = await subscribed();
    for (let i = 0; i < 6; i++) (await socket(i)).serverClose(1006);
    const waits = s.states.filter((x) => x.state === 'reconnecting').map((x) => x.info.retryInMs ?? -1);
    const ceilings = [20, 40, 80, 160, 200, 200];
    waits.forEach((w, i) => assert.ok(w >= 0 && w <= ceilings[i]!, `wait ${i}: ${w} ms`));
    (await socket(6)).ready();
    (await socket(6)).serverClose(1006);
    assert.ok((s.lastState()?.info.retryInMs ?? 99) <= 20, 'back to the first ceiling');
    s.sub.close();
  });

  it('When the socket closes with 4001, then the token is refreshed before it reconnects', async () => {
    const s = await subscribed();
    (await socket(0)).ready();
    (await socket(0)).serverClose(4001);
    const second = await socket(1);
    assert.equal(s.callsTo('/auth/refresh').length, 1);
    assert.equal(second.params.get('token'), 'access-2');
    s.sub.close();
  });

  it('When 4001 comes and the refresh is refused, then the subscription stops as unauthorized and the session is ended', async () => {
    const s = await subscribed();
    (await socket(0)).ready();
    s.script('/auth/refresh', { status: 401, body: { status: 401, code: 'invalid_refresh_token' } });
    (await socket(0)).serverClose(4001);
    await until(() => s.sub.state === 'unauthorized', 'unauthorized');
    assert.deepEqual(s.client.session, { state: 'ended', code: 'invalid_refresh_token' });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(FakeSocket.all.length, 1, 'no reconnect');
  });

  for (const code of [1008, 1009]) {
    it(`When the socket closes with ${code} (a client bug), then it stops as closed and does not reconnect`, async () => {
      const s = await subscribed();
      (await socket(0)).serverClose(code);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(FakeSocket.all.length, 1);
      assert.deepEqual(s.lastState(), { state: 'closed', info: { code } });
    });
  }

  for (const code of [4029, 1013]) {
    it(`When the socket closes with ${code}, then it waits at least the busy minimum before trying again`, async () => {
      const s = await subscribed();
      (await socket(0)).serverClose(code);
      const retry = s.lastState();
      assert.equal(retry?.state, 'reconnecting');
      assert.ok((retry?.info.retryInMs ?? 0) >= 15_000, `retry in ${retry?.info.retryInMs} ms`);
      s.sub.close();
    });
  }

  it('When the token is refreshed while the socket is open, then the socket is renewed in place with an auth frame', async () => {
    const s = await subscribed();
    (await socket(0)).ready();
    await s.client.refresh();
    assert.deepEqual((await socket(0)).sent, [{ type: 'auth', token: 'access-2' }]);
    assert.equal(FakeSocket.all.length, 1);
    s.sub.close();
  });

  it('When the token becomes due, then it is refreshed and sent on the socket before it expires, without any request of the application', async () => {
    const s = await subscribed({ expiresIn: 1 });
    const first = await socket(0);
    first.ready();
    await until(() => first.sent.some((f) => f.type === 'auth'), 'an auth frame', 1000);
    assert.deepEqual(first.sent[0], { type: 'auth', token: 'access-2' });
    // Renewed again when the second token becomes due.
    await until(() => first.sent.filter((f) => f.type === 'auth').length === 2, 'a second auth frame', 1000);
    assert.equal(s.callsTo('/auth/refresh').length, 2);
    assert.equal(FakeSocket.all.length, 1);
    s.sub.close();
  });

  it('When the token was refreshed while the socket was still opening, then it is renewed as soon as it is ready', async () => {
    const s = await subscribed();
    const first = await socket(0);
    await s.client.refresh();
    assert.deepEqual(first.sent, [], 'nothing sent before ready');
    first.ready();
    assert.deepEqual(first.sent, [{ type: 'auth', token: 'access-2' }]);
    s.sub.close();
  });

  it('When the socket goes silent, then it is pinged, and after two silent intervals dropped and reopened with ?after=', async () => {
    const s = await subscribed({ client: { keepaliveMs: 40 } });
    const first = await socket(0);
    first.ready();
    first.notify('0000000000000001');
    await until(() => first.sent.some((f) => f.type === 'ping'), 'a ping', 500);
    const second = await socket(1);
    assert.equal(first.closedWith !== undefined, true, 'the silent socket was closed');
    assert.equal(second.params.get('after'), '0000000000000001');
    s.sub.close();
  });

  it('When read changes arrive, then onRead and the unread count follow the server, and new notifications count up', async () => {
    const s = await subscribed({ unreadCount: 3 });
    const first = await socket(0);
    first.ready(2);
    first.notify('0000000000000001');
    first.notify('0000000000000002', new Date().toISOString()); // already read: not counted
    first.frame({ type: 'read', ids: ['0000000000000001'], unreadCount: 2 });
    first.frame({ type: 'read', all: true, unreadCount: 0 });
    assert.deepEqual(s.reads, [{ ids: ['0000000000000001'], unreadCount: 2 }, { all: true, unreadCount: 0 }]);
    assert.deepEqual(s.counts, [2, 3, 2, 0]);
    assert.equal(s.sub.unreadCount, 0);
    s.sub.close();
  });

  it('When the socket is ready and the replay settles, then the unread count is read again once (a replay may be counted twice)', async () => {
    const s = await subscribed({ unreadCount: 5 });
    const first = await socket(0);
    first.ready(5);
    first.notify('0000000000000001'); // stored before `ready`: already in its 5
    assert.equal(s.sub.unreadCount, 6);
    await until(() => s.sub.unreadCount === 5, 'the exact count', 2000);
    assert.equal(s.callsTo('/inbox/unread-count').length, 1);
    s.sub.close();
  });

  it('When junk arrives on the socket (not JSON, wrong shapes, bad counts), then it is ignored and the subscription carries on', async () => {
    const s = await subscribed();
    const first = await socket(0);
    first.ready();
    first.onmessage?.({ data: 'not json' });
    first.onmessage?.({ data: Buffer.from(JSON.stringify({ type: 'notification', notification: notification('0000000000000003') })) });
    first.frame({ type: 'something-new' });
    first.frame({ type: 'error', code: 'invalid_frame', message: 'x' });
    for (const junk of ['null', '[]', '"ready"', '42', '{}', '{"type":7}', '{"type":"ready"}', '{"type":"ready","unreadCount":-1}',
      '{"type":"notification"}', '{"type":"notification","notification":null}', '{"type":"notification","notification":{"id":5}}',
      '{"type":"read","unreadCount":1}', '{"type":"read","ids":[1],"unreadCount":1}', '{"type":"read","all":true,"unreadCount":"0"}',
      '{"type":"error"}', '"\u0000"', '{"type":"notification","notification":{"id":"0000000000000004"}}'.repeat(2)]) {
      first.onmessage?.({ data: junk });
    }
    assert.deepEqual(ids(s.received), ['0000000000000003'], 'a Buffer frame (the ws package) is read as text');
    assert.deepEqual(s.counts, [0, 1], 'no junk count taken');
    assert.equal(s.sub.state, 'open');
    first.notify('0000000000000005');
    assert.deepEqual(ids(s.received), ['0000000000000003', '0000000000000005']);
    s.sub.close();
  });

  it('When the user logs out, then the subscription closes its socket and stops', async () => {
    const s = await subscribed();
    const first = await socket(0);
    first.ready();
    await s.client.logout();
    assert.equal(s.sub.state, 'closed');
    assert.equal(first.closedWith, 1000);
  });

  it('When subscribing while signed out, then it stops as unauthorized without opening a socket', async () => {
    const s = fakeServer();
    const states: LiveState[] = [];
    s.client.live.subscribe(() => undefined, { onState: (st) => states.push(st) });
    await until(() => states.includes('unauthorized'), 'unauthorized');
    assert.equal(FakeSocket.all.length, 0);
  });

  it('When the inbox cannot be read for the start id, then it retries with backoff instead of starting blind', async () => {
    const s = fakeServer();
    await s.client.login(credentials);
    s.script('/inbox', 'network', { status: 503, body: { status: 503, code: 'database_unavailable' } });
    const sub = s.client.live.subscribe(() => undefined);
    const first = await socket(0);
    assert.equal(s.callsTo('/inbox').length, 3);
    assert.equal(first.params.get('after'), '0000000000000000');
    sub.close();
  });
});
