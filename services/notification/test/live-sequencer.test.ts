/**
 * The live sequencer's promises, with the clock faked: batches leave in commit order whatever
 * order they arrive in; a gap that is not filled within the wait makes every socket re-sync
 * from the database (once), and what arrives late after that is ignored; a broker reconnect
 * (reset) drops what was waiting and cancels the pending re-sync.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { InboxEntry } from '../src/domain/notification.js';
import { LiveSequencer } from '../src/ws/live-sequencer.js';

const GAP_WAIT_MS = 300;

function entry(seq: number): InboxEntry {
  return {
    userId: 'u1',
    seq,
    notification: { id: seq.toString(16).padStart(16, '0'), notificationId: '00000000-0000-4000-8000-000000000000', sender: null, type: 'general', title: `n${seq}`, body: '', data: {}, createdAt: '', readAt: null },
  };
}

/** A sequencer whose deliveries and re-syncs are recorded; batch n carries one entry of seq n. */
function recorded(next = 1) {
  const delivered: number[] = [];
  let resyncs = 0;
  const sequencer = new LiveSequencer(
    next,
    {
      deliver: (entries) => delivered.push(...entries.map((e) => e.seq)),
      resyncAll: () => {
        resyncs += 1;
      },
    },
    GAP_WAIT_MS,
  );
  return { sequencer, delivered, resyncs: () => resyncs, receive: (batch: number) => sequencer.receive(batch, [entry(batch)]) };
}

describe('live sequencer', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('When batches arrive out of order within the wait, then they are delivered in commit order and nothing re-syncs', () => {
    const s = recorded();
    s.receive(2);
    s.receive(3);
    assert.deepEqual(s.delivered, [], 'nothing leaves before batch 1');
    s.receive(1);
    assert.deepEqual(s.delivered, [1, 2, 3]);
    mock.timers.tick(GAP_WAIT_MS * 10);
    assert.equal(s.resyncs(), 0, 'the filled gap cancelled the re-sync');
  });

  it('When a batch never arrives, then after the wait every socket re-syncs once and the batches behind it are skipped', () => {
    const s = recorded();
    s.receive(1);
    s.receive(3);
    s.receive(4);
    assert.deepEqual(s.delivered, [1]);
    mock.timers.tick(GAP_WAIT_MS - 1);
    assert.equal(s.resyncs(), 0, 'still waiting for batch 2');

    mock.timers.tick(1);
    assert.equal(s.resyncs(), 1, 'gave up on batch 2: re-sync from the database');
    assert.deepEqual(s.delivered, [1], 'batches 3 and 4 reach sockets through the re-sync, not twice');

    // Batch 2 turns up late, and 3 again: both are history now.
    s.receive(2);
    s.receive(3);
    assert.deepEqual(s.delivered, [1]);
    // The sequence goes on after the highest batch seen.
    s.receive(5);
    assert.deepEqual(s.delivered, [1, 5]);
    mock.timers.tick(GAP_WAIT_MS * 10);
    assert.equal(s.resyncs(), 1, 'one re-sync per gap');
  });

  it('When a second gap opens after a re-sync, then it gets its own wait and its own re-sync', () => {
    const s = recorded();
    s.receive(2);
    mock.timers.tick(GAP_WAIT_MS);
    assert.equal(s.resyncs(), 1);
    s.receive(4);
    mock.timers.tick(GAP_WAIT_MS - 1);
    assert.equal(s.resyncs(), 1);
    mock.timers.tick(1);
    assert.equal(s.resyncs(), 2);
  });

  it('When a batch at or below the last delivered one arrives again, then it is ignored', () => {
    const s = recorded(10);
    s.receive(10);
    s.receive(10);
    s.receive(9);
    assert.deepEqual(s.delivered, [10]);
  });

  it('When the broker reconnects (reset), then waiting batches are dropped, the pending re-sync is cancelled and the sequence resumes after the stored batches', () => {
    const s = recorded();
    s.receive(1);
    s.receive(3);
    // The service re-syncs every socket itself after a reconnect; the database holds up to 7.
    s.sequencer.reset(8);
    mock.timers.tick(GAP_WAIT_MS * 10);
    assert.equal(s.resyncs(), 0, 'no second re-sync for a gap the reconnect already covered');
    s.receive(2);
    s.receive(7);
    assert.deepEqual(s.delivered, [1], 'batches the database already covers are not delivered again');
    s.receive(8);
    assert.deepEqual(s.delivered, [1, 8]);
  });

  it('When reset names a batch behind what was delivered, then the sequence never goes back', () => {
    const s = recorded();
    s.receive(1);
    s.receive(2);
    s.sequencer.reset(1);
    s.receive(2);
    assert.deepEqual(s.delivered, [1, 2]);
    s.receive(3);
    assert.deepEqual(s.delivered, [1, 2, 3]);
  });

  it('When stopped with a gap pending, then no re-sync fires afterwards', () => {
    const s = recorded();
    s.receive(2);
    s.sequencer.stop();
    mock.timers.tick(GAP_WAIT_MS * 10);
    assert.equal(s.resyncs(), 0);
  });
});
