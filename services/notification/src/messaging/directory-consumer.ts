/** Consumes `user.upserted` (from the auth service's outbox) into the user directory. */
import { topology } from '@warren/shared/contracts/topology';
import { userUpsertedSchema } from '@warren/shared/contracts/users';
import type { Logger } from '@warren/shared/logger';
import type { Broker } from '@warren/shared/messaging/broker';
import { Consumer } from '@warren/shared/messaging/consumer';
import type { Metrics } from '@warren/shared/metrics';
import type { DirectoryRepository } from '../db/directory-repository.js';

export function createDirectoryConsumer(broker: Broker, namespace: string, directory: DirectoryRepository, logger: Logger, metrics: Metrics) {
  return new Consumer({
    broker,
    logger,
    metrics,
    name: 'directory',
    queue: topology(namespace).queues.notificationUsers,
    schema: userUpsertedSchema,
    prefetch: 200,
    batchSize: 100,
    maxWaitMs: 20,
    batchHandler: (items) => directory.upsert(items.map((i) => i.payload)),
  });
}
