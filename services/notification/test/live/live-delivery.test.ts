/**
 * Live delivery end to end inside the module, with fakes for its ports (inbox, exchange,
 * sockets) and the clock faked: what the store commits reaches the sockets of its user in id
 * order; a live message the exchange loses is read from the store by the sockets after the gap
 * wait, or at once after a re-subscription; nothing arrives twice; and a socket that cannot
 * read the store is closed rather than left with a gap.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { captureLogs } from '../../../../test/support/logs.js';
import { DEFAULT_SEQUENCER_LIMITS } from '../../src/live/batch-sequencer.js';
import { LiveDelivery } from '../../src/live/live-delivery.js';
import { ALICE, BOB, FakeSocket, FakeSockets, FakeStore, LoopbackBus, settle } from './fakes.js';

const GAP_WAIT_MS = DEFAULT_SEQUENCER_LIMITS.gapWaitMs;

/** A replica: live delivery over a fake inbox and exchange, serving fake sockets. */
function replica() {
  const store = new FakeStore();
  const bus = new LoopbackBus();
  const sockets = new FakeSockets();
  const logs = captureLogs('notification');
  const live = new LiveDelivery({ bus, store, logger: logs.logger }, store.last);
  bus.hear = (m) => live.receive(m);
  live.serve(sockets);
  /**
   * Opens a socket of `userId` that starts after `after` (its newest one without it), as the
   * gateway does: registered, anchored, then (`ready` sent) started. `beforeStart` runs where
   * `ready` is on its way to the client.
   */
  async function connect(userId: string, after?: number, beforeStart?: () => Promise<void>): Promise<FakeSocket> {
    const socket = new FakeSocket(userId);
    socket.feed = live.openFeed(userId, socket);
    sockets.list.push(socket);
    await socket.feed.anchor(after);
    await beforeStart?.();
    await socket.feed.start();
    return socket;
  }
  /** What the notification consumer does: commit, then publish. */
  async function store1(...userIds: string[]): Promise<void> {
    const { batch, entries } = store.commit(userIds);
    await live.publishStored(batch, entries);
  }
  return { store, bus, sockets, live, logs, connect, store1 };
}

describe('live delivery', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('When batches are stored for two users, then each socket gets only its own user\'s notifications, in id order, live', async () => {
    const r = replica();
    const alice = await r.connect(ALICE);
    const bob = await r.connect(BOB);
    await r.store1(ALICE, BOB);
    await r.store1(BOB);
    await r.store1(ALICE);
    assert.deepEqual(alice.titles, ['n1', 'n4']);
    assert.deepEqual(bob.titles, ['n2', 'n3']);
    assert.equal(r.store.reads, 2, 'only the two begin() reads: live needs no database');
  });

  it('When the live message of a batch is lost, then after the gap wait the socket reads it from the store, in order and nothing twice', async () => {
    const r = replica();
    const alice = await r.connect(ALICE);
    await r.store1(ALICE);
    r.bus.lose();
    await r.store1(ALICE);
    await r.store1(ALICE, BOB);
    assert.deepEqual(alice.titles, ['n1'], 'n3 waits for the lost batch');

    mock.timers.tick(GAP_WAIT_MS - 1);
    await settle();
    assert.deepEqual(alice.titles, ['n1']);
    mock.timers.tick(1);
    await settle();
    assert.deepEqual(alice.titles, ['n1', 'n2', 'n3'], 'the re-sync read the lost n2 and the held n3 from the store');

    // The lost message turns up after all, and live goes on.
    for (const m of r.bus.lost) r.live.receive(m);
    await r.store1(ALICE);
    mock.timers.tick(GAP_WAIT_MS * 10);
    await settle();
    assert.deepEqual(alice.titles, ['n1', 'n2', 'n3', 'n5'], 'nothing twice');
    assert.equal(alice.aborted, undefined);
  });

  it('When a lost batch concerned another user only, then every socket still re-reads (the lost users are unknown) and gets nothing twice', async () => {
    const r = replica();
    const alice = await r.connect(ALICE);
    const bob = await r.connect(BOB);
    r.bus.lose();
    await r.store1(BOB);
    await r.store1(ALICE);
    mock.timers.tick(GAP_WAIT_MS);
    await settle();
    assert.deepEqual(bob.titles, ['n1']);
    assert.deepEqual(alice.titles, ['n2']);
  });

  it('When the subscription is re-made after a reconnect, then every socket reads what was published meanwhile at once, and live resumes after it', async () => {
    const r = replica();
    const alice = await r.connect(ALICE);
    await r.store1(ALICE);
    // Disconnected: everything published now is gone, and no later batch reveals the gap.
    r.bus.lose(3);
    await r.store1(ALICE);
    await r.store1(ALICE);
    await r.store1(BOB);
    r.live.resubscribed();
    await settle();
    assert.deepEqual(alice.titles, ['n1', 'n2', 'n3'], 'no gap wait: the re-subscription is the signal');

    await r.store1(ALICE);
    assert.deepEqual(alice.titles, ['n1', 'n2', 'n3', 'n5'], 'batch 4 is history, batch 5 comes live at once');
    for (const m of r.bus.lost) r.live.receive(m);
    mock.timers.tick(GAP_WAIT_MS * 10);
    await settle();
    assert.deepEqual(alice.titles, ['n1', 'n2', 'n3', 'n5']);
  });

  it('When a batch number far ahead of any stored one arrives (forged or corrupt), then it is dropped, the sequence re-anchors on the store and real batches still come live', async () => {
    const r = replica();
    const alice = await r.connect(ALICE);
    await r.store1(ALICE);
    r.live.receive({ kind: 'notifications', batch: Number.MAX_SAFE_INTEGER, entries: [{ userId: ALICE, seq: 2 ** 40, notification: { id: 'x', notificationId: '00000000-0000-4000-8000-000000000000', sender: null, type: 'general', title: 'forged', body: '', data: {}, createdAt: '', readAt: null } }] });
    await settle();
    await r.store1(ALICE);
    mock.timers.tick(GAP_WAIT_MS * 10);
    await settle();
    assert.deepEqual(alice.titles, ['n1', 'n2']);
  });

  it('When live batches arrive while a socket is still reading its catch-up, then it gets each notification once, in order', async () => {
    const r = replica();
    await r.store1(ALICE);
    await r.store1(ALICE);
    let release!: () => void;
    r.store.gate = new Promise<void>((resolve) => (release = resolve));
    const connecting = r.connect(ALICE, 0);
    await settle();
    await r.store1(ALICE);
    await r.store1(ALICE);
    release();
    r.store.gate = undefined;
    const alice = await connecting;
    await settle();
    assert.deepEqual(alice.titles, ['n1', 'n2', 'n3', 'n4']);
  });

  it('When a notification is stored while `ready` is on its way (after the anchor, before the start), then the socket gets it once', async () => {
    const r = replica();
    await r.store1(ALICE);
    // Its live message reaches the socket while it is not started yet: it only marks it behind.
    const alice = await r.connect(ALICE, undefined, () => r.store1(ALICE));
    await settle();
    assert.deepEqual(alice.titles, ['n2'], 'n1 was stored before the socket, n2 after: n2 arrives, from the store');
    await r.store1(ALICE);
    assert.deepEqual(alice.titles, ['n2', 'n3']);
  });

  it('When the live message of a batch arrives after the socket already read its rows from the store, then they are not sent again', async () => {
    const r = replica();
    const first = r.store.commit([ALICE, ALICE]);
    const alice = await r.connect(ALICE, 0);
    assert.deepEqual(alice.titles, ['n1', 'n2'], 'read by the catch-up');
    await r.live.publishStored(first.batch, first.entries);
    await r.store1(ALICE);
    assert.deepEqual(alice.titles, ['n1', 'n2', 'n3']);
  });

  it('When a re-sync cannot read the store, then the socket is aborted (its client resumes with ?after=) instead of going on past a gap', async () => {
    const r = replica();
    const alice = await r.connect(ALICE);
    r.bus.lose();
    await r.store1(ALICE);
    r.store.failing = new Error('connection terminated');
    await r.store1(ALICE);
    mock.timers.tick(GAP_WAIT_MS);
    await settle();
    assert.equal(alice.aborted?.message, 'connection terminated');
    assert.deepEqual(alice.titles, []);
  });

  it('When the re-anchor after a reconnect cannot read the store, then it is logged and the sockets are still made to re-read', async () => {
    const r = replica();
    const alice = await r.connect(ALICE);
    r.store.failing = new Error('connection refused');
    r.live.resubscribed();
    await settle();
    assert.ok(r.logs.lines.some((l) => l.message === 'live delivery could not re-anchor on the database'));
    assert.equal(alice.aborted?.message, 'connection refused');
  });

  it('When read state changes, then every socket of that user hears it and no other socket does', async () => {
    const r = replica();
    const alice1 = await r.connect(ALICE);
    const alice2 = await r.connect(ALICE);
    const bob = await r.connect(BOB);
    await r.live.announceRead({ userId: ALICE, ids: ['0000000000000001'], unreadCount: 2 });
    await r.live.announceRead({ userId: ALICE, all: true, unreadCount: 0 });
    const expected = [
      { type: 'read', ids: ['0000000000000001'], unreadCount: 2 },
      { type: 'read', all: true, unreadCount: 0 },
    ];
    assert.deepEqual(alice1.frames, expected);
    assert.deepEqual(alice2.frames, expected);
    assert.deepEqual(bob.frames, []);
  });
});
