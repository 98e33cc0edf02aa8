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
import { RETRY_ID_HEADER, retryCopyProperties, type RetryCounts } from './envelope.js';
import type { RetryTier, WorkQueue } from './topology.js';

/**
 * The tier attempt number `nextAttempt` waits in: the shortest before the second attempt, the
 * next before the third, and so on, then the longest from there on.
 */
export function tierBefore(nextAttempt: number, tiers: readonly RetryTier[]): RetryTier {
  const i = Math.min(Math.max(nextAttempt - 2, 0), tiers.length - 1);
  return tiers[i] as RetryTier;
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
   * Resolves once the broker confirmed the copy in a delay queue of `queue`; rejects if it
   * did not (no confirm in time, connection lost, no such delay queue). Returns the delay.
   */
  async schedule(queue: WorkQueue, msg: ConsumeMessage, next: RetryCounts): Promise<number> {
    const tier = tierBefore(next.attempt, queue.retryTiers);
    const retryId = randomUUID();
    await this.channel.publish('', tier.queue, msg.content, retryCopyProperties(msg, next, { [RETRY_ID_HEADER]: retryId }));
    // basic.return precedes basic.ack for an unroutable mandatory message, so it is known by now.
    if (this.returned.delete(retryId)) throw new Error(`delay queue ${tier.queue} does not exist`);
    return tier.delayMs;
  }

  async close(): Promise<void> {
    await this.channel.close();
  }
}
