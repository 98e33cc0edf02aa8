/**
 * Live delivery across replicas. Whatever replica stored a batch (or changed read state)
 * publishes one message to the `<ns>.live` fanout exchange; every replica has its own
 * exclusive, auto-deleted queue bound to it and hands what arrives to its socket gateway.
 * Messages are transient and unacknowledged: the database is the source of truth, and after a
 * broker reconnect the gateway re-syncs its sockets from the database (`onResubscribed`).
 */
import { randomUUID } from 'node:crypto';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel } from 'amqplib';
import { liveMessageSchema, type LiveMessage } from '@warren/shared/contracts/live';
import { topology } from '@warren/shared/contracts/topology';
import type { Logger } from '@warren/shared/logger';
import type { Broker } from '@warren/shared/messaging/broker';
import { declareTopology } from '@warren/shared/messaging/declare-topology';
import { decode, encode } from '@warren/shared/messaging/envelope';

export class LiveDelivery {
  private readonly channel: ChannelWrapper;
  private subscriptions = 0;

  constructor(
    broker: Broker,
    private readonly namespace: string,
    private readonly logger: Logger,
    handlers: { onMessage: (m: LiveMessage) => void; onResubscribed: () => void },
  ) {
    const exchange = topology(namespace).liveExchange;
    this.channel = broker.channel('live', {
      confirm: false,
      setup: async (raw) => {
        const ch = raw as Channel;
        await declareTopology(ch, namespace);
        const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
        await ch.bindQueue(queue, exchange, '');
        await ch.consume(
          queue,
          (msg) => {
            if (!msg) return;
            const decoded = decode(msg);
            const parsed = decoded.ok ? liveMessageSchema.safeParse(decoded.value) : undefined;
            if (!parsed?.success) {
              this.logger.warn('invalid live message ignored');
              return;
            }
            handlers.onMessage(parsed.data);
          },
          { noAck: true },
        );
        // Live messages published while this replica was disconnected are gone: re-sync.
        if (this.subscriptions++ > 0) handlers.onResubscribed();
      },
    });
  }

  waitReady(): Promise<void> {
    return this.channel.waitForConnect();
  }

  async publish(message: LiveMessage): Promise<void> {
    await this.channel.publish(topology(this.namespace).liveExchange, '', encode(liveMessageSchema.parse(message)), {
      messageId: randomUUID(),
      contentType: 'application/json',
      persistent: false,
    });
  }

  close(): Promise<void> {
    return this.channel.close();
  }
}
