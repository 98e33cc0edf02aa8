/**
 * Every replica of a service that verifies access tokens hears every `session.ended`: an
 * exclusive, auto-deleted queue of its own, bound on the events exchange (like live delivery).
 * Messages are transient here and not acknowledged: what a replica misses while disconnected
 * it recovers elsewhere (`onResubscribed`: the notification service re-reads its database,
 * which a durable queue fills; the main backend's short session-check cache runs out).
 */
import { sessionEndedSchema, type SessionEnded } from '../contracts/sessions.js';
import { topology } from '../contracts/topology.js';
import type { Logger } from '../logger.js';
import type { Broker } from '../messaging/broker.js';
import { ReplicaSubscription } from '../messaging/replica-subscription.js';

export class SessionEndedSubscription extends ReplicaSubscription<typeof sessionEndedSchema> {
  constructor(opts: {
    broker: Broker;
    namespace: string;
    logger: Logger;
    onEnded: (m: SessionEnded) => void;
    onResubscribed?: () => void;
  }) {
    const { exchange, routingKey } = topology(opts.namespace).broadcasts.sessionEnded;
    super({
      broker: opts.broker,
      logger: opts.logger,
      name: 'session-ended',
      exchange,
      routingKey,
      schema: sessionEndedSchema,
      onMessage: opts.onEnded,
      onResubscribed: opts.onResubscribed,
    });
  }
}
