/**
 * Consumes `session.ended` from its durable queue (one replica takes each) into the database,
 * so that every replica, also one that starts or reconnects later, learns of it (see
 * ended-sessions-sync.ts). Acked after the insert commits; what was recorded is also applied
 * to this replica's set at once.
 */
import type { EndedSessions } from '@warren/shared/auth/ended-sessions';
import { topology } from '@warren/shared/contracts/topology';
import { sessionEndedSchema } from '@warren/shared/contracts/sessions';
import { Consumer } from '@warren/shared/messaging/consumer';
import type { EndedSessionsRepository } from '../db/ended-sessions-repository.js';
import type { ConsumerWiring } from './consumer-wiring.js';

export function createSessionEndedConsumer({
  broker,
  namespace,
  logger,
  metrics,
  repository,
  ended,
}: ConsumerWiring & { repository: EndedSessionsRepository; ended: EndedSessions }) {
  return new Consumer({
    broker,
    logger,
    metrics,
    name: 'ended-sessions',
    queue: topology(namespace).queues.notificationSessions,
    schema: sessionEndedSchema,
    prefetch: 200,
    batchSize: 100,
    maxWaitMs: 20,
    batchHandler: async (items) => {
      const events = items.map((i) => i.payload);
      await repository.record(events);
      for (const e of events) ended.end(e.sessionId, Date.parse(e.expiresAt));
    },
  });
}
