/**
 * How the consumer retries, against the real broker and real PostgreSQL errors: a failed
 * message waits in a delay queue (never in the consumer, never ahead of the others), an
 * unreachable database is waited out however many attempts it takes, data PostgreSQL refuses
 * is dead-lettered at once, and single handlers run `concurrency` messages at a time.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import pg from 'pg';
import { notificationRequestedSchema, type NotificationRequested } from '@warren/shared/contracts/notifications';
import { ROUTING_KEYS } from '@warren/shared/contracts/topology';
import { Consumer, type BatchDeferral, type BatchItem, type MessageMeta } from '@warren/shared/messaging/consumer';
import { retryQueuesOf } from '@warren/shared/messaging/topology';
import { UnavailableError } from '@warren/shared/messaging/failure-kind';
import type { Publisher } from '@warren/shared/messaging/publisher';
import { runWithRequestId } from '@warren/shared/request-context';
import { deferred, waitFor, within } from './helpers.js';
import { cleanups, counterValue, drain, fixture, notification, outcomeCount, runCleanups, type Fixture } from './messaging-fixture.js';

afterEach(runCleanups);
after(runCleanups);

const PG_SERVER = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE_UP = `${PG_SERVER}/postgres`;
/** Nothing listens on port 1: connecting fails with ECONNREFUSED, as when the database is down. */
const DATABASE_DOWN = 'postgres://postgres@127.0.0.1:1/postgres';

/** Runs `sql` on a fresh connection to `url`: the real errors node-postgres gives. */
async function query(url: string, sql: string, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(sql, params);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function publish(f: Fixture, publisher: Publisher, title: string) {
  return publisher.publish(f.t.exchanges.events.name, ROUTING_KEYS.notificationRequested, notificationRequestedSchema, notification({ title }));
}

function batchConsumer(f: Fixture, handler: (items: BatchItem<NotificationRequested>[]) => Promise<void | BatchDeferral<NotificationRequested>>, opts: { batchSize: number; maxAttempts?: number }) {
  const consumer = new Consumer({
    broker: f.broker('batch'),
    logger: f.logs.logger,
    metrics: f.metrics,
    name: 'batch-retries',
    queue: f.t.queues.notificationRequests,
    schema: notificationRequestedSchema,
    prefetch: opts.batchSize * 2,
    batchSize: opts.batchSize,
    maxWaitMs: 500,
    maxAttempts: opts.maxAttempts,
    batchHandler: handler,
  });
  cleanups.push(() => consumer.stop(2000));
  return consumer;
}

describe('Consumer retries', () => {
  it('When a message keeps failing, then the messages behind it are handled before its next attempt', { timeout: 30_000 }, async () => {
    // Arrange: one message at a time (prefetch 1); "bad" fails on every attempt.
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    const events: string[] = [];
    await f.consumer(
      f.broker('sub'),
      async (payload, meta) => {
        events.push(`${payload.title}#${meta.deliveryAttempt}`);
        if (payload.title === 'bad') throw new Error('this one always fails');
      },
      { prefetch: 1, maxAttempts: 2 },
    );

    // Act
    await publish(f, publisher, 'bad');
    for (let i = 0; i < 5; i++) await publish(f, publisher, `good-${i}`);

    // Assert: every good message was handled before the bad one came back from its delay queue.
    await waitFor(async () => (await f.messageCount(f.dlq)) === 1, 'the bad message to be dead-lettered', 15_000);
    const retry = events.indexOf('bad#2');
    assert.ok(retry > 0, `the bad message was retried: ${events.join(', ')}`);
    for (let i = 0; i < 5; i++) {
      const at = events.indexOf(`good-${i}#1`);
      assert.ok(at >= 0 && at < retry, `good-${i} was handled before the retry: ${events.join(', ')}`);
    }
    assert.equal(events.filter((e) => e.startsWith('bad')).length, 2, 'maxAttempts 2: two attempts, then the DLQ');
    assert.equal(await f.messageCount(f.queue), 0);
  });

  it('When the database is unreachable for more attempts than maxAttempts, then the message is retried until it is back and is never dead-lettered', { timeout: 30_000 }, async () => {
    // Arrange: maxAttempts 2, but the first two attempts cannot reach the database.
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    const attempts: MessageMeta[] = [];
    let failures = 0;
    const stored = deferred<MessageMeta>();
    await f.consumer(
      f.broker('sub'),
      async (_payload, meta) => {
        attempts.push(meta);
        await query(attempts.length <= 2 ? DATABASE_DOWN : DATABASE_UP, 'SELECT 1').catch((err: unknown) => {
          failures++;
          throw err;
        });
        stored.resolve(meta);
      },
      { maxAttempts: 2 },
    );

    // Act
    const messageId = await runWithRequestId('retry-corr-1', () => publish(f, publisher, 'hello'));

    // Assert: the third attempt reached the database; nothing was dead-lettered.
    const meta = await within(stored.promise, 20_000, 'the attempt after the database came back');
    assert.equal(failures, 2);
    assert.deepEqual(attempts.map((m) => m.deliveryAttempt), [1, 2, 3]);
    assert.equal(meta.messageId, messageId, 'the retried copy keeps its message id');
    assert.equal(meta.requestId, 'retry-corr-1', 'and its correlation id');
    assert.equal(meta.routingKey, ROUTING_KEYS.notificationRequested, 'and its routing key');
    assert.equal(await f.messageCount(f.dlq), 0);
    assert.equal(await outcomeCount(f.metrics, f.queue, 'retry_unavailable'), 2);
    assert.equal(await counterValue(f.metrics, 'messagesDeadLettered', { queue: f.queue }), 0);
    for (const q of retryQueuesOf(f.t.queues.notificationRequests)) assert.equal(await f.messageCount(q), 0, `${q} is empty`);
  });

  it('When PostgreSQL refuses one item of a batch as data (U+0000 in jsonb), then that item is dead-lettered at once and the rest are handled', { timeout: 30_000 }, async () => {
    // Arrange: each item is cast to jsonb by the real server; "bad" carries a NUL, which
    // PostgreSQL can never store (22P05).
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    const calls: string[][] = [];
    const handled = new Set<string>();
    const consumer = batchConsumer(
      f,
      async (items) => {
        calls.push(items.map((i) => `${i.payload.title}#${i.meta.deliveryAttempt}`));
        for (const i of items) {
          const value = i.payload.title === 'bad' ? 'nul \u0000 here' : i.payload.title;
          await query(DATABASE_UP, 'SELECT $1::jsonb', [JSON.stringify({ value })]);
        }
        for (const i of items) handled.add(i.payload.title);
      },
      { batchSize: 3, maxAttempts: 5 },
    );
    await consumer.waitReady();

    // Act
    const titles = ['a', 'bad', 'c'];
    const ids = new Map((await Promise.all(titles.map((t) => publish(f, publisher, t)))).map((id, i) => [titles[i], id]));

    // Assert: the bad item went to the DLQ on its first attempt, counted as a data error.
    await waitFor(async () => (await f.messageCount(f.dlq)) === 1, 'the dead letter', 10_000);
    await waitFor(() => handled.has('a') && handled.has('c'), 'the other items');
    assert.ok(
      calls.flat().every((c) => c.endsWith('#1')),
      `no item needed a second attempt: ${JSON.stringify(calls)}`,
    );
    const [dead] = await drain(f.ch, f.dlq);
    assert.equal(dead?.properties.messageId, ids.get('bad'));
    assert.equal(await counterValue(f.metrics, 'messagesDeadLettered', { queue: f.queue, reason: 'data_error' }), 1);
    assert.equal(await f.messageCount(f.queue), 0);
  });

  it('When a batch fails because the database is unreachable, then the whole batch goes to the delay queue, not one by one', { timeout: 30_000 }, async () => {
    // Arrange: the first call cannot reach the database, every later one can.
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    const calls: { title: string; attempt: number }[][] = [];
    const handled = new Set<string>();
    const consumer = batchConsumer(
      f,
      async (items) => {
        calls.push(items.map((i) => ({ title: i.payload.title, attempt: i.meta.deliveryAttempt })));
        await query(calls.length === 1 ? DATABASE_DOWN : DATABASE_UP, 'SELECT 1');
        for (const i of items) handled.add(i.payload.title);
      },
      { batchSize: 3, maxAttempts: 1 },
    );
    await consumer.waitReady();

    // Act
    await Promise.all(['a', 'b', 'c'].map((title) => publish(f, publisher, title)));

    // Assert: after the failed batch, every call handled copies back from the delay queue
    // (attempt 2): none of the three was tried alone on its first attempt.
    await waitFor(() => handled.size === 3, 'every item to be handled', 15_000);
    assert.equal(calls[0]?.length, 3, `the first call had the whole batch: ${JSON.stringify(calls)}`);
    assert.ok(
      calls.slice(1).every((call) => call.every((i) => i.attempt === 2)),
      `only retried copies after the failure: ${JSON.stringify(calls)}`,
    );
    assert.equal(await f.messageCount(f.dlq), 0, 'maxAttempts 1, yet an unreachable database dead-letters nothing');
    assert.equal(await outcomeCount(f.metrics, f.queue, 'retry_unavailable'), 3);
  });

  it('When a batch handler defers one item, then the others are acked at once and that one is retried later and handled', { timeout: 30_000 }, async () => {
    // Arrange: "b" waits on something unreachable the first time it is seen.
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    const handled: { title: string; attempt: number }[] = [];
    const consumer = batchConsumer(
      f,
      async (items) => {
        const waits = items.filter((i) => i.payload.title === 'b' && i.meta.deliveryAttempt === 1);
        for (const i of items) if (!waits.includes(i)) handled.push({ title: i.payload.title, attempt: i.meta.deliveryAttempt });
        if (waits.length > 0) return { deferred: waits, reason: new UnavailableError('a dependency is unreachable') };
      },
      { batchSize: 3, maxAttempts: 1 },
    );
    await consumer.waitReady();

    // Act
    await Promise.all(['a', 'b', 'c'].map((title) => publish(f, publisher, title)));

    // Assert: a and c on their first attempt, b once more, from the delay queue; nothing lost
    await waitFor(() => handled.some((h) => h.title === 'b'), 'b to come back and be handled', 15_000);
    assert.deepEqual(
      handled.map((h) => `${h.title}${h.attempt}`).sort(),
      ['a1', 'b2', 'c1'],
    );
    assert.equal(await f.messageCount(f.dlq), 0);
    await waitFor(async () => (await f.messageCount(f.queue)) === 0, 'the queue to be empty', 5_000);
  });
});

describe('Consumer concurrency', () => {
  it('When concurrency is 3, then three messages are handled at once and never more', { timeout: 20_000 }, async () => {
    // Arrange: each handler waits until three run together (it would wait forever one at a time).
    const f = await fixture();
    const publisher = f.publisher(f.broker('pub'));
    let running = 0;
    let most = 0;
    const three = deferred();
    const done = new Set<string>();
    await f.consumer(
      f.broker('sub'),
      async (payload) => {
        running++;
        most = Math.max(most, running);
        if (running === 3) three.resolve();
        await three.promise;
        running--;
        done.add(payload.title);
      },
      { prefetch: 10, concurrency: 3 },
    );

    // Act
    for (let i = 0; i < 7; i++) await publish(f, publisher, `m-${i}`);

    // Assert
    await within(three.promise, 10_000, 'three handlers running at once');
    await waitFor(() => done.size === 7, 'every message handled');
    assert.equal(most, 3);
    await waitFor(async () => (await f.messageCount(f.queue)) === 0, 'every message acked');
  });
});
