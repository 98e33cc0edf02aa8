/** Consumes `notification.requested` from the durable queue into the store-notification use case. */
import { notificationRequestedSchema } from '@warren/shared/contracts/notifications';
import { topology } from '@warren/shared/contracts/topology';
import type { Logger } from '@warren/shared/logger';
import type { Broker } from '@warren/shared/messaging/broker';
import { Consumer } from '@warren/shared/messaging/consumer';
import type { Metrics } from '@warren/shared/metrics';
import { storeNotification, type StoreNotificationDeps } from '../domain/store-notification.js';

export function createNotificationConsumer(
  broker: Broker,
  namespace: string,
  prefetch: number,
  deps: StoreNotificationDeps,
  logger: Logger,
  metrics: Metrics,
) {
  return new Consumer(
    broker,
    {
      name: 'notification-requests',
      namespace,
      queue: topology(namespace).notificationRequestsQueue,
      schema: notificationRequestedSchema,
      prefetch,
      handler: (msg) => storeNotification(deps, msg),
    },
    logger,
    metrics,
  );
}
