/**
 * @warren/client's live subscription against the real services, in Node with the `ws`
 * package as its WebSocket: notifications arrive once each and in order, read changes reach
 * it, its token is renewed on the open socket before it expires (short ACCESS_TOKEN_TTL), it
 * resumes across a notification-service restart with sends in between (nothing missed,
 * nothing twice), and it stops as unauthorized when the session is ended elsewhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { serverFrameSchema } from '@warren/shared/contracts/inbox';
import { createWarrenClient, type InboxNotification, type LiveState, type ReadChange, type Subscription, type WarrenClient } from '../../packages/client/src/index.js';
import { decodePayload } from '../support/forge.js';
import { ADMIN, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

/** Short, so that renewals happen within the test. */
const ACCESS_TOKEN_TTL_SECONDS = 5;

/** The `ws` WebSocket, recording every instance with the frames it sent and received. */
class RecordingWebSocket extends WebSocket {
  static all: RecordingWebSocket[] = [];
  readonly sentFrames: Record<string, unknown>[] = [];
  readonly receivedFrames: Record<string, unknown>[] = [];
  constructor(readonly openedWith: string) {
    super(openedWith);
    RecordingWebSocket.all.push(this);
    this.on('message', (data) => this.receivedFrames.push(JSON.parse(String(data)) as Record<string, unknown>));
  }
  override send(data: string): void {
    this.sentFrames.push(JSON.parse(data) as Record<string, unknown>);
    super.send(data);
  }
}

describe('@warren/client live subscription against the real stack', { timeout: 120_000 }, () => {
  let stack: Stack;
  let client: WarrenClient;
  let adminId: string;
  let sub: Subscription;
  const received: InboxNotification[] = [];
  const reads: ReadChange[] = [];
  const states: { state: LiveState; code?: number }[] = [];

  const send = (title: string) => client.notifications.send({ recipients: { userIds: [adminId] }, title, body: 'b' });
  const titles = () => received.map((n) => n.title);

  before(async () => {
    stack = await startStack({ ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_SECONDS) });
    client = createWarrenClient({
      mainBackendUrl: stack.mainUrl,
      notificationUrl: stack.notificationUrl,
      WebSocket: RecordingWebSocket,
      reconnect: { baseMs: 100, capMs: 1000 },
    });
    adminId = (await client.login(ADMIN)).user.id;
    sub = client.live.subscribe((n) => received.push(n), {
      onRead: (r) => reads.push(r),
      onState: (state, info) => states.push({ state, ...(info.code === undefined ? {} : { code: info.code }) }),
    });
    await until(() => sub.state === 'open', 'the subscription to open');
  });
  after(async () => {
    sub?.close();
    await stack?.stop();
  });

  it('When notifications are sent, then each arrives once, in the order sent, in id order', async () => {
    const sent = Array.from({ length: 20 }, (_, i) => `in order ${i}`);
    for (const title of sent) await send(title);

    await until(() => received.length >= sent.length, `${sent.length} notifications`);
    assert.deepEqual(titles(), sent);
    const ids = received.map((n) => n.id);
    assert.deepEqual(ids, [...ids].sort(), 'ascending ids');
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(sub.lastId, ids.at(-1));
    assert.equal(RecordingWebSocket.all.length, 1);
    // The first socket started where the inbox ended: the empty inbox's "before every id".
    assert.equal(new URL(RecordingWebSocket.all[0]!.openedWith).searchParams.get('after'), '0000000000000000');
  });

  it('When notifications are marked read over REST, then the subscription hears it and its unread count is the server\'s', async () => {
    await until(async () => sub.unreadCount === (await client.inbox.unreadCount()), 'the live count to match');
    const first = received[0]!;
    await client.inbox.markRead(first.id);
    await until(() => reads.some((r) => r.ids?.includes(first.id)), 'the read change');
    assert.equal(sub.unreadCount, await client.inbox.unreadCount());

    await client.inbox.markAllRead();
    await until(() => reads.some((r) => r.all === true), 'the read-all change');
    assert.equal(reads.at(-1)?.unreadCount, 0);
    assert.equal(sub.unreadCount, 0);
  });

  it('When the access token nears its expiry, then it is refreshed and the open socket renewed in place, and still delivers after the first token expired', async () => {
    const socket = RecordingWebSocket.all[0]!;
    const firstToken = new URL(socket.openedWith).searchParams.get('token') ?? '';
    const firstExpiry = (decodePayload(firstToken).exp as number) * 1000;
    await until(() => Date.now() > firstExpiry + 1000, "the socket's first token to expire", ACCESS_TOKEN_TTL_SECONDS * 1000 + 5000);
    // Past a second expiry too: renewal is not a one-off.
    await until(() => socket.sentFrames.filter((f) => f.type === 'auth').length >= 2, 'two renewals', ACCESS_TOKEN_TTL_SECONDS * 1000 + 5000);
    // The second answer may still be on its way (under load): wait for it, a refusal would close the socket instead.
    await until(() => socket.receivedFrames.filter((f) => f.type === 'auth_ok').length >= 2, 'the server to accept the renewals', 5000);
    // The frames the client's types describe are the frames the server sends (the notification
    // payload's own shape is checked in client-session.test.ts).
    for (const frame of socket.receivedFrames.filter((f) => f.type !== 'notification')) serverFrameSchema.parse(frame);

    await send('after the renewal');
    await until(() => titles().includes('after the renewal'), 'the notification after the renewal');
    assert.equal(RecordingWebSocket.all.length, 1, 'the same socket carried it: renewed, not reopened');
    assert.ok(!states.some((s) => s.state === 'reconnecting'));
  });

  it('When the notification service restarts with sends in between, then the subscription reconnects with ?after= and gets every one once, in order', async () => {
    const before = received.length;
    const lastBefore = sub.lastId;
    const whileDown = Array.from({ length: 10 }, (_, i) => `while down ${i}`);

    await stack.restartNotification(async () => {
      await until(() => sub.state === 'reconnecting', 'the subscription to notice');
      // The main backend accepts them; they wait in the broker until the service is back.
      for (const title of whileDown) await send(title);
    });
    await until(() => sub.state === 'open', 'the subscription to reopen', 20_000);
    const afterRestart = Array.from({ length: 5 }, (_, i) => `after restart ${i}`);
    for (const title of afterRestart) await send(title);

    const expected = [...whileDown, ...afterRestart];
    await until(() => received.length >= before + expected.length, `${expected.length} notifications`, 20_000);
    await new Promise((r) => setTimeout(r, 500)); // anything extra (a duplicate) would come now
    assert.deepEqual(titles().slice(before), expected, 'nothing missed, nothing twice, in order');
    const ids = received.map((n) => n.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(ids, [...ids].sort());

    const reopened = RecordingWebSocket.all.slice(1);
    assert.ok(reopened.length >= 1);
    assert.equal(new URL(reopened[0]!.openedWith).searchParams.get('after'), lastBefore, 'resumed after the last id it had');
    assert.ok(states.some((s) => s.state === 'reconnecting' && s.code === 1001), 'the restart closed it with 1001');
    // The inbox agrees: each stored once.
    const inbox = await client.inbox.list({ limit: 100 });
    for (const title of expected) assert.equal(inbox.items.filter((n) => n.title === title).length, 1, title);
  });

  it('When told to start after a malformed or out-of-range id, then the server\'s 1008 stops the subscription as closed, with no retry loop', async () => {
    for (const after of ['zz', '0020000000000000', `${'0'.repeat(16)}&token=x`]) {
      const socketsBefore = RecordingWebSocket.all.length;
      const got: { state: LiveState; code?: number }[] = [];
      const bad = client.live.subscribe(() => assert.fail('nothing may be delivered'), { after, onState: (state, info) => got.push({ state, code: info.code }) });
      await until(() => bad.state === 'closed', `the subscription after ${after} to stop`);
      assert.deepEqual(got.at(-1), { state: 'closed', code: 1008 });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(RecordingWebSocket.all.length, socketsBefore + 1, 'one socket, no retry');
    }
    assert.equal(sub.state, 'open', 'the other subscription is not affected');
  });

  it('When every session of the user is ended elsewhere, then the socket is closed, the refresh refused, and the subscription stops as unauthorized', async () => {
    const other = createWarrenClient({ mainBackendUrl: stack.mainUrl, notificationUrl: stack.notificationUrl, WebSocket });
    await other.login(ADMIN);
    await fetch(`${stack.mainUrl}/auth/logout-all`, { method: 'POST', headers: { authorization: `Bearer ${await other.accessToken()}` } });

    await until(() => sub.state === 'unauthorized', 'the subscription to stop as unauthorized');
    assert.equal(client.session.state, 'ended');
    const socketsNow = RecordingWebSocket.all.length;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(RecordingWebSocket.all.length, socketsNow, 'no reconnect after the end');
  });
});
