/** What every consumer of the notification service is built from (service.ts hands it over). */
import type { Logger } from '@warren/shared/logger';
import type { Broker } from '@warren/shared/messaging/broker';
import type { Metrics } from '@warren/shared/metrics';

export interface ConsumerWiring {
  broker: Broker;
  /** The broker namespace: picks the queue from the system map. */
  namespace: string;
  logger: Logger;
  metrics: Metrics;
}
