/** Consumes `notification.requested` and `notification.batch.requested` in batches into the store-notifications use case. */
import { notificationRequestMessageSchema } from '@warren/shared/contracts/notifications';
import { topology } from '@warren/shared/contracts/topology';
import type { Logger } from '@warren/shared/logger';
import type { Broker } from '@warren/shared/messaging/broker';
import { Consumer } from '@warren/shared/messaging/consumer';
import type { Metrics } from '@warren/shared/metrics';
import { storeNotifications, type StoreNotificationsDeps } from '../domain/store-notifications.js';

export interface BatchSettings {
  batchSize: number;
  maxWaitMs: number;
}

export function createNotificationConsumer(
  broker: Broker,
  namespace: string,
  batch: BatchSettings,
  deps: StoreNotificationsDeps,
  logger: Logger,
  metrics: Metrics,
) {
  return new Consumer(
    broker,
    {
      name: 'notification-requests',
      namespace,
      queue: topology(namespace).notificationRequestsQueue,
      schema: notificationRequestMessageSchema,
      // Twice the batch: the next batch fills while one is being stored.
      prefetch: batch.batchSize * 2,
      batchSize: batch.batchSize,
      maxWaitMs: batch.maxWaitMs,
      batchHandler: (items) => storeNotifications(deps, items),
    },
    logger,
    metrics,
  );
}
