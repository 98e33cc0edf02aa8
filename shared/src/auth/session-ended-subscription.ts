/**
 * Every replica of a service that verifies access tokens hears every `session.ended`: an
 * exclusive, auto-deleted queue of its own, bound on the events exchange (like live delivery).
 * Messages are transient here and not acknowledged: what a replica misses while disconnected
 * it recovers elsewhere (`onResubscribed`: the notification service re-reads its database,
 * which a durable queue fills; the main backend's short session-check cache runs out).
 */
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel } from 'amqplib';
import { sessionEndedSchema, type SessionEnded } from '../contracts/sessions.js';
import { ROUTING_KEYS, topology } from '../contracts/topology.js';
import type { Logger } from '../logger.js';
import type { Broker } from '../messaging/broker.js';
import { decode } from '../messaging/envelope.js';
import { declareTopology } from '../messaging/declare-topology.js';

export class SessionEndedSubscription {
  private readonly channel: ChannelWrapper;
  private subscriptions = 0;

  constructor(
    broker: Broker,
    namespace: string,
    logger: Logger,
    handlers: { onEnded: (m: SessionEnded) => void; onResubscribed?: () => void },
  ) {
    this.channel = broker.channel('session-ended', {
      confirm: false,
      setup: async (raw) => {
        const ch = raw as Channel;
        // The whole topology too (the durable sessions queue among it), so no announcement is unroutable.
        await declareTopology(ch, namespace);
        const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
        await ch.bindQueue(queue, topology(namespace).eventsExchange, ROUTING_KEYS.sessionEnded);
        await ch.consume(
          queue,
          (msg) => {
            if (!msg) return;
            const decoded = decode(msg);
            const parsed = decoded.ok ? sessionEndedSchema.safeParse(decoded.value) : undefined;
            if (!parsed?.success) {
              logger.warn('invalid session.ended ignored by the live subscription');
              return;
            }
            handlers.onEnded(parsed.data);
          },
          { noAck: true },
        );
        if (this.subscriptions++ > 0) handlers.onResubscribed?.();
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
