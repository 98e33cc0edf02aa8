/**
 * Every replica of a service that verifies access tokens hears every `session.ended`: an
 * exclusive, auto-deleted queue of its own, bound on the events exchange (like live delivery).
 * Messages are transient here and not acknowledged: what a replica misses while disconnected
 * it recovers elsewhere (`onResubscribed`: the notification service re-reads its database,
 * which a durable queue fills; the main backend's short session-check cache runs out).
 */
import { sessionEndedSchema, type SessionEnded } from '../contracts/sessions.js';
import { ROUTING_KEYS, topology } from '../contracts/topology.js';
import type { Logger } from '../logger.js';
import type { Broker } from '../messaging/broker.js';
import { ReplicaSubscription } from '../messaging/replica-subscription.js';

export class SessionEndedSubscription extends ReplicaSubscription<typeof sessionEndedSchema> {
  constructor(
    broker: Broker,
    namespace: string,
    logger: Logger,
    handlers: { onEnded: (m: SessionEnded) => void; onResubscribed?: () => void },
  ) {
    super(
      broker,
      {
        name: 'session-ended',
        namespace,
        exchange: topology(namespace).eventsExchange,
        routingKey: ROUTING_KEYS.sessionEnded,
        schema: sessionEndedSchema,
        onMessage: handlers.onEnded,
        onResubscribed: handlers.onResubscribed,
      },
      logger,
    );
  }
}
