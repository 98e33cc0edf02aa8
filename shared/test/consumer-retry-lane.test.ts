/**
 * A work queue's retry lane, against the real broker: failed messages come back to
 * `<queue>.retries`, which the consumer takes with slots of its own, so messages that keep
 * failing (and take long to fail, like emails a relay defers after a pause) never hold a fresh
 * message's slot; a message that keeps failing in the lane is dead-lettered into the work
 * queue's own dead-letter queue after maxAttempts, and a replay brings it back.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, describe, it } from 'node:test';
import amqplib from 'amqplib';
import { z } from 'zod';
import { Consumer, type MessageMeta } from '@warren/shared/messaging/consumer';
import { replayDeadLetters } from '@warren/shared/messaging/dead-letters';
import { resourceNames, workQueue, type WorkQueue } from '@warren/shared/messaging/topology';
import { RABBITMQ_URL } from '../../test/support/env.js';
import { deferred, waitFor } from './helpers.js';
import { cleanups, fixture, runCleanups, type Fixture } from './messaging-fixture.js';

afterEach(runCleanups);
after(runCleanups);

const schema = z.object({ id: z.string() });

/** A work queue of the test's own, with a retry lane and one 1 s delay tier, deleted afterwards. */
function laneQueue(f: Fixture): WorkQueue {
  const queue = workQueue({ name: `${f.ns}.lane-test`, owner: 'test', bindings: [], deadLetterExchange: f.t.exchanges.deadLetters, retryDelaysMs: [1_000], retryLane: true });
  cleanups.push(async () => {
    for (const q of resourceNames([queue]).queues) await f.ch.deleteQueue(q);
  });
  return queue;
}

function startConsumer(
  f: Fixture,
  queue: WorkQueue,
  handler: (payload: { id: string }, meta: MessageMeta) => Promise<void>,
  opts: { concurrency: number; retryConcurrency: number; maxAttempts?: number },
) {
  const consumer = new Consumer({
    broker: f.broker('lane'),
    logger: f.logs.logger,
    metrics: f.metrics,
    name: 'lane-test',
    queue,
    schema,
    prefetch: opts.concurrency * 2,
    concurrency: opts.concurrency,
    retryLane: { concurrency: opts.retryConcurrency },
    maxAttempts: opts.maxAttempts,
    handler,
  });
  cleanups.push(() => consumer.stop(2000));
  return consumer;
}

function send(f: Fixture, queue: WorkQueue, id: string) {
  f.ch.sendToQueue(queue.name, Buffer.from(JSON.stringify({ id })), { messageId: randomUUID(), contentType: 'application/json', persistent: true });
}

describe('Consumer retry lane', () => {
  it('When messages that keep failing cycle through the retry lane, then fresh ones still get every slot and the lane never uses more than its own', { timeout: 30_000 }, async () => {
    // Arrange: "slow" messages fail at once the first time; back from the lane, each holds its
    // slot until the gate opens (a relay pausing before every answer, without end).
    const f = await fixture();
    const queue = laneQueue(f);
    const gate = deferred();
    let inLane = 0;
    let mostInLane = 0;
    const fresh: number[] = [];
    const slowDone = new Map<string, MessageMeta>();
    const consumer = startConsumer(
      f,
      queue,
      async ({ id }, meta) => {
        if (id.startsWith('fresh')) {
          fresh.push(meta.deliveryAttempt);
          return;
        }
        if (meta.deliveryAttempt === 1) throw new Error('deferred, try again later');
        inLane++;
        mostInLane = Math.max(mostInLane, inLane);
        await gate.promise;
        inLane--;
        slowDone.set(id, meta);
      },
      { concurrency: 2, retryConcurrency: 1 },
    );
    await consumer.waitReady();
    for (let i = 0; i < 4; i++) send(f, queue, `slow-${i}`);
    // All four failed once and are back from the delay queue, one of them holding the lane.
    await waitFor(() => f.logs.lines.filter((l) => l.message === 'message failed, will retry').length === 4, 'four failed first attempts', 10_000);
    await waitFor(async () => inLane >= 1 && (await f.messageCount(queue.retryTiers[0]?.queue as string)) === 0, 'the retries back, one holding a slot', 10_000);

    // Act: fresh messages while the lane is stuck (it would take both work slots without a lane)
    for (let i = 0; i < 6; i++) send(f, queue, `fresh-${i}`);

    // Assert
    await waitFor(() => fresh.length === 6, 'every fresh message handled while the lane is stuck', 5_000);
    assert.deepEqual(fresh, [1, 1, 1, 1, 1, 1]);
    assert.equal(slowDone.size, 0);
    assert.equal(inLane, 1);

    // Act: the gate opens
    gate.resolve();

    // Assert: each retried message handled once, from the lane, never more than one at a time
    await waitFor(() => slowDone.size === 4, 'every retried message handled', 10_000);
    assert.equal(mostInLane, 1);
    assert.ok([...slowDone.values()].every((m) => m.deliveryAttempt === 2 && m.raw.fields.routingKey === queue.retryLane), 'second attempts, from the lane');
    await waitFor(async () => (await Promise.all(resourceNames([queue]).queues.map((q) => f.messageCount(q)))).every((n) => n === 0), 'every queue empty');
  });

  it('When a message keeps failing in the retry lane, then it is dead-lettered into the work queue\'s dead-letter queue after maxAttempts, and a replay handles it', { timeout: 30_000 }, async () => {
    // Arrange: fails until it has been replayed
    const f = await fixture();
    const queue = laneQueue(f);
    const attempts: { attempt: number; from: string; replays: unknown }[] = [];
    const consumer = startConsumer(
      f,
      queue,
      async (_payload, meta) => {
        const replays = meta.raw.properties.headers?.['x-warren-replays'];
        attempts.push({ attempt: meta.deliveryAttempt, from: meta.raw.fields.routingKey, replays });
        if (replays === undefined) throw new Error('always fails');
      },
      { concurrency: 2, retryConcurrency: 1, maxAttempts: 3 },
    );
    await consumer.waitReady();

    // Act
    send(f, queue, 'doomed');

    // Assert: attempt 1 from the work queue, 2 and 3 from the lane, then the dead-letter queue
    await waitFor(async () => (await f.messageCount(queue.deadLetterQueue)) === 1, 'the message dead-lettered', 15_000);
    assert.deepEqual(attempts, [
      { attempt: 1, from: queue.name, replays: undefined },
      { attempt: 2, from: queue.retryLane, replays: undefined },
      { attempt: 3, from: queue.retryLane, replays: undefined },
    ]);
    const dead = f.logs.lines.filter((l) => l.message === 'message dead-lettered');
    assert.deepEqual(dead.map((l) => [l.queue, l.reason]), [[queue.name, 'max_attempts']]);

    // Act: replay it
    const conn = await amqplib.connect(RABBITMQ_URL);
    cleanups.push(() => conn.close());
    const replay = await replayDeadLetters(conn, queue.deadLetterQueue);

    // Assert: back where it died (the lane), with its attempts afresh, handled once
    assert.equal(replay.replayed.length, 1);
    assert.equal(replay.replayed[0]?.queue, queue.retryLane);
    await waitFor(() => attempts.length === 4, 'the replay handled');
    assert.deepEqual(attempts[3], { attempt: 1, from: queue.retryLane, replays: 1 });
    await waitFor(async () => (await Promise.all(resourceNames([queue]).queues.map((q) => f.messageCount(q)))).every((n) => n === 0), 'every queue empty');
  });
});
