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
import { declareTopology } from './declare-topology.js';
import { decode } from './envelope.js';

export interface ReplicaSubscriptionOptions<S extends z.ZodType> {
  /** Channel name, shown in logs. */
  name: string;
  namespace: string;
  exchange: string;
  routingKey: string;
  schema: S;
  onMessage: (message: z.output<S>) => void;
  onResubscribed?: () => void;
}

export class ReplicaSubscription<S extends z.ZodType> {
  readonly channel: ChannelWrapper;
  private subscriptions = 0;

  constructor(broker: Broker, opts: ReplicaSubscriptionOptions<S>, logger: Logger) {
    this.channel = broker.channel(opts.name, {
      confirm: false,
      setup: async (raw) => {
        const ch = raw as Channel;
        // The whole topology first: the exchange must exist, and so must every durable queue a
        // publisher on this connection may route to.
        await declareTopology(ch, opts.namespace);
        const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
        await ch.bindQueue(queue, opts.exchange, opts.routingKey);
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
