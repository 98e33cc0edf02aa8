/**
 * The batch sequencer's promises, with the clock faked: batches leave in commit order whatever
 * order they arrive in; a gap that is not filled within the wait makes every socket re-sync
 * from the database (once), and what arrives late after that is ignored; a re-anchor (reset)
 * drops what was waiting and cancels the pending re-sync; and what it holds stays bounded
 * whatever numbers arrive.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { BatchSequencer, DEFAULT_SEQUENCER_LIMITS, type SequencerLimits } from '../../src/live/batch-sequencer.js';
import { BOB, entry } from './fakes.js';

const GAP_WAIT_MS = DEFAULT_SEQUENCER_LIMITS.gapWaitMs;

/** A sequencer whose deliveries, re-syncs and re-anchors are recorded; batch n carries one entry of seq n. */
function recorded(next = 1, limits: SequencerLimits = DEFAULT_SEQUENCER_LIMITS) {
  const delivered: number[] = [];
  let resyncs = 0;
  let reanchors = 0;
  const sequencer = new BatchSequencer(
    next,
    {
      deliver: (entries) => delivered.push(...entries.map((e) => e.seq)),
      resync: () => {
        resyncs += 1;
      },
      reanchor: () => {
        reanchors += 1;
      },
    },
    limits,
  );
  return {
    sequencer,
    delivered,
    resyncs: () => resyncs,
    reanchors: () => reanchors,
    receive: (batch: number) => sequencer.receive(batch, [entry(batch)]),
  };
}

describe('batch sequencer', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('When batches arrive in order, then each is delivered at once and nothing waits', () => {
    const s = recorded();
    for (let b = 1; b <= 5; b++) {
      s.receive(b);
      assert.deepEqual(s.delivered.at(-1), b, `batch ${b} left on arrival`);
    }
    assert.deepEqual(s.sequencer.holding, { batches: 0, entries: 0 });
    mock.timers.tick(GAP_WAIT_MS * 10);
    assert.equal(s.resyncs(), 0);
  });

  it('When batches arrive out of order within the wait, then they are delivered in commit order and nothing re-syncs', () => {
    const s = recorded();
    s.receive(2);
    s.receive(3);
    assert.deepEqual(s.delivered, [], 'nothing leaves before batch 1');
    assert.deepEqual(s.sequencer.holding, { batches: 2, entries: 2 });
    s.receive(1);
    assert.deepEqual(s.delivered, [1, 2, 3]);
    mock.timers.tick(GAP_WAIT_MS * 10);
    assert.equal(s.resyncs(), 0, 'the filled gap cancelled the re-sync');
  });

  it('When a batch never arrives, then after the wait every socket re-syncs exactly once and the batches behind it are skipped', () => {
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
    assert.deepEqual(s.sequencer.holding, { batches: 0, entries: 0 });

    // Batch 2 turns up late, and 3 again: both are history now.
    s.receive(2);
    s.receive(3);
    assert.deepEqual(s.delivered, [1]);
    // The sequence goes on after the highest batch seen.
    s.receive(5);
    assert.deepEqual(s.delivered, [1, 5]);
    mock.timers.tick(GAP_WAIT_MS * 10);
    assert.equal(s.resyncs(), 1, 'one re-sync per gap');
    assert.equal(s.reanchors(), 0);
  });

  it('When more early batches arrive during the wait, then they do not extend it', () => {
    const s = recorded();
    s.receive(3);
    mock.timers.tick(GAP_WAIT_MS - 10);
    s.receive(4);
    s.receive(5);
    mock.timers.tick(10);
    assert.equal(s.resyncs(), 1, 'the wait counts from the first early batch');
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

  it('When a batch arrives again (delivered, or held), then it is ignored', () => {
    const s = recorded(10);
    s.receive(10);
    s.receive(10);
    s.receive(9);
    assert.deepEqual(s.delivered, [10]);
    s.sequencer.receive(12, [entry(12)]);
    s.sequencer.receive(12, [entry(12), entry(13)]);
    assert.deepEqual(s.sequencer.holding, { batches: 1, entries: 1 }, 'the first copy of a held batch stands');
    s.receive(11);
    assert.deepEqual(s.delivered, [10, 11, 12]);
  });

  it('When a batch holds entries of several users, then they leave together in their order and other batches are not held for one user', () => {
    const s = recorded();
    s.sequencer.receive(2, [entry(3, BOB), entry(4)]);
    s.sequencer.receive(1, [entry(1), entry(2, BOB)]);
    assert.deepEqual(s.delivered, [1, 2, 3, 4]);
  });

  it('When the sequence is re-anchored (reset), then waiting batches are dropped, the pending re-sync is cancelled and the sequence resumes after the stored batches', () => {
    const s = recorded();
    s.receive(1);
    s.receive(3);
    // The service re-syncs every socket itself after a re-anchor; the database holds up to 7.
    s.sequencer.reset(8);
    mock.timers.tick(GAP_WAIT_MS * 10);
    assert.equal(s.resyncs(), 0, 'no second re-sync for a gap the re-anchor already covered');
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

  describe('memory', () => {
    it('When a hostile stream sends 100 000 batches past one that never comes, then at most maxHeldBatches are ever held and the sequence is re-anchored, not poisoned', () => {
      const s = recorded();
      let most = 0;
      for (let b = 2; b <= 100_001; b++) {
        s.receive(b);
        most = Math.max(most, s.sequencer.holding.batches);
      }
      assert.ok(most < DEFAULT_SEQUENCER_LIMITS.maxHeldBatches, `held ${most}`);
      assert.ok(s.reanchors() > 0, 'a batch beyond the horizon asks for a re-anchor on the database');
      assert.deepEqual(s.delivered, []);
      // The database says batches up to 3 exist (the rest were never stored): 4 comes next.
      s.sequencer.reset(4);
      s.receive(4);
      assert.deepEqual(s.delivered, [4]);
    });

    it('When batch numbers are absurd (far ahead, unsafe, fractional, zero, negative, NaN), then none is held or delivered and the real next batch still is', () => {
      const s = recorded();
      for (const b of [Number.MAX_SAFE_INTEGER, 2 ** 53, 2 ** 64, Infinity, 1.5, 0, -1, Number.NaN]) s.receive(b);
      assert.deepEqual(s.sequencer.holding, { batches: 0, entries: 0 });
      mock.timers.tick(GAP_WAIT_MS * 10);
      assert.equal(s.resyncs(), 0, 'nothing was held, so nothing re-syncs');
      assert.equal(s.reanchors(), 1, 'only the far-ahead safe integer asked for a re-anchor');
      s.receive(1);
      assert.deepEqual(s.delivered, [1], 'the sequence did not jump past the absurd numbers');
    });

    it('When early batches for many users outgrow maxHeldEntries, then the wait ends at once with one re-sync and nothing stays held', () => {
      const limits = { ...DEFAULT_SEQUENCER_LIMITS };
      const s = recorded(1, limits);
      let seq = 0;
      const batchOf = (users: number) => Array.from({ length: users }, (_, i) => entry(++seq, `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`));
      // 10 000 different users per batch, two batches ahead: still within the limit.
      s.sequencer.receive(2, batchOf(10_000));
      s.sequencer.receive(3, batchOf(10_000));
      assert.deepEqual(s.sequencer.holding, { batches: 2, entries: 20_000 });
      assert.equal(s.resyncs(), 0);
      s.sequencer.receive(4, batchOf(1));
      assert.equal(s.resyncs(), 1, 'no waiting with more than maxHeldEntries held');
      assert.deepEqual(s.sequencer.holding, { batches: 0, entries: 0 });
      mock.timers.tick(GAP_WAIT_MS * 10);
      assert.equal(s.resyncs(), 1, 'and no second re-sync when the wait would have ended');
      s.receive(5);
      assert.deepEqual(s.delivered, [5]);
    });
  });
});
