/**
 * A queue consumer with the guarantees Warren relies on:
 * - every message is validated with its zod schema before a handler sees it;
 * - a message is acked only after the handler resolved (its effect is committed);
 * - a message that can never succeed (bad JSON, failed validation, a PermanentError) goes
 *   straight to the dead-letter queue; one that keeps failing goes there after `maxAttempts`;
 *   nothing is requeued forever;
 * - handlers see each message's correlation id (single handlers run inside it, so their log
 *   lines carry it; batch handlers get it per item).
 * Batching: with `batchHandler`, valid messages are collected until `batchSize` are waiting or
 * `maxWaitMs` passed, and handled together (one transaction, multi-row inserts). If a batch
 * fails, its messages are retried one by one, so one poison message cannot hold back the rest.
 * Batches run one at a time per consumer; prefetch should be about twice the batch size so the
 * next batch fills while one is handled. On reconnect consumption resumes on the new channel.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { runWithRequestId, sanitizeRequestId } from '../request-context.js';
import type { Broker } from './broker.js';
import { decode, previousDeliveries, requestIdOf } from './envelope.js';
import { settle, sleep, Subscription } from './subscription.js';

/** Throw this from a handler when retrying cannot help: the message is dead-lettered at once. */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

export interface MessageMeta {
  messageId: string | undefined;
  requestId: string;
  routingKey: string;
  deliveryAttempt: number;
  raw: ConsumeMessage;
}

export interface BatchItem<T> {
  payload: T;
  meta: MessageMeta;
}

interface CommonOptions<S extends z.ZodType> {
  name: string;
  namespace: string;
  queue: string;
  schema: S;
  prefetch: number;
  /** Attempts before a failing message is dead-lettered (default 5). */
  maxAttempts?: number;
  /** Pause before a failed message is requeued, times the attempt number (default 200 ms). */
  retryDelayMs?: number;
}

export type ConsumerOptions<S extends z.ZodType> = CommonOptions<S> &
  (
    | { handler: (payload: z.output<S>, meta: MessageMeta) => Promise<void> }
    | { batchHandler: (items: BatchItem<z.output<S>>[]) => Promise<void>; batchSize: number; maxWaitMs: number }
  );

interface Pending<T> extends BatchItem<T> {
  ch: Channel;
  /** Resolves the delivery's promise once it is acked or nacked (the subscription waits on it at stop). */
  settled: () => void;
  /** Acked or nacked already. */
  done?: boolean;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Consumer<S extends z.ZodType> {
  private readonly subscription: Subscription;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly batchSize: number;
  private readonly maxWaitMs: number;
  private readonly handleBatch: (items: BatchItem<z.output<S>>[]) => Promise<void>;
  private buffer: Pending<z.output<S>>[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The batch in progress: batches run one after another. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    broker: Broker,
    private readonly opts: ConsumerOptions<S>,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.maxAttempts = opts.maxAttempts ?? 5;
    this.retryDelayMs = opts.retryDelayMs ?? 200;
    if ('batchHandler' in opts) {
      this.batchSize = opts.batchSize;
      this.maxWaitMs = opts.maxWaitMs;
      this.handleBatch = opts.batchHandler;
    } else {
      const single = opts.handler;
      this.batchSize = 1;
      this.maxWaitMs = 0;
      this.handleBatch = async ([item]) => {
        if (item) await runWithRequestId(item.meta.requestId, () => single(item.payload, item.meta));
      };
    }
    this.subscription = new Subscription(
      broker,
      { name: `consumer:${opts.name}`, namespace: opts.namespace, queue: opts.queue, prefetch: opts.prefetch },
      (ch, msg) => this.receive(ch, msg),
    );
  }

  waitReady(): Promise<void> {
    return this.subscription.waitReady();
  }

  async stop(timeoutMs?: number): Promise<void> {
    // Hand what is buffered to the handler now; the subscription then stops taking messages
    // and waits until every delivery it handed over is acked or nacked.
    this.flush();
    await this.subscription.stop(timeoutMs);
  }

  /** Validates one delivery; a valid one joins the buffer, and the returned promise settles when it is acked or nacked. */
  private receive(ch: Channel, msg: ConsumeMessage): Promise<void> {
    const requestId = sanitizeRequestId(requestIdOf(msg));
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
      routingKey: msg.fields.routingKey,
      deliveryAttempt: previousDeliveries(msg) + 1,
      raw: msg,
    };
    return new Promise<void>((settled) => {
      this.buffer.push({ ch, payload: parsed.data, meta, settled });
      if (this.buffer.length >= this.batchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.chain = this.chain
      .then(() => this.runBatch(batch))
      .catch((err: unknown) => {
        // Whatever broke, no delivery of this batch may stay open: the next batch's multiple
        // ack would cover it. Requeued, it is handled again (handlers are idempotent).
        this.logger.error('batch handling broke; its open messages are requeued', { queue: this.opts.queue, err: messageOf(err) });
        for (const item of batch) {
          if (item.done) continue;
          settle(() => item.ch.nack(item.meta.raw, false, true));
          this.finish(item);
        }
      });
  }

  private async runBatch(batch: Pending<z.output<S>>[]): Promise<void> {
    try {
      await this.handleBatch(batch.map(({ payload, meta }) => ({ payload, meta })));
      this.ackBatch(batch);
      return;
    } catch (err) {
      if (batch.length === 1) return this.failed(batch[0] as Pending<z.output<S>>, err);
      this.logger.warn('batch failed, handling its messages one by one', { queue: this.opts.queue, size: batch.length, err: messageOf(err) });
    }
    for (const item of batch) {
      try {
        await this.handleBatch([{ payload: item.payload, meta: item.meta }]);
        this.ack(item);
      } catch (err) {
        await this.failed(item, err);
      }
    }
  }

  /**
   * One ack frame per channel for a whole handled batch (`multiple`: every delivery up to the
   * batch's highest tag), which costs the broker a fraction of one ack per message. Safe because
   * every earlier delivery on that channel is already settled: batches run one at a time, invalid
   * messages are settled on arrival, and later deliveries (the next batch filling) have higher tags.
   */
  private ackBatch(batch: Pending<unknown>[]) {
    const last = new Map<Channel, Pending<unknown>>();
    for (const item of batch) {
      const seen = last.get(item.ch);
      if (!seen || item.meta.raw.fields.deliveryTag > seen.meta.raw.fields.deliveryTag) last.set(item.ch, item);
    }
    for (const [ch, item] of last) settle(() => ch.ack(item.meta.raw, true));
    for (const item of batch) this.finish(item);
    this.metrics?.messagesConsumed.inc({ queue: this.opts.queue, outcome: 'ack' }, batch.length);
  }

  private ack(item: Pending<unknown>) {
    settle(() => item.ch.ack(item.meta.raw));
    this.finish(item);
    this.metrics?.messagesConsumed.inc({ queue: this.opts.queue, outcome: 'ack' });
  }

  private async failed(item: Pending<unknown>, err: unknown): Promise<void> {
    const { queue } = this.opts;
    const { raw, messageId, deliveryAttempt, requestId } = item.meta;
    const message = messageOf(err);
    if (err instanceof PermanentError) this.deadLetter(item.ch, raw, requestId, 'permanent_error', message);
    else if (deliveryAttempt >= this.maxAttempts) this.deadLetter(item.ch, raw, requestId, 'max_attempts', message);
    else {
      this.logger.warn('message failed, will retry', { queue, messageId, requestId, attempt: deliveryAttempt, err: message });
      this.metrics?.messagesConsumed.inc({ queue, outcome: 'retry' });
      await sleep(this.retryDelayMs * deliveryAttempt);
      settle(() => item.ch.nack(raw, false, true));
    }
    this.finish(item);
  }

  private finish(item: Pending<unknown>): void {
    item.done = true;
    item.settled();
  }

  private deadLetter(ch: Channel, msg: ConsumeMessage, requestId: string, reason: string, detail: string): void {
    const { queue } = this.opts;
    this.logger.error('message dead-lettered', {
      queue,
      messageId: msg.properties.messageId,
      routingKey: msg.fields.routingKey,
      requestId,
      reason,
      detail,
    });
    this.metrics?.messagesDeadLettered.inc({ queue, reason });
    this.metrics?.messagesConsumed.inc({ queue, outcome: 'dead_letter' });
    settle(() => ch.nack(msg, false, false));
  }
}
