/**
 * Warren's system map, as data: every exchange, queue and routing key, which queue binds to
 * what, which service owns (consumes) each queue, each work queue's dead-letter queue and delay
 * tiers, which durable queues each event must reach, who publishes each event, and who hears
 * which broadcasts (with the callers of each RPC method in auth-rpc.ts, that is everything each
 * party does on the broker: broker-users.ts turns it into each broker user's permissions). The
 * kit's publishers, consumers and RPC parties are handed the parts they use and declare only
 * those (shared/src/messaging/topology.ts). Names carry the broker namespace (default
 * `warren.<APP_ENV>`), which is what keeps a dev and a qa stack that share one broker from ever
 * seeing each other's messages. docs/messaging.md documents the same names for other teams.
 */
import {
  exchange,
  requestQueue,
  resourceNames,
  workQueue,
  type Exchange,
  type Resource,
  type Route,
  type WorkQueue,
} from '../messaging/topology.js';
import { AUTH_RPC_ROUTING_KEYS } from './auth-rpc.js';

/** The routing keys of Warren's events on the events exchange. */
export const ROUTING_KEYS = {
  notificationRequested: 'notification.requested',
  notificationBatchRequested: 'notification.batch.requested',
  emailRequested: 'email.requested',
  userUpserted: 'user.upserted',
  sessionEnded: 'session.ended',
} as const;
export type RoutingKey = (typeof ROUTING_KEYS)[keyof typeof ROUTING_KEYS];

/** Warren's services: the parties that own queues, publish, call and listen. */
export const SERVICES = ['auth', 'main-backend', 'notification'] as const;
export type Service = (typeof SERVICES)[number];
/** Another team's service, publishing what the contract lets it (docs/messaging.md). */
export const PARTNER = 'partner';
export type Publisher = Service | typeof PARTNER;

/**
 * Who publishes each event: only their broker users may publish its routing key (topic
 * permissions, docs/decisions/0032-broker-users.md). Other teams may send notifications, single
 * and batch; every other event is a service's own. A key of ROUTING_KEYS missing here does not
 * type-check.
 */
export const EVENT_PUBLISHERS = {
  'notification.requested': ['main-backend', PARTNER],
  'notification.batch.requested': ['main-backend', PARTNER],
  'email.requested': ['auth'],
  'user.upserted': ['auth'],
  'session.ended': ['auth'],
} as const satisfies Record<RoutingKey, readonly Publisher[]>;

/**
 * The delay tiers of every work queue: a failed message waits in `<queue>.retry.<n>s` and the
 * broker dead-letters it back to the work queue when its time is up. One queue per tier, so
 * every message in a queue has the same TTL and expires at its head, in order: a long delay
 * never holds a short one behind it. 15 s at most, so a consumer whose database came back
 * catches up within seconds, while an outage costs one attempt per message per 15 s.
 */
export const RETRY_DELAYS_MS = [1_000, 5_000, 15_000] as const;

/** The namespace a partition uses unless BROKER_NAMESPACE says otherwise. */
export function defaultNamespace(appEnv: string): string {
  return `warren.${appEnv}`;
}

export function topology(namespace: string) {
  const exchanges = {
    /** Domain events (topic). */
    events: exchange(`${namespace}.events`, 'topic'),
    /**
     * RPC requests, by method (topic, so that the broker checks which methods each user may call:
     * topic permissions apply to topic exchanges only). Was `<ns>.rpc`, direct (retiredExchanges).
     */
    rpc: exchange(`${namespace}.rpc.methods`, 'topic'),
    /** Dead letters (direct): a rejected message is routed by its work queue's name. */
    deadLetters: exchange(`${namespace}.dlx`, 'direct'),
    /** Live delivery to every notification replica (fanout; messages transient). */
    live: exchange(`${namespace}.live`, 'fanout'),
  };
  const work = (name: string, owner: Service, routingKeys: RoutingKey[], opts: { retryLane?: boolean } = {}) =>
    workQueue({
      name: `${namespace}.${name}`,
      owner,
      bindings: routingKeys.map((routingKey) => ({ exchange: exchanges.events, routingKey })),
      deadLetterExchange: exchanges.deadLetters,
      retryDelaysMs: RETRY_DELAYS_MS,
      ...opts,
    });
  const queues = {
    /** Notification requests, single and batch, consumed by any notification replica. */
    notificationRequests: work('notification.requests', 'notification', [ROUTING_KEYS.notificationRequested, ROUTING_KEYS.notificationBatchRequested]),
    /** User directory events for the notification service. */
    notificationUsers: work('notification.users', 'notification', [ROUTING_KEYS.userUpserted]),
    /**
     * Emails to send, consumed by any notification replica. Retried emails (a relay deferring
     * them) come back to `<ns>.email.requests.retries`, consumed with slots of their own: a
     * flood of deferred emails never stands ahead of a fresh code (docs/decisions/0029).
     */
    emailRequests: work('email.requests', 'notification', [ROUTING_KEYS.emailRequested], { retryLane: true }),
    /** Ended sessions, recorded by any notification replica (each replica also hears them live). */
    notificationSessions: work('notification.sessions', 'notification', [ROUTING_KEYS.sessionEnded]),
    /**
     * Auth RPC requests: transient and expiring, and never dead-lettered on purpose: an expired
     * login request carries a password, and dead-lettering would keep it on the broker.
     * Non-durable, so a cluster node that goes takes it along and auth re-declares it elsewhere;
     * hence a name of its own (`<ns>.auth.rpc` was durable; see retiredQueues).
     */
    authRpc: requestQueue({
      name: `${namespace}.auth.rpc.requests`,
      owner: 'auth' satisfies Service,
      bindings: AUTH_RPC_ROUTING_KEYS.map((routingKey) => ({ exchange: exchanges.rpc, routingKey })),
    }),
  };
  const workQueues: WorkQueue[] = Object.values(queues).filter((q): q is WorkQueue => q.kind === 'work-queue');
  /** An event, the work queues bound for it (found from their bindings), and who publishes it. */
  const event = (routingKey: RoutingKey): EventRoute => ({
    exchange: exchanges.events,
    routingKey,
    deliversTo: workQueues.filter((q) => q.bindings.some((b) => b.exchange === exchanges.events && b.routingKey === routingKey)),
    publishers: EVENT_PUBLISHERS[routingKey],
  });
  return {
    namespace,
    exchanges,
    queues,
    /** Each event's route: what its publisher declares so nothing it publishes is lost. */
    events: {
      notificationRequested: event(ROUTING_KEYS.notificationRequested),
      notificationBatchRequested: event(ROUTING_KEYS.notificationBatchRequested),
      emailRequested: event(ROUTING_KEYS.emailRequested),
      userUpserted: event(ROUTING_KEYS.userUpserted),
      sessionEnded: event(ROUTING_KEYS.sessionEnded),
    },
    /**
     * What every replica of its listeners hears on an exclusive queue of its own
     * (ReplicaSubscription), and who publishes it when it is no event of the above.
     */
    broadcasts: {
      /** Ended sessions, refused at once by every replica that verifies tokens (shared/src/auth/). */
      sessionEnded: broadcast(exchanges.events, ROUTING_KEYS.sessionEnded, { listeners: ['main-backend', 'notification'] }),
      /** Live delivery between notification replicas (services/notification/src/live/). */
      live: broadcast(exchanges.live, '', { listeners: ['notification'], publishers: ['notification'] }),
    },
  };
}

export type Topology = ReturnType<typeof topology>;

/** An event's route and the parties that publish it. */
export interface EventRoute extends Route {
  routingKey: RoutingKey;
  publishers: readonly Publisher[];
}

/** A broadcast: an exchange and key every replica of each listener binds an exclusive queue of its own for. */
export interface Broadcast {
  exchange: Exchange;
  routingKey: string;
  listeners: readonly Service[];
  /** Who publishes it, if not the publishers of an event. */
  publishers: readonly Service[];
}

function broadcast(x: Exchange, routingKey: string, who: { listeners: Service[]; publishers?: Service[] }): Broadcast {
  return { exchange: x, routingKey, listeners: who.listeners, publishers: who.publishers ?? [] };
}

/** The events `party` publishes: what its Publisher declares (routeResources) and sends. */
export function eventsPublishedBy(t: Topology, party: Publisher): EventRoute[] {
  return Object.values(t.events).filter((e) => (e.publishers as readonly Publisher[]).includes(party));
}

/** Every resource of the map. */
export function allResources(t: Topology): Resource[] {
  return [...Object.values(t.exchanges), ...Object.values(t.queues)];
}

/**
 * Every queue and exchange of a namespace (dead-letter and delay queues included): what a test
 * or benchmark that made a namespace of its own deletes afterwards, whichever parts it started.
 */
export function namespaceResources(namespace: string): { queues: string[]; exchanges: string[] } {
  const names = resourceNames(allResources(topology(namespace)));
  return { queues: [...names.queues, ...retiredQueues(namespace)], exchanges: [...names.exchanges, ...retiredExchanges(namespace)] };
}

/**
 * Exchanges an earlier version declared and nothing uses any more (docs/operations.md: delete
 * them when upgrading). `<ns>.rpc`: the RPC exchange while it was direct (an exchange's type cannot
 * change in place, and a direct exchange cannot tell callers' methods apart by permission).
 */
export function retiredExchanges(namespace: string): string[] {
  return [`${namespace}.rpc`];
}

/**
 * Queues an earlier version declared and nothing uses any more; an operator deletes them when
 * upgrading (docs/operations.md), and a namespace's cleanup takes them along.
 * `<ns>.auth.rpc`: the RPC request queue while it was durable (a durable queue cannot be
 * re-declared non-durable in place). `<ns>.email.requests.retry.<n>s`: the email delay queues
 * from before the retry lane, which sent retries back to the work queue itself (a queue's
 * dead-letter target cannot change in place either, so the lane's delay queues have new names).
 */
export function retiredQueues(namespace: string): string[] {
  return [`${namespace}.auth.rpc`, ...RETRY_DELAYS_MS.map((ms) => `${namespace}.email.requests.retry.${ms / 1000}s`)];
}
