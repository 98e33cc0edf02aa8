/** Consumes `notification.requested` and `notification.batch.requested` in batches into the store-notifications use case. */
import { notificationRequestMessageSchema } from '@warren/shared/contracts/notifications';
import { topology } from '@warren/shared/contracts/topology';
import { Consumer } from '@warren/shared/messaging/consumer';
import { storeNotifications, type StoreNotificationsDeps } from '../domain/store-notifications.js';
import type { ConsumerWiring } from './consumer-wiring.js';

export interface BatchSettings {
  batchSize: number;
  maxWaitMs: number;
}

export function createNotificationConsumer({
  broker,
  namespace,
  logger,
  metrics,
  batch,
  deps,
}: ConsumerWiring & { batch: BatchSettings; deps: StoreNotificationsDeps }) {
  return new Consumer({
    broker,
    logger,
    metrics,
    name: 'notification-requests',
    queue: topology(namespace).queues.notificationRequests,
    schema: notificationRequestMessageSchema,
    // Twice the batch: the next batch fills while one is being stored.
    prefetch: batch.batchSize * 2,
    batchSize: batch.batchSize,
    maxWaitMs: batch.maxWaitMs,
    batchHandler: (items) => storeNotifications(deps, items),
  });
}
