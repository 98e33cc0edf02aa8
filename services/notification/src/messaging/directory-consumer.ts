/** Consumes `user.upserted` (from the auth service's outbox) into the user directory. */
import { topology } from '@warren/shared/contracts/topology';
import { userUpsertedSchema } from '@warren/shared/contracts/users';
import { Consumer } from '@warren/shared/messaging/consumer';
import type { DirectoryRepository } from '../db/directory-repository.js';
import type { ConsumerWiring } from './consumer-wiring.js';

export function createDirectoryConsumer({ broker, namespace, logger, metrics, directory }: ConsumerWiring & { directory: DirectoryRepository }) {
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
