/** Consumes `notification.requested` and `notification.batch.requested` in batches into the store-notifications use case. */
import { notificationRequestMessageSchema } from '@warren/shared/contracts/notifications';
import { topology } from '@warren/shared/contracts/topology';
import { Consumer, PermanentError } from '@warren/shared/messaging/consumer';
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
    batchHandler: async (items) => {
      const outcome = await storeNotifications(deps, items);
      if (!outcome) return;
      // A reused send id can never be stored: dead-lettered at once, under a reason of its own.
      const refused = (outcome.refused ?? []).map(({ item, error }) => ({ item, error: new PermanentError(error.message, 'notification_id_conflict') }));
      return { ...outcome, refused };
    },
  });
}
