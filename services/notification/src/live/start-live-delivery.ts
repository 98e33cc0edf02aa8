/**
 * Wires live delivery to the broker and the inbox: the exchange subscription starts after the
 * sequence is anchored on the last stored batch (so every batch heard is either history or
 * comes in order), and is ready when this returns. Closing stops the exchange first.
 */
import type { LiveMessage } from '@warren/shared/contracts/live';
import type { Closers } from '@warren/shared/lifecycle';
import type { Logger } from '@warren/shared/logger';
import type { Broker } from '@warren/shared/messaging/broker';
import type { InboxRepository } from '../db/inbox-repository.js';
import { LiveDelivery } from './live-delivery.js';
import { LiveExchange } from './live-exchange.js';

export async function startLiveDelivery({
  broker,
  namespace,
  inbox,
  logger,
  closers,
}: {
  broker: Broker;
  namespace: string;
  inbox: InboxRepository;
  logger: Logger;
  closers: Closers;
}): Promise<LiveDelivery> {
  const store = {
    lastBatch: () => inbox.lastBatch(),
    latestSeq: (userId: string) => inbox.latestSeq(userId),
    readAfter: (userId: string, afterSeq: number, limit: number) => inbox.after(userId, afterSeq, limit),
  };
  // The exchange is made below: its handlers need `live`, and nothing publishes before it exists.
  const bus = { publish: (m: LiveMessage) => exchange.publish(m) };
  const live = closers.add('live delivery', new LiveDelivery({ bus, store, logger }, await inbox.lastBatch()), (l) => l.stop());
  const exchange = closers.add(
    'live exchange',
    new LiveExchange({ broker, namespace, logger, onMessage: (m) => live.receive(m), onResubscribed: () => live.resubscribed() }),
    (e) => e.close(),
  );
  await exchange.waitReady();
  return live;
}
