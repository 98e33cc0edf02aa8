/**
 * A subscription every replica of a service has on its own: an exclusive, auto-deleted,
 * server-named queue bound to `exchange` with `routingKey`, whose messages are validated with
 * `schema` and handed over unacknowledged (transient fan-out: live delivery, ended sessions).
 * What a replica misses while it is not subscribed it must recover elsewhere: `onResubscribed`
 * runs after each re-subscription, and `listeningSince()` says from when on every message has
 * reached it (undefined while it is not subscribed), so that a cache can tell answers it may
 * keep from answers taken before a gap. A consumer the broker cancels while the channel stays
 * up (its queue deleted by an operator or a policy) is subscribed again on a new queue at once.
 * Invalid messages are logged and dropped, and so are messages the binding did not route (a
 * publisher's CC/BCC header: topology.ts, arrivedAsBound).
 */
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel } from 'amqplib';
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { Broker } from './broker.js';
import { decode } from './envelope.js';
import { SERVER_NAMED_QUEUES } from './broker-permissions.js';
import { needing } from './refusal.js';
import { bindingMatches, deadLetteredByBroker, declareTopology, type Exchange } from './topology.js';

const MAX_RESUBSCRIBE_BACKOFF_MS = 5_000;

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
  /** First pause between attempts to subscribe again after a cancel (default 250 ms; doubles up to 5 s). */
  resubscribeBackoffMs?: number;
}

export class ReplicaSubscription<S extends z.ZodType> {
  readonly channel: ChannelWrapper;
  private subscriptions = 0;
  /** The channel the consumer is on, while it is subscribed. */
  private current: Channel | undefined;
  private since: number | undefined;
  private closing = false;
  private readonly untrack: () => void;

  constructor(private readonly opts: ReplicaSubscriptionOptions<S>) {
    this.channel = opts.broker.channel(opts.name, {
      confirm: false,
      setup: async (raw) => {
        const ch = raw as Channel;
        // The channel goes with its connection: nothing is heard until the next setup.
        ch.once('close', () => this.lost(ch));
        await declareTopology(ch, [opts.exchange]);
        await this.subscribe(ch);
      },
    });
    this.untrack = opts.broker.trackConsumer({ name: opts.name, isConsuming: () => this.since !== undefined });
  }

  /**
   * Since when (ms since the epoch) every message published has reached this replica: the
   * moment its current queue was bound and consuming. Undefined while it is not subscribed.
   */
  listeningSince(): number | undefined {
    return this.since;
  }

  /** Resolves once subscribed; rejects if the broker refused a permission the subscription needs. */
  waitReady(): Promise<void> {
    return this.opts.broker.waitForChannel(this.channel);
  }

  close(): Promise<void> {
    this.closing = true;
    this.since = undefined;
    this.untrack();
    return this.channel.close();
  }

  private async subscribe(ch: Channel): Promise<void> {
    const { opts } = this;
    const serverNamed = `server-named queues (${SERVER_NAMED_QUEUES})`;
    const { queue } = await needing(`configure on ${serverNamed}`, () => ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false }));
    const topic = opts.exchange.type === 'topic' ? ` and a topic read permission for '${opts.routingKey}' on it` : '';
    await needing(`write on ${serverNamed}, read on exchange '${opts.exchange.name}'${topic}`, () => ch.bindQueue(queue, opts.exchange.name, opts.routingKey));
    await needing(`read on ${serverNamed}`, () => ch.consume(
      queue,
      (msg) => {
        if (!msg) {
          void this.cancelled(ch);
          return;
        }
        // Only what the binding lets in: a key added by a publisher's CC/BCC header, or a copy a
        // queue dead-lettered into the exchange (topology.ts, arrivedAsBound), is not ours.
        if (
          msg.fields.exchange !== opts.exchange.name ||
          !bindingMatches(opts.exchange.type, opts.routingKey, msg.fields.routingKey) ||
          deadLetteredByBroker(msg.properties.headers)
        ) {
          opts.logger.warn('message not routed by the subscription\'s binding ignored', {
            subscription: opts.name,
            exchange: msg.fields.exchange,
            routingKey: msg.fields.routingKey,
          });
          return;
        }
        const decoded = decode(msg);
        const parsed = decoded.ok ? opts.schema.safeParse(decoded.value) : undefined;
        if (!parsed?.success) {
          opts.logger.warn('invalid message ignored', { subscription: opts.name });
          return;
        }
        opts.onMessage(parsed.data);
      },
      { noAck: true },
    ));
    this.current = ch;
    this.since = Date.now();
    if (this.subscriptions++ > 0) opts.onResubscribed?.();
  }

  private lost(ch: Channel): void {
    if (this.current !== ch) return;
    this.current = undefined;
    this.since = undefined;
  }

  /** The broker cancelled the consumer (its queue is gone) while the channel stays open. */
  private async cancelled(ch: Channel): Promise<void> {
    const { logger, name } = this.opts;
    this.since = undefined;
    logger.warn('replica subscription cancelled by the broker; subscribing again', { subscription: name });
    for (let backoff = this.opts.resubscribeBackoffMs ?? 250; ; backoff = Math.min(backoff * 2, MAX_RESUBSCRIBE_BACKOFF_MS)) {
      // Closed meanwhile: the next connection's setup subscribes (or the replica is stopping).
      if (this.closing || this.current !== ch) return;
      try {
        await this.subscribe(ch);
        logger.info('replica subscription resubscribed', { subscription: name });
        return;
      } catch (err) {
        logger.warn('replica resubscribe failed; retrying', { subscription: name, err: (err as Error).message });
        await new Promise((r) => setTimeout(r, backoff * (0.5 + Math.random() / 2)));
      }
    }
  }
}
