/**
 * Every exchange, queue and routing key of Warren, in one place. Names carry the broker
 * namespace (default `warren.<APP_ENV>`), which is what keeps a dev and a qa stack that share
 * one broker from ever seeing each other's messages. The README's "Message topology" section
 * documents the same names for other teams.
 */
export const ROUTING_KEYS = {
  notificationRequested: 'notification.requested',
  notificationBatchRequested: 'notification.batch.requested',
  emailRequested: 'email.requested',
  userUpserted: 'user.upserted',
  sessionEnded: 'session.ended',
  authLogin: 'auth.login',
  authJwks: 'auth.jwks',
} as const;

export interface Topology {
  /** topic exchange for domain events (durable). */
  eventsExchange: string;
  /** direct exchange for RPC requests (durable). */
  rpcExchange: string;
  /** dead-letter exchange (direct, durable): a rejected message is routed by its queue's name. */
  deadLetterExchange: string;
  /** quorum queue: notification requests (single and batch), consumed by any notification replica. */
  notificationRequestsQueue: string;
  /** fanout exchange for live delivery to every notification replica (durable; messages transient). */
  liveExchange: string;
  /** quorum queue: user directory events for the notification service. */
  notificationUsersQueue: string;
  /** quorum queue: emails to send, consumed by any notification replica. */
  emailRequestsQueue: string;
  /** quorum queue: ended sessions, recorded by any notification replica (each replica also hears them live). */
  notificationSessionsQueue: string;
  /** classic queue: auth RPC requests (transient messages with a per-message expiration). */
  authRpcQueue: string;
  /** The dead-letter queue that belongs to a work queue. */
  deadLetterQueueOf(queue: string): string;
}

export function topology(namespace: string): Topology {
  return {
    eventsExchange: `${namespace}.events`,
    rpcExchange: `${namespace}.rpc`,
    deadLetterExchange: `${namespace}.dlx`,
    notificationRequestsQueue: `${namespace}.notification.requests`,
    emailRequestsQueue: `${namespace}.email.requests`,
    liveExchange: `${namespace}.live`,
    notificationUsersQueue: `${namespace}.notification.users`,
    notificationSessionsQueue: `${namespace}.notification.sessions`,
    authRpcQueue: `${namespace}.auth.rpc`,
    deadLetterQueueOf: (queue) => `${queue}.dlq`,
  };
}
