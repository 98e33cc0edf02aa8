/**
 * What a broker user needs, derived from what its party does with the kit: RabbitMQ's three
 * vhost permissions (configure, write, read: regular expressions over exchange and queue names)
 * and its topic permissions (per topic exchange: the routing keys it may publish, and bind
 * for). A party is described with the builders below, one per kind of party the kit has
 * (Publisher, Consumer, RpcServer, RpcClient, ReplicaSubscription, the dead-letter replay), so
 * that the permissions follow the resources the code declares and the routes it uses: a system
 * builds its parties from its map, never from a list kept by hand (for Warren:
 * shared/src/contracts/broker-users.ts; docs/decisions/0032-broker-users.md).
 *
 * What RabbitMQ checks (3.x, and 4.x):
 * - exchange.declare: configure on the exchange; queue.declare: configure on the queue, and for a
 *   queue with a dead-letter exchange also read on the queue and write on that exchange (the
 *   default exchange when it is '', as for a delay queue) when it creates it; passive
 *   declarations nothing (4.3.1 and later: any permission on the vhost).
 * - queue.bind: write on the queue, read on the exchange, and on a topic exchange a topic read
 *   permission for the binding key.
 * - basic.publish: write on the exchange (the default exchange is `amq.default`, and reaches every
 *   queue of the vhost by name), and on a topic exchange a topic write permission for the routing
 *   key (before 4.0.3 not for the keys of a `CC`/`BCC` header: see arrivedAsBound in topology.ts).
 * - basic.consume and basic.get: read on the queue. Direct reply-to (`amq.rabbitmq.reply-to`) needs
 *   nothing to consume; the server's reply goes through the default exchange.
 * - A user without a topic permission entry for an exchange may use every key there: a user gets
 *   an entry for every topic exchange of the system (`^$` where it may do nothing).
 */
import { DIRECT_REPLY_TO } from './rpc-protocol.js';
import { consumedQueuesOf, type Exchange, type RequestQueue, type Resource, type Route, type WorkQueue } from './topology.js';

/** A message a party sends: the exchange and routing key. */
export interface Publication {
  exchange: Exchange;
  routingKey: string;
}

/** What one party does on the broker. Build it with the functions below and `combine`. */
export interface BrokerParty {
  /** What its code declares on every (re)connection (declareTopology). */
  declares: readonly Resource[];
  /** What it publishes. */
  publishes: readonly Publication[];
  /** Queues it takes messages from (consume or get). */
  consumes: readonly string[];
  /** Replica subscriptions: a server-named exclusive queue of its own, bound on the exchange for the key. */
  hears: readonly Publication[];
  /** It publishes through the default exchange: RPC replies, a consumer's delayed copies, replays by queue name. */
  defaultExchange: boolean;
}

const NOTHING: BrokerParty = { declares: [], publishes: [], consumes: [], hears: [], defaultExchange: false };

export function combine(...parts: Partial<BrokerParty>[]): BrokerParty {
  return parts.reduce<BrokerParty>(
    (all, p) => ({
      declares: [...all.declares, ...(p.declares ?? [])],
      publishes: [...all.publishes, ...(p.publishes ?? [])],
      consumes: [...all.consumes, ...(p.consumes ?? [])],
      hears: [...all.hears, ...(p.hears ?? [])],
      defaultExchange: all.defaultExchange || (p.defaultExchange ?? false),
    }),
    NOTHING,
  );
}

/** A Publisher declaring `routeResources(...routes)` and publishing on each. */
export function publisherOf(...routes: Route[]): BrokerParty {
  return combine({
    declares: routes.flatMap((r) => [r.exchange, ...r.deliversTo.map((queue) => ({ kind: 'destination' as const, queue }))]),
    publishes: routes.map(({ exchange, routingKey }) => ({ exchange, routingKey })),
  });
}

/** A publisher of another system: publishes on its routes and declares nothing (the system declares them). */
export function senderOf(...routes: Publication[]): BrokerParty {
  return combine({ publishes: routes.map(({ exchange, routingKey }) => ({ exchange, routingKey })) });
}

/** A Consumer of a work queue: declares all of it, takes from it and its retry lane, sends delayed copies by the default exchange. */
export function consumerOf(queue: WorkQueue): BrokerParty {
  return combine({ declares: [queue], consumes: consumedQueuesOf(queue), defaultExchange: true });
}

/** An RpcServer: declares its queue and bindings, takes requests from it, answers on the caller's direct reply-to (default exchange). */
export function rpcServerOf(queue: RequestQueue): BrokerParty {
  return combine({ declares: [queue], consumes: [queue.name], defaultExchange: true });
}

/** An RpcClient calling `routingKeys`: declares the exchange and publishes requests there; replies come on direct reply-to. */
export function rpcClientOf(exchange: Exchange, routingKeys: readonly string[]): BrokerParty {
  return combine({ declares: [exchange], publishes: routingKeys.map((routingKey) => ({ exchange, routingKey })) });
}

/** A ReplicaSubscription: declares the exchange, and a server-named exclusive queue bound there for the key. */
export function listenerOf(exchange: Exchange, routingKey: string): BrokerParty {
  return combine({ declares: [exchange], hears: [{ exchange, routingKey }] });
}

/**
 * The dead-letter command (dead-letters.ts): reads the dead-letter queues of `queues` and
 * replays each message to where it came from: an exchange and key the queue is bound for, or
 * the queue itself (or its retry lane) by the default exchange.
 */
export function deadLetterReplayOf(...queues: WorkQueue[]): BrokerParty {
  return combine({
    consumes: queues.map((q) => q.deadLetterQueue),
    publishes: queues.flatMap((q) => q.bindings.map(({ exchange, routingKey }) => ({ exchange, routingKey }))),
    defaultExchange: true,
  });
}

/** A regular expression of server-named queues (`queue.declare` with an empty name). */
export const SERVER_NAMED_QUEUES = 'amq\\.gen-.*';
/** The default exchange, as permissions name it. */
export const DEFAULT_EXCHANGE = 'amq.default';

/** Alternatives of a permission: exact names (escaped) or patterns. */
interface Pattern {
  exact?: string;
  pattern?: string;
}

export interface TopicPermission {
  exchange: string;
  write: string;
  read: string;
}

/** RabbitMQ permissions, as `rabbitmqctl set_permissions` and `set_topic_permissions` take them. */
export interface BrokerPermissions {
  configure: string;
  write: string;
  read: string;
  /** One per topic exchange given to `permissionsOf`, in that order. */
  topics: TopicPermission[];
}

export function escapeRegex(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

/** `^(a|b)$` of the alternatives, sorted and without repeats; `^$` (nothing) for none. */
export function anchored(alternatives: readonly Pattern[]): string {
  const parts = [...new Set(alternatives.map((a) => a.pattern ?? escapeRegex(a.exact as string)))].sort();
  return parts.length === 0 ? '^$' : `^(${parts.join('|')})$`;
}

/**
 * The permissions of a party. `topicExchanges`: every topic exchange of the system, so that the
 * user gets an entry (a restriction) for each, even where it may do nothing.
 */
export function permissionsOf(party: BrokerParty, topicExchanges: readonly Exchange[]): BrokerPermissions {
  const configure: Pattern[] = [];
  const write: Pattern[] = [];
  const read: Pattern[] = [];
  const topicWrite = new Map<string, Pattern[]>();
  const topicRead = new Map<string, Pattern[]>();
  const topicOf = (map: Map<string, Pattern[]>, x: Exchange, key: string) => {
    if (x.type !== 'topic') return;
    map.set(x.name, [...(map.get(x.name) ?? []), { exact: key }]);
  };
  const exchangeDeclared = (x: Exchange) => configure.push({ exact: x.name });
  const bound = (queue: Pattern, x: Exchange, key: string) => {
    write.push(queue);
    read.push({ exact: x.name });
    topicOf(topicRead, x, key);
  };

  for (const r of party.declares) {
    if (r.kind === 'exchange') {
      exchangeDeclared(r);
      continue;
    }
    const q = r.kind === 'destination' ? r.queue : r;
    configure.push({ exact: q.name });
    for (const b of q.bindings) {
      exchangeDeclared(b.exchange);
      bound({ exact: q.name }, b.exchange, b.routingKey);
    }
    if (q.kind !== 'work-queue') continue;
    const dlx = q.deadLetterExchange;
    exchangeDeclared(dlx);
    configure.push({ exact: q.deadLetterQueue });
    bound({ exact: q.deadLetterQueue }, dlx, q.name);
    // A queue with a dead-letter exchange: read on it and write on that exchange, at creation.
    const withDlx = r.kind === 'destination' ? [q.name] : consumedQueuesOf(q);
    for (const name of withDlx) {
      configure.push({ exact: name });
      read.push({ exact: name });
    }
    write.push({ exact: dlx.name });
    if (r.kind === 'destination') continue;
    for (const tier of q.retryTiers) {
      configure.push({ exact: tier.queue });
      read.push({ exact: tier.queue });
    }
    // The delay queues dead-letter to the default exchange.
    if (q.retryTiers.length > 0) write.push({ exact: DEFAULT_EXCHANGE });
  }
  for (const p of party.publishes) {
    write.push(p.exchange.name === '' ? { exact: DEFAULT_EXCHANGE } : { exact: p.exchange.name });
    topicOf(topicWrite, p.exchange, p.routingKey);
  }
  for (const name of party.consumes) {
    // Direct reply-to is a pseudo-queue: consuming it needs no permission.
    if (name !== DIRECT_REPLY_TO) read.push({ exact: name });
  }
  if (party.hears.length > 0) {
    const serverNamed = { pattern: SERVER_NAMED_QUEUES };
    configure.push(serverNamed);
    read.push(serverNamed);
    for (const h of party.hears) {
      exchangeDeclared(h.exchange);
      bound(serverNamed, h.exchange, h.routingKey);
    }
  }
  if (party.defaultExchange) write.push({ exact: DEFAULT_EXCHANGE });

  const topics = [...new Map(topicExchanges.filter((x) => x.type === 'topic').map((x) => [x.name, x])).values()];
  for (const name of [...topicWrite.keys(), ...topicRead.keys()]) {
    if (!topics.some((x) => x.name === name)) throw new Error(`topic exchange ${name} is used but not among the system's topic exchanges`);
  }
  return {
    configure: anchored(configure),
    write: anchored(write),
    read: anchored(read),
    topics: topics.map((x) => ({ exchange: x.name, write: anchored(topicWrite.get(x.name) ?? []), read: anchored(topicRead.get(x.name) ?? []) })),
  };
}
