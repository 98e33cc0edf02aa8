/**
 * A queue consumer with the guarantees Warren relies on:
 * - every message is validated with its zod schema before a handler sees it, and must have come
 *   through a binding of the queue (or back from a delay queue): one a publisher's CC/BCC header
 *   routed here is dead-lettered as `unexpected_route`;
 * - a message is acked only after the handler resolved (its effect is committed);
 * - a retry never holds the queue: a failed message is copied to a delay queue (confirmed by
 *   the broker before the original is acked) and comes back after 1 s, 5 s, then 15 s, while
 *   the messages behind it flow; the consumer never sleeps on a message;
 * - what to do with a failure is decided by its kind (failure-kind.ts): bad JSON, failed
 *   validation, a PermanentError or data PostgreSQL refuses go straight to the dead-letter
 *   queue; an unreachable dependency is retried for as long as the outage lasts; anything else
 *   goes to the dead-letter queue after `maxAttempts`; nothing is requeued forever;
 * - handlers see each message's correlation id and traceparent (single handlers run inside
 *   them, so their log lines carry them; batch handlers get them per item).
 * Batching: with `batchHandler`, valid messages are collected until `batchSize` are waiting or
 * `maxWaitMs` passed, and handled together (one transaction, multi-row inserts). If a batch
 * fails because a dependency is unreachable, the whole batch goes to the delay queue; if it
 * fails otherwise, its messages are retried one by one, so one poison message cannot hold back
 * the rest. Batches run one at a time per consumer; prefetch should be about twice the batch
 * size so the next batch fills while one is handled. With `handler`, up to `concurrency`
 * messages are handled at once (prefetch should be at least that). On reconnect consumption
 * resumes on the new channel.
 * Retry lane: when the work queue has one (WorkQueue.retryLane), failed messages come back to
 * it, not to the work queue, and the consumer takes it with slots (or batches) of its own
 * (`retryLane`): messages that keep failing only ever wait for each other, and fresh ones
 * always find the work queue's slots free for them. Every rule above holds in both lanes;
 * a message dead-lettered from the lane lands in the work queue's dead-letter queue.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { runWithRequestId, sanitizeRequestId } from '../request-context.js';
import type { Broker } from './broker.js';
import { DelayedRetry } from './delayed-retry.js';
import { decode, originalRoutingKey, requestIdOf, retryCounts, traceparentOf } from './envelope.js';
import { classifyFailure } from './failure-kind.js';
import { settle, Subscription } from './subscription.js';
import { arrivedAsBound, consumedQueuesOf, deadLetteredByBroker, type WorkQueue } from './topology.js';

export { PermanentError, UnavailableError } from './failure-kind.js';

export interface MessageMeta {
  messageId: string | undefined;
  requestId: string;
  /** The publisher's W3C traceparent, if it sent a valid one. */
  traceparent: string | undefined;
  /** The routing key the message was published with (also on a copy back from a delay queue). */
  routingKey: string;
  /** 1 for the first attempt; counts retries through the delay queues and redeliveries. */
  deliveryAttempt: number;
  raw: ConsumeMessage;
}

export interface BatchItem<T> {
  payload: T;
  meta: MessageMeta;
}

interface CommonOptions<S extends z.ZodType> {
  broker: Broker;
  logger: Logger;
  metrics?: Metrics;
  name: string;
  /** Declared on every (re)connection, with its bindings, dead-letter queue and delay queues. */
  queue: WorkQueue;
  schema: S;
  prefetch: number;
  /**
   * Attempts before a failing message is dead-lettered (default 5). Failures to reach a
   * dependency do not count: those are retried as long as the outage lasts.
   */
  maxAttempts?: number;
  /**
   * How the work queue's retry lane is taken, when it has one: messages handled at once by a
   * single handler (default a quarter of `concurrency`, at least 1), and prefetch (default twice
   * that; with a batch handler, `prefetch`).
   */
  retryLane?: { concurrency?: number; prefetch?: number };
}

export type ConsumerOptions<S extends z.ZodType> = CommonOptions<S> &
  (
    | {
        handler: (payload: z.output<S>, meta: MessageMeta) => Promise<void>;
        /** Messages handled at once, each acked on its own (default 1; bounded by prefetch too). */
        concurrency?: number;
      }
    | { batchHandler: (items: BatchItem<z.output<S>>[]) => Promise<void | BatchDeferral<z.output<S>>>; batchSize: number; maxWaitMs: number }
  );

/**
 * What a batch handler returns when it handled only part of its batch: the `deferred` items
 * (among those it was given) are retried later as if they had failed with `reason`, the
 * `refused` ones are handled as if each had failed with its own error (a PermanentError
 * dead-letters it at once), and the rest are acked. Lets one message that waits on a
 * dependency, or that can never be handled, not hold back the others.
 */
export interface BatchDeferral<T> {
  deferred: BatchItem<T>[];
  reason: unknown;
  refused?: { item: BatchItem<T>; error: unknown }[];
}

/** The items of a batch a handler did not handle, each with the error it counts as failing with. */
function failuresOf<T>(outcome: void | BatchDeferral<T>): Map<MessageMeta, unknown> {
  const failures = new Map<MessageMeta, unknown>();
  if (!outcome) return failures;
  for (const d of outcome.deferred) failures.set(d.meta, outcome.reason);
  for (const r of outcome.refused ?? []) failures.set(r.item.meta, r.error);
  return failures;
}

/**
 * One queue the consumer takes messages from (the work queue, or its retry lane), with slots,
 * a buffer and a batch chain of its own: what happens in one lane never waits for the other.
 */
interface Lane<T> {
  subscription: Subscription;
  /** Single handlers running at once, at most. */
  concurrency: number;
  /** Single handlers running, and those waiting for a free slot (each is handed one in turn). */
  running: number;
  waiting: (() => void)[];
  buffer: Pending<T>[];
  timer: NodeJS.Timeout | undefined;
  /** The batch in progress: batches run one after another. */
  chain: Promise<void>;
}

interface Pending<T> extends BatchItem<T> {
  ch: Channel;
  lane: Lane<T>;
  /** Resolves the delivery's promise once it is acked or nacked (the subscription waits on it at stop). */
  settled: () => void;
  /** Acked or nacked already. */
  done?: boolean;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Consumer<S extends z.ZodType> {
  /** The work queue's lane first, then the retry lane's if there is one. */
  private readonly lanes: Lane<z.output<S>>[];
  private readonly retries: DelayedRetry;
  private readonly logger: Logger;
  private readonly metrics: Metrics | undefined;
  /** The work queue's name, in logs and metrics. */
  private readonly queue: string;
  private readonly maxAttempts: number;
  private readonly single: ((payload: z.output<S>, meta: MessageMeta) => Promise<void>) | undefined;
  private readonly batchSize: number;
  private readonly maxWaitMs: number;
  private readonly handleBatch: (items: BatchItem<z.output<S>>[]) => Promise<void | BatchDeferral<z.output<S>>>;

  constructor(private readonly opts: ConsumerOptions<S>) {
    this.logger = opts.logger;
    this.metrics = opts.metrics;
    this.queue = opts.queue.name;
    this.maxAttempts = opts.maxAttempts ?? 5;
    let concurrency = 1;
    if ('batchHandler' in opts) {
      this.batchSize = opts.batchSize;
      this.maxWaitMs = opts.maxWaitMs;
      this.handleBatch = opts.batchHandler;
    } else {
      const single = opts.handler;
      this.single = single;
      concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
      this.batchSize = 1;
      this.maxWaitMs = 0;
      this.handleBatch = async ([item]) => {
        if (item) await runWithRequestId(item.meta.requestId, () => single(item.payload, item.meta), item.meta.traceparent);
      };
    }
    this.retries = new DelayedRetry(opts.broker, `consumer:${opts.name}:retry`);
    const retryConcurrency = Math.max(1, Math.floor(opts.retryLane?.concurrency ?? concurrency / 4));
    this.lanes = consumedQueuesOf(opts.queue).map((consumes, i) => {
      const retryLane = i > 0;
      const laneConcurrency = retryLane && this.single ? retryConcurrency : concurrency;
      const prefetch = retryLane ? (opts.retryLane?.prefetch ?? (this.single ? laneConcurrency * 2 : opts.prefetch)) : opts.prefetch;
      const lane: Lane<z.output<S>> = {
        concurrency: laneConcurrency,
        running: 0,
        waiting: [],
        buffer: [],
        timer: undefined,
        chain: Promise.resolve(),
        subscription: new Subscription(
          opts.broker,
          { name: `consumer:${opts.name}${retryLane ? ':retries' : ''}`, queue: opts.queue, consumes, prefetch, logger: opts.logger },
          (ch, msg) => this.receive(lane, ch, msg),
        ),
      };
      return lane;
    });
  }

  async waitReady(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.subscription.waitReady()));
  }

  async stop(timeoutMs?: number): Promise<void> {
    // Hand what is buffered to the handler now; the subscriptions then stop taking messages
    // and wait until every delivery they handed over is acked or nacked (a failed one only once
    // its delayed copy is confirmed, so the retry channel closes last).
    for (const lane of this.lanes) this.flush(lane);
    await Promise.all(this.lanes.map((lane) => lane.subscription.stop(timeoutMs)));
    await this.retries.close();
  }

  /** Validates one delivery; a valid one is handled, and the returned promise settles when it is acked or nacked. */
  private receive(lane: Lane<z.output<S>>, ch: Channel, msg: ConsumeMessage): Promise<void> {
    const requestId = sanitizeRequestId(requestIdOf(msg));
    const { exchange, routingKey } = msg.fields;
    if (!arrivedAsBound(this.opts.queue, exchange, routingKey, msg.properties.headers)) {
      // Routed here by a CC/BCC header under a key this queue is not bound for, or dead-lettered
      // into the exchange by someone's queue (topology.ts): a publisher reaching a queue its
      // broker user may not publish to. Kept for the on-call person.
      const why = deadLetteredByBroker(msg.properties.headers)
        ? `dead-lettered into ${exchange} with routing key ${routingKey} by a queue (x-death), not published there`
        : `published to ${exchange} with routing key ${routingKey}, which no binding of the queue takes`;
      return Promise.resolve(this.deadLetter(ch, msg, requestId, 'unexpected_route', why));
    }
    const decoded = decode(msg);
    if (!decoded.ok) return Promise.resolve(this.deadLetter(ch, msg, requestId, decoded.reason, 'message body is not JSON'));
    const parsed = this.opts.schema.safeParse(decoded.value);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      return Promise.resolve(this.deadLetter(ch, msg, requestId, 'validation_failed', issues.join('; ')));
    }
    const meta: MessageMeta = {
      messageId: msg.properties.messageId as string | undefined,
      requestId,
      traceparent: traceparentOf(msg),
      routingKey: originalRoutingKey(msg),
      deliveryAttempt: retryCounts(msg).attempt,
      raw: msg,
    };
    return new Promise<void>((settled) => {
      const item: Pending<z.output<S>> = { ch, lane, payload: parsed.data, meta, settled };
      if (this.single) {
        void this.runSingle(item);
        return;
      }
      lane.buffer.push(item);
      if (lane.buffer.length >= this.batchSize) this.flush(lane);
      else lane.timer ??= setTimeout(() => this.flush(lane), this.maxWaitMs);
    });
  }

  /** One message through the single handler, in one of its lane's slots; acked on its own. */
  private async runSingle(item: Pending<z.output<S>>): Promise<void> {
    const { lane } = item;
    if (lane.running >= lane.concurrency) await new Promise<void>((resume) => lane.waiting.push(resume));
    else lane.running++;
    try {
      await this.handleOne(item);
      this.ack(item);
    } catch (err) {
      await this.failed(item, err).catch((broke: unknown) => this.logger.error('handling a failed message broke', { queue: this.queue, err: messageOf(broke) }));
    } finally {
      // Whatever broke, the delivery must not stay open.
      if (!item.done) this.requeue(item, 'handling broke');
      // Hand the slot straight to the next waiting message (so no newcomer can take it in between).
      const next = lane.waiting.shift();
      if (next) next();
      else lane.running--;
    }
  }

  private flush(lane: Lane<z.output<S>>): void {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    if (lane.buffer.length === 0) return;
    const batch = lane.buffer;
    lane.buffer = [];
    lane.chain = lane.chain
      .then(() => this.runBatch(batch))
      .catch((err: unknown) => {
        // Whatever broke, no delivery of this batch may stay open: the next batch's multiple
        // ack would cover it. Requeued, it is handled again (handlers are idempotent).
        this.logger.error('batch handling broke; its open messages are requeued', { queue: this.queue, err: messageOf(err) });
        for (const item of batch) if (!item.done) this.requeue(item, 'batch handling broke');
      });
  }

  private async runBatch(batch: Pending<z.output<S>>[]): Promise<void> {
    try {
      const failures = failuresOf(await this.handleBatch(batch.map(({ payload, meta }) => ({ payload, meta }))));
      if (failures.size > 0) {
        // Settle the deferred and refused first: the multiple-ack below must not cover them.
        for (const item of batch) if (failures.has(item.meta)) await this.failed(item, failures.get(item.meta));
        this.ackBatch(batch.filter((item) => !failures.has(item.meta)));
        return;
      }
      this.ackBatch(batch);
      return;
    } catch (err) {
      if (batch.length === 1) return this.failed(batch[0] as Pending<z.output<S>>, err);
      if (classifyFailure(err).kind === 'unavailable') return this.retryAll(batch, err);
      this.logger.warn('batch failed, handling its messages one by one', { queue: this.queue, size: batch.length, err: messageOf(err) });
    }
    for (const [i, item] of batch.entries()) {
      try {
        await this.handleOne(item);
        this.ack(item);
      } catch (err) {
        // A dependency gone mid-way fails the rest too: they wait in the delay queue with this one.
        if (classifyFailure(err).kind === 'unavailable') return this.retryAll(batch.slice(i), err);
        await this.failed(item, err);
      }
    }
  }

  /** One message through the handler; a deferral or refusal of it counts as its failure. */
  private async handleOne(item: Pending<z.output<S>>): Promise<void> {
    const failures = failuresOf(await this.handleBatch([{ payload: item.payload, meta: item.meta }]));
    if (failures.has(item.meta)) throw failures.get(item.meta);
  }

  /**
   * One ack frame per channel for a whole handled batch (`multiple`: every delivery up to the
   * batch's highest tag), which costs the broker a fraction of one ack per message. Safe because
   * every earlier delivery on that channel is already settled: batches run one at a time per
   * lane, and each lane has its own channel (a failed message is settled before its batch ends),
   * invalid messages are settled on arrival, and later deliveries (the next batch filling) have
   * higher tags. Single handlers running concurrently never use it.
   */
  private ackBatch(batch: Pending<unknown>[]) {
    const last = new Map<Channel, Pending<unknown>>();
    for (const item of batch) {
      const seen = last.get(item.ch);
      if (!seen || item.meta.raw.fields.deliveryTag > seen.meta.raw.fields.deliveryTag) last.set(item.ch, item);
    }
    for (const [ch, item] of last) settle(() => ch.ack(item.meta.raw, true));
    for (const item of batch) this.finish(item);
    this.metrics?.messagesConsumed.inc({ queue: this.queue, outcome: 'ack' }, batch.length);
  }

  private ack(item: Pending<unknown>) {
    settle(() => item.ch.ack(item.meta.raw));
    this.finish(item);
    this.metrics?.messagesConsumed.inc({ queue: this.queue, outcome: 'ack' });
  }

  private async failed(item: Pending<unknown>, err: unknown): Promise<void> {
    const message = messageOf(err);
    const failure = classifyFailure(err);
    if (failure.kind === 'permanent') return this.deadLetterItem(item, failure.reason, message);
    if (failure.kind === 'unavailable') return this.retryAll([item], err);
    if (retryCounts(item.meta.raw).failures + 1 >= this.maxAttempts) return this.deadLetterItem(item, 'max_attempts', message);
    await this.retryLater(item, true, message);
  }

  /** Every item to the delay queue, as a dependency is out of reach: not counted against maxAttempts. */
  private async retryAll(items: Pending<unknown>[], err: unknown): Promise<void> {
    const message = messageOf(err);
    this.logger.warn('a dependency is unavailable; messages retried later', { queue: this.queue, size: items.length, err: message });
    await Promise.all(items.map((item) => this.retryLater(item, false, message)));
  }

  /**
   * Sends a copy to the delay queue, then acks the original. If the broker did not confirm the
   * copy, the original is requeued instead: it is never acked without a copy somewhere.
   */
  private async retryLater(item: Pending<unknown>, countsAsFailure: boolean, reason: string): Promise<void> {
    const { queue } = this;
    const { raw, messageId, requestId } = item.meta;
    const counts = retryCounts(raw);
    const next = { attempt: counts.attempt, failures: counts.failures + (countsAsFailure ? 1 : 0) };
    try {
      const delayMs = await this.retries.schedule(this.opts.queue, raw, next);
      this.logger.warn('message failed, will retry', {
        queue,
        messageId,
        requestId,
        attempt: counts.attempt,
        retryInMs: delayMs,
        unavailable: !countsAsFailure,
        err: reason,
      });
      this.metrics?.messagesConsumed.inc({ queue, outcome: countsAsFailure ? 'retry' : 'retry_unavailable' });
      settle(() => item.ch.ack(raw));
      this.finish(item);
    } catch (err) {
      this.logger.error('could not send a failed message to its delay queue; requeued', { queue, messageId, requestId, err: messageOf(err) });
      this.requeue(item, 'delay queue unreachable');
    }
  }

  /** Back to the work queue at once: only when it cannot be retried through a delay queue. */
  private requeue(item: Pending<unknown>, why: string): void {
    settle(() => item.ch.nack(item.meta.raw, false, true));
    this.finish(item);
    this.metrics?.messagesConsumed.inc({ queue: this.queue, outcome: 'requeue' });
    this.logger.debug('message requeued', { queue: this.queue, messageId: item.meta.messageId, why });
  }

  private deadLetterItem(item: Pending<unknown>, reason: string, detail: string): void {
    this.deadLetter(item.ch, item.meta.raw, item.meta.requestId, reason, detail);
    this.finish(item);
  }

  private finish(item: Pending<unknown>): void {
    item.done = true;
    item.settled();
  }

  private deadLetter(ch: Channel, msg: ConsumeMessage, requestId: string, reason: string, detail: string): void {
    const { queue } = this;
    this.logger.error('message dead-lettered', {
      queue,
      messageId: msg.properties.messageId,
      routingKey: originalRoutingKey(msg),
      requestId,
      reason,
      detail,
    });
    this.metrics?.messagesDeadLettered.inc({ queue, reason });
    this.metrics?.messagesConsumed.inc({ queue, outcome: 'dead_letter' });
    settle(() => ch.nack(msg, false, false));
  }
}
