/**
 * A subscription every replica of a service has on its own: an exclusive, auto-deleted,
 * server-named queue bound to `exchange` with `routingKey`, whose messages are validated with
 * `schema` and handed over unacknowledged (transient fan-out: live delivery, ended sessions).
 * What a replica misses while disconnected it must recover elsewhere: `onResubscribed` runs
 * after each re-subscription following a reconnect. Invalid messages are logged and dropped.
 */
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel } from 'amqplib';
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { Broker } from './broker.js';
import { decode } from './envelope.js';
import { declareTopology, type Exchange } from './topology.js';

export interface ReplicaSubscriptionOptions<S extends z.ZodType> {
  broker: Broker;
  logger: Logger;
  /** Channel name, shown in logs. */
  name: string;
  /** Declared on every (re)connection. */
  exchange: Exchange;
  routingKey: string;
  schema: S;
  onMessage: (message: z.output<S>) => void;
  onResubscribed?: () => void;
}

export class ReplicaSubscription<S extends z.ZodType> {
  readonly channel: ChannelWrapper;
  private subscriptions = 0;

  constructor(opts: ReplicaSubscriptionOptions<S>) {
    const { logger } = opts;
    this.channel = opts.broker.channel(opts.name, {
      confirm: false,
      setup: async (raw) => {
        const ch = raw as Channel;
        await declareTopology(ch, [opts.exchange]);
        const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
        await ch.bindQueue(queue, opts.exchange.name, opts.routingKey);
        await ch.consume(
          queue,
          (msg) => {
            if (!msg) return;
            const decoded = decode(msg);
            const parsed = decoded.ok ? opts.schema.safeParse(decoded.value) : undefined;
            if (!parsed?.success) {
              logger.warn('invalid message ignored', { subscription: opts.name });
              return;
            }
            opts.onMessage(parsed.data);
          },
          { noAck: true },
        );
        if (this.subscriptions++ > 0) opts.onResubscribed?.();
      },
    });
  }

  waitReady(): Promise<void> {
    return this.channel.waitForConnect();
  }

  close(): Promise<void> {
    return this.channel.close();
  }
}
