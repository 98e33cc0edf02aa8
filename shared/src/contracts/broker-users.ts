/**
 * Warren's broker users and what each may do, derived from the system map (topology.ts: who owns
 * each queue, who publishes each event, who hears each broadcast; auth-rpc.ts: who calls each
 * method) with the kit's party builders (shared/src/messaging/broker-permissions.ts), which
 * follow what the kit's publishers, consumers and RPC parties declare and send. A user per
 * service; `partner` for other teams' services, which may publish what the contract lets them
 * (docs/messaging.md) and nothing else; `operator` for `npm run dlq`. Each partition has its own,
 * named after its namespace. `npm run broker:permissions` prints them (docs/operations.md);
 * docs/decisions/0032-broker-users.md says why.
 */
import {
  combine,
  consumerOf,
  deadLetterReplayOf,
  listenerOf,
  permissionsOf,
  publisherOf,
  rpcClientOf,
  rpcServerOf,
  senderOf,
  type BrokerParty,
  type BrokerPermissions,
} from '../messaging/broker-permissions.js';
import { resourceNames, type Exchange, type WorkQueue } from '../messaging/topology.js';
import { authRpc } from './auth-rpc.js';
import { eventsPublishedBy, PARTNER, SERVICES, type Service, type Topology } from './topology.js';

export const BROKER_USERS = [...SERVICES, PARTNER, 'operator'] as const;
export type BrokerUser = (typeof BROKER_USERS)[number];

/** A user's name on the broker: its partition's namespace and the party (`warren.dev.auth`). */
export function brokerUserName(namespace: string, user: BrokerUser): string {
  return `${namespace}.${user}`;
}

/** The auth methods `caller` may call. */
export function methodsCalledBy(caller: Service): string[] {
  return Object.values(authRpc)
    .filter((m) => (m.callers as readonly string[]).includes(caller))
    .map((m) => m.routingKey);
}

function workQueuesOf(t: Topology): WorkQueue[] {
  return Object.values(t.queues).filter((q): q is WorkQueue => q.kind === 'work-queue');
}

/** What each party does on the broker, as the services' code does it. */
export function brokerParties(t: Topology): Record<BrokerUser, BrokerParty> {
  const service = (s: Service): BrokerParty => {
    const calls = methodsCalledBy(s);
    const broadcasts = Object.values(t.broadcasts);
    return combine(
      publisherOf(...eventsPublishedBy(t, s)),
      ...workQueuesOf(t).filter((q) => q.owner === s).map(consumerOf),
      ...Object.values(t.queues).flatMap((q) => (q.kind === 'request-queue' && q.owner === s ? [rpcServerOf(q)] : [])),
      calls.length > 0 ? rpcClientOf(t.exchanges.rpc, calls) : {},
      ...broadcasts.filter((b) => b.listeners.includes(s)).map((b) => listenerOf(b.exchange, b.routingKey)),
      senderOf(...broadcasts.filter((b) => b.publishers.includes(s))),
    );
  };
  return {
    auth: service('auth'),
    'main-backend': service('main-backend'),
    notification: service('notification'),
    partner: senderOf(...eventsPublishedBy(t, PARTNER)),
    operator: deadLetterReplayOf(...workQueuesOf(t)),
  };
}

/** Every topic exchange of the map: each user gets a topic permission entry for each. */
export function topicExchanges(t: Topology): Exchange[] {
  return Object.values(t.exchanges).filter((x) => x.type === 'topic');
}

export interface BrokerUserPermissions {
  /** The party. */
  user: BrokerUser;
  /** Its name on the broker. */
  name: string;
  permissions: BrokerPermissions;
}

/** Every broker user of a namespace, with its permissions. */
export function brokerUsers(t: Topology): BrokerUserPermissions[] {
  const parties = brokerParties(t);
  return BROKER_USERS.map((user) => ({
    user,
    name: brokerUserName(t.namespace, user),
    permissions: permissionsOf(parties[user], topicExchanges(t)),
  }));
}

/**
 * What the permissions would leave out, read back from the regular expressions themselves: a
 * routing key of the map that no party may publish or no queue takes, a queue no party may
 * declare or whose owner may not take from it, an exchange nobody declares, an RPC method nobody
 * may call or auth may not bind, a broadcast a listener could not hear. Empty for Warren's map;
 * `npm run broker:permissions` refuses to print permissions with gaps.
 */
export function permissionGaps(t: Topology, users: readonly BrokerUserPermissions[]): string[] {
  const gaps: string[] = [];
  const byUser = new Map(users.map((u) => [u.user as string, u.permissions]));
  const matches = (regex: string, name: string) => new RegExp(regex).test(name);
  const topic = (p: BrokerPermissions, x: Exchange, side: 'write' | 'read', key: string) =>
    x.type !== 'topic' || matches(p.topics.find((e) => e.exchange === x.name)?.[side] ?? '^$', key);
  const mayPublish = (p: BrokerPermissions, x: Exchange, key: string) => matches(p.write, x.name) && topic(p, x, 'write', key);
  const mayBind = (p: BrokerPermissions, queue: string, x: Exchange, key: string) =>
    matches(p.write, queue) && matches(p.read, x.name) && topic(p, x, 'read', key);

  for (const e of Object.values(t.events)) {
    if (e.deliversTo.length === 0) gaps.push(`event ${e.routingKey}: no queue is bound for it`);
    if (e.publishers.length === 0) gaps.push(`event ${e.routingKey}: nobody publishes it`);
    for (const who of e.publishers) {
      const p = byUser.get(who);
      if (!p || !mayPublish(p, e.exchange, e.routingKey)) gaps.push(`event ${e.routingKey}: ${who} may not publish it`);
    }
  }
  for (const q of Object.values(t.queues)) {
    const owner = byUser.get(q.owner);
    if (!owner) {
      gaps.push(`queue ${q.name}: its owner ${q.owner} has no broker user`);
      continue;
    }
    for (const name of resourceNames([q]).queues) if (!matches(owner.configure, name)) gaps.push(`queue ${name}: ${q.owner} may not declare it`);
    const taken = q.kind === 'work-queue' && q.retryLane ? [q.name, q.retryLane] : [q.name];
    for (const name of taken) if (!matches(owner.read, name)) gaps.push(`queue ${name}: ${q.owner} may not take from it`);
    for (const b of q.bindings) {
      if (!mayBind(owner, q.name, b.exchange, b.routingKey)) gaps.push(`queue ${q.name}: ${q.owner} may not bind it for ${b.routingKey}`);
      if (!users.some((u) => mayPublish(u.permissions, b.exchange, b.routingKey))) gaps.push(`${b.exchange.name} ${b.routingKey} (bound to ${q.name}): nobody may publish it`);
    }
  }
  for (const x of Object.values(t.exchanges)) {
    if (!users.some((u) => matches(u.permissions.configure, x.name))) gaps.push(`exchange ${x.name}: nobody may declare it`);
  }
  for (const m of Object.values(authRpc)) {
    if (m.callers.length === 0) gaps.push(`RPC ${m.routingKey}: nobody calls it`);
    for (const who of m.callers) {
      const p = byUser.get(who);
      if (!p || !mayPublish(p, t.exchanges.rpc, m.routingKey)) gaps.push(`RPC ${m.routingKey}: ${who} may not call it`);
    }
  }
  for (const b of Object.values(t.broadcasts)) {
    for (const who of b.listeners) {
      const p = byUser.get(who);
      if (!p || !mayBind(p, 'amq.gen-x', b.exchange, b.routingKey) || !matches(p.read, 'amq.gen-x')) gaps.push(`broadcast ${b.exchange.name} ${b.routingKey}: ${who} may not hear it`);
    }
    for (const who of b.publishers) {
      const p = byUser.get(who);
      if (!p || !mayPublish(p, b.exchange, b.routingKey)) gaps.push(`broadcast ${b.exchange.name} ${b.routingKey}: ${who} may not publish it`);
    }
  }
  return gaps;
}
