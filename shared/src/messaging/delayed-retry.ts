/**
 * Sends a copy of a failed message to one of its work queue's delay queues, with a publisher
 * confirm: the consumer acks the original only once this resolves, so a failed message is
 * always either in the work queue or in a delay queue (at worst in both, which idempotent
 * consumers absorb). The consumer never waits out the delay itself: the broker does.
 */
import { randomUUID } from 'node:crypto';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { ConsumeMessage } from 'amqplib';
import type { Broker } from './broker.js';
import { RETRY_DELAYS_MS, retryQueueOf } from './declare-topology.js';
import { RETRY_ID_HEADER, retryCopyProperties, type RetryCounts } from './envelope.js';

/** The delay before attempt number `nextAttempt`: 1 s, 5 s, then the longest tier from there on. */
export function delayBefore(nextAttempt: number): number {
  const tier = Math.min(Math.max(nextAttempt - 2, 0), RETRY_DELAYS_MS.length - 1);
  return RETRY_DELAYS_MS[tier] as number;
}

export class DelayedRetry {
  private readonly channel: ChannelWrapper;
  private readonly returned = new Set<string>();

  constructor(broker: Broker, name: string, timeoutMs = 10_000) {
    this.channel = broker.channel(name, {
      confirm: true,
      publishTimeoutMs: timeoutMs,
      setup: async (ch) => {
        ch.on('return', (msg: ConsumeMessage) => {
          const id = msg.properties.headers?.[RETRY_ID_HEADER];
          if (typeof id === 'string') this.returned.add(id);
        });
      },
    });
  }

  /**
   * Resolves once the broker confirmed the copy in the delay queue of `queue`; rejects if it
   * did not (no confirm in time, connection lost, no such delay queue). Returns the delay.
   */
  async schedule(queue: string, msg: ConsumeMessage, next: RetryCounts): Promise<number> {
    const delayMs = delayBefore(next.attempt);
    const delayQueue = retryQueueOf(queue, delayMs);
    const retryId = randomUUID();
    await this.channel.publish('', delayQueue, msg.content, retryCopyProperties(msg, next, { [RETRY_ID_HEADER]: retryId }));
    // basic.return precedes basic.ack for an unroutable mandatory message, so it is known by now.
    if (this.returned.delete(retryId)) throw new Error(`delay queue ${delayQueue} does not exist`);
    return delayMs;
  }

  async close(): Promise<void> {
    await this.channel.close();
  }
}
