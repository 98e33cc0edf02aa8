/**
 * The broker side of live delivery. Whatever replica stored a batch (or changed read state)
 * publishes one message to the `<ns>.live` fanout exchange; every replica has its own
 * exclusive, auto-deleted queue bound to it and hands what arrives to LiveDelivery.
 * Messages are transient and unacknowledged: the database is the source of truth, and after a
 * broker reconnect the sockets re-sync from the database (`onResubscribed`).
 */
import { randomUUID } from 'node:crypto';
import { liveMessageSchema, type LiveMessage } from '@warren/shared/contracts/live';
import { topology } from '@warren/shared/contracts/topology';
import type { Logger } from '@warren/shared/logger';
import type { Broker } from '@warren/shared/messaging/broker';
import { encode } from '@warren/shared/messaging/envelope';
import { ReplicaSubscription } from '@warren/shared/messaging/replica-subscription';
import type { LiveBus } from './live-delivery.js';

export class LiveExchange extends ReplicaSubscription<typeof liveMessageSchema> implements LiveBus {
  private readonly exchange: string;
  private readonly routingKey: string;

  constructor(opts: {
    broker: Broker;
    namespace: string;
    logger: Logger;
    onMessage: (m: LiveMessage) => void;
    // Live messages published while this replica was disconnected are gone: onResubscribed re-syncs.
    onResubscribed: () => void;
  }) {
    const { namespace, ...handlers } = opts;
    const { exchange, routingKey } = topology(namespace).broadcasts.live;
    super({ ...handlers, name: 'live', exchange, routingKey, schema: liveMessageSchema });
    this.exchange = exchange.name;
    this.routingKey = routingKey;
  }

  async publish(message: LiveMessage): Promise<void> {
    await this.channel.publish(this.exchange, this.routingKey, encode(liveMessageSchema.parse(message)), {
      messageId: randomUUID(),
      contentType: 'application/json',
      persistent: false,
    });
  }
}
