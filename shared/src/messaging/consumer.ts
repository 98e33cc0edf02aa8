/**
 * A queue consumer with the guarantees Warren relies on:
 * - every message is validated with its zod schema before the handler sees it;
 * - the message is acked only after the handler resolved (its effect is committed);
 * - a message that can never succeed (bad JSON, failed validation, a PermanentError) goes
 *   straight to the dead-letter queue; one that keeps failing goes there after `maxAttempts`;
 *   nothing is requeued forever;
 * - the handler runs with the message's correlation id, so its log lines carry it.
 * On reconnect the setup runs again and consumption resumes on the new channel.
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
  routingKey: string;
  deliveryAttempt: number;
  raw: ConsumeMessage;
}

export interface ConsumerOptions<S extends z.ZodType> {
  name: string;
  namespace: string;
  queue: string;
  schema: S;
  prefetch: number;
  /** Attempts before a failing message is dead-lettered (default 5). */
  maxAttempts?: number;
  /** Pause before a failed message is requeued, times the attempt number (default 200 ms). */
  retryDelayMs?: number;
  handler: (payload: z.output<S>, meta: MessageMeta) => Promise<void>;
}

export class Consumer<S extends z.ZodType> {
  private readonly subscription: Subscription;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;

  constructor(
    broker: Broker,
    private readonly opts: ConsumerOptions<S>,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.maxAttempts = opts.maxAttempts ?? 5;
    this.retryDelayMs = opts.retryDelayMs ?? 200;
    this.subscription = new Subscription(
      broker,
      { name: `consumer:${opts.name}`, namespace: opts.namespace, queue: opts.queue, prefetch: opts.prefetch },
      (ch, msg) => this.handle(ch, msg),
    );
  }

  waitReady(): Promise<void> {
    return this.subscription.waitReady();
  }

  stop(timeoutMs?: number): Promise<void> {
    return this.subscription.stop(timeoutMs);
  }
  private async handle(ch: Channel, msg: ConsumeMessage): Promise<void> {
    const { queue } = this.opts;
    const messageId = msg.properties.messageId as string | undefined;
    const requestId = sanitizeRequestId(requestIdOf(msg));
    await runWithRequestId(requestId, async () => {
      const decoded = decode(msg);
      if (!decoded.ok) return this.deadLetter(ch, msg, decoded.reason, 'message body is not JSON');
      const parsed = this.opts.schema.safeParse(decoded.value);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
        return this.deadLetter(ch, msg, 'validation_failed', issues.join('; '));
      }
      const attempt = previousDeliveries(msg) + 1;
      try {
        await this.opts.handler(parsed.data, {
          messageId,
          routingKey: msg.fields.routingKey,
          deliveryAttempt: attempt,
          raw: msg,
        });
      } catch (err) {
        const message = (err as Error).message;
        if (err instanceof PermanentError) return this.deadLetter(ch, msg, 'permanent_error', message);
        if (attempt >= this.maxAttempts) return this.deadLetter(ch, msg, 'max_attempts', message);
        this.logger.warn('message failed, will retry', { queue, messageId, attempt, err: message });
        this.metrics?.messagesConsumed.inc({ queue, outcome: 'retry' });
        await sleep(this.retryDelayMs * attempt);
        return settle(() => ch.nack(msg, false, true));
      }
      settle(() => ch.ack(msg));
      this.metrics?.messagesConsumed.inc({ queue, outcome: 'ack' });
      this.logger.debug('message handled', { queue, messageId });
    });
  }

  private deadLetter(ch: Channel, msg: ConsumeMessage, reason: string, detail: string) {
    const { queue } = this.opts;
    this.logger.error('message dead-lettered', {
      queue,
      messageId: msg.properties.messageId,
      routingKey: msg.fields.routingKey,
      reason,
      detail,
    });
    this.metrics?.messagesDeadLettered.inc({ queue, reason });
    this.metrics?.messagesConsumed.inc({ queue, outcome: 'dead_letter' });
    settle(() => ch.nack(msg, false, false));
  }

}
