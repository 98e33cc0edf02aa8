/**
 * Broker resources as data, and their declaration. A system describes its exchanges and queues
 * with the builders below; each publisher, consumer and RPC party is handed the resources it
 * uses and declares exactly those, on every (re)connection (declarations are idempotent).
 * Declaring a queue brings along what it cannot work without: the exchanges of its bindings,
 * and for a work queue its dead-letter exchange, dead-letter queue, delay queues and retry lane
 * (a publisher declares its destination without the last two: see Destination).
 * Nothing here knows any system's names: those live with the system (for Warren,
 * shared/src/contracts/topology.ts).
 */
import type { Channel } from 'amqplib';
import { needing } from './refusal.js';

export interface Exchange {
  kind: 'exchange';
  name: string;
  type: 'topic' | 'direct' | 'fanout';
}

export interface Binding {
  exchange: Exchange;
  routingKey: string;
}

/** One delay tier of a work queue: a failed message waits `delayMs` in `queue`, then goes back to `returnsTo`. */
export interface RetryTier {
  delayMs: number;
  queue: string;
  /** The work queue itself, or its retry lane when it has one. */
  returnsTo: string;
}

/**
 * A durable quorum queue of messages that must not be lost: a message is dead-lettered (to
 * `deadLetterQueue`, through `deadLetterExchange` with the queue's name as routing key) only
 * when its consumer gives up on it or after QUORUM_DELIVERY_LIMIT deliveries of one copy; a
 * failed one waits in a delay queue of `retryTiers` and comes back.
 */
export interface WorkQueue {
  kind: 'work-queue';
  name: string;
  /** The service that consumes it. */
  owner: string;
  bindings: readonly Binding[];
  deadLetterExchange: Exchange;
  deadLetterQueue: string;
  /** Shortest delay first. */
  retryTiers: readonly RetryTier[];
  /**
   * Opt-in: the queue failed messages come back to instead of this one, `<name>.retries`, a work
   * queue of its own (same dead-letter queue; its delay queues are `<name>.retries.retry.<n>s`).
   * Its consumer takes it with slots of its own, so a flood of messages that keep failing
   * (emails a relay keeps deferring) never stands in line ahead of fresh ones.
   */
  retryLane?: string;
}

/**
 * A non-durable classic queue of transient requests that expire (a classic queue honours a
 * per-message expiration), never dead-lettered: an expired or unanswerable request is dropped.
 * Non-durable so that in a cluster it never outlives its node: when the node goes, so does the
 * queue's record, and its server re-declares it on a node that is up (a durable classic queue's
 * record would keep the name taken until its node returned). Classic, not quorum: requests may
 * carry secrets, which must not go into a replicated log on disk.
 */
export interface RequestQueue {
  kind: 'request-queue';
  name: string;
  /** The service that consumes it. */
  owner: string;
  bindings: readonly Binding[];
}

export type Queue = WorkQueue | RequestQueue;

/**
 * A work queue as the publishers of its route declare it (`routeResources`): the queue, its
 * bindings and its dead-letter queue, so that what is published before any consumer ever started
 * is kept; not its delay queues and retry lane, which only its consumer uses. A delay queue
 * dead-letters to the default exchange, and RabbitMQ lets only a user that may write to the
 * default exchange (that is, to every queue of the vhost) declare one: a publisher's broker user
 * need not (docs/decisions/0032-broker-users.md). Its consumer declares the whole work queue.
 */
export interface Destination {
  kind: 'destination';
  queue: WorkQueue;
}

export type Resource = Exchange | Queue | Destination;

/**
 * Where a message published on `routingKey` to `exchange` goes: the durable queues bound for
 * it. A publisher declares them too, so a message published before any consumer ever started
 * still lands in its queue instead of being returned as unroutable.
 */
export interface Route {
  exchange: Exchange;
  routingKey: string;
  deliversTo: readonly WorkQueue[];
}

/**
 * After this many deliveries of one copy a message is dead-lettered by the broker itself: a
 * backstop for a message that kills its consumer's channel or process every time. Retries do
 * not count against it: each retry is a fresh copy that went through a delay queue.
 */
export const QUORUM_DELIVERY_LIMIT = 10;

export function exchange(name: string, type: Exchange['type']): Exchange {
  return { kind: 'exchange', name, type };
}

export function workQueue(opts: {
  name: string;
  owner: string;
  bindings: readonly Binding[];
  deadLetterExchange: Exchange;
  /**
   * One delay queue per delay, `<queue>.retry.<seconds>s`, where `<queue>` is the queue failed
   * messages come back to: the work queue, or its retry lane.
   */
  retryDelaysMs: readonly number[];
  /** Give retried messages a lane of their own, `<name>.retries` (see WorkQueue.retryLane). */
  retryLane?: boolean;
}): WorkQueue {
  if (opts.retryDelaysMs.length === 0) throw new Error(`work queue ${opts.name} needs at least one retry delay`);
  const retryLane = opts.retryLane ? `${opts.name}.retries` : undefined;
  const returnsTo = retryLane ?? opts.name;
  return {
    kind: 'work-queue',
    name: opts.name,
    owner: opts.owner,
    bindings: opts.bindings,
    deadLetterExchange: opts.deadLetterExchange,
    deadLetterQueue: `${opts.name}.dlq`,
    retryTiers: [...opts.retryDelaysMs].sort((a, b) => a - b).map((delayMs) => ({ delayMs, queue: `${returnsTo}.retry.${delayMs / 1000}s`, returnsTo })),
    ...(retryLane ? { retryLane } : {}),
  };
}

export function requestQueue(opts: { name: string; owner: string; bindings: readonly Binding[] }): RequestQueue {
  return { kind: 'request-queue', ...opts };
}

/** What a publisher of these routes declares: their exchanges and the queues they deliver to, as destinations. */
export function routeResources(...routes: Route[]): Resource[] {
  return routes.flatMap((r) => [r.exchange, ...r.deliversTo.map((queue): Destination => ({ kind: 'destination', queue }))]);
}

/** The delay queues of a work queue, shortest delay first. */
export function retryQueuesOf(queue: WorkQueue): string[] {
  return queue.retryTiers.map((t) => t.queue);
}

/** The queues a consumer of this work queue takes messages from: the queue, and its retry lane if it has one. */
export function consumedQueuesOf(queue: WorkQueue): string[] {
  return queue.retryLane ? [queue.name, queue.retryLane] : [queue.name];
}

/**
 * The name of every queue and exchange `declareTopology` creates for these resources (a work
 * queue's dead-letter and delay queues included): what a test or benchmark that made a
 * namespace of its own deletes afterwards.
 */
export function resourceNames(resources: readonly Resource[]): { queues: string[]; exchanges: string[] } {
  const queues = new Set<string>();
  const exchanges = new Set<string>();
  for (const r of resources) {
    if (r.kind === 'exchange') {
      exchanges.add(r.name);
      continue;
    }
    const q = r.kind === 'destination' ? r.queue : r;
    for (const b of q.bindings) exchanges.add(b.exchange.name);
    queues.add(q.name);
    if (q.kind === 'work-queue') {
      exchanges.add(q.deadLetterExchange.name);
      queues.add(q.deadLetterQueue);
      if (r.kind === 'destination') continue;
      if (q.retryLane) queues.add(q.retryLane);
      for (const t of q.retryTiers) queues.add(t.queue);
    }
  }
  return { queues: [...queues], exchanges: [...exchanges] };
}

/**
 * Whether a message published with `routingKey` matches the binding key `pattern` on an exchange
 * of `type`: a fanout binding takes everything, a direct one its own key, a topic one its pattern
 * (`*` one dot-separated word, `#` zero or more).
 */
export function bindingMatches(type: Exchange['type'], pattern: string, routingKey: string): boolean {
  if (type === 'fanout') return true;
  if (type === 'direct' || !/[*#]/.test(pattern)) return pattern === routingKey;
  const p = pattern.split('.');
  const k = routingKey.split('.');
  const from = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    if (p[i] === '#') return from(i + 1, j) || (j < k.length && from(i, j + 1));
    return j < k.length && (p[i] === '*' || p[i] === k[j]) && from(i + 1, j + 1);
  };
  return from(0, 0);
}

/**
 * Whether a delivery from `queue` came in the way the queue lets messages in: through one of its
 * bindings (that exchange, a key the binding matches), or through the default exchange, which
 * routes only by the queue's own name (a delayed copy coming back, a replay; only users that may
 * write to the default exchange can send those). Anything else was routed there by a publisher's
 * `CC`/`BCC` header: RabbitMQ before 4.0.3 checks a topic permission against the routing key
 * alone, so a user allowed one key could reach every binding of the exchange that way; or
 * dead-lettered into the exchange by a queue of the publisher's (deadLetteredByBroker).
 */
export function arrivedAsBound(queue: Queue, exchange: string, routingKey: string, headers: MessageHeaders = {}): boolean {
  if (exchange === '') return true;
  if (deadLetteredByBroker(headers)) return false;
  return queue.bindings.some((b) => b.exchange.name === exchange && bindingMatches(b.exchange.type, b.routingKey, routingKey));
}

/** A delivery's headers, as amqplib gives them (possibly undefined). */
export type MessageHeaders = Record<string, unknown> | undefined;

/**
 * Whether the broker dead-lettered this copy (it adds an `x-death` record each time). Topic
 * permissions are checked when a client publishes, never when the broker dead-letters: a user
 * that may declare a queue (a replica subscription's server-named one) may give it
 * `x-dead-letter-exchange` (any exchange it may write to) and `x-dead-letter-routing-key` (any
 * key), and what expires there comes out under that key. Nothing Warren publishes through an
 * exchange carries `x-death` (a replay drops it: dead-letters.ts); only a delay queue's copy,
 * which comes back by the default exchange, does.
 */
export function deadLetteredByBroker(headers: MessageHeaders): boolean {
  return headers?.['x-death'] !== undefined;
}

/**
 * Declares exactly `resources` (and what each queue needs), exchanges first. A refused
 * declaration or binding throws a BrokerAccessRefused naming the permission it needed (what
 * RabbitMQ checks for each is in docs/decisions/0032-broker-users.md).
 */
export async function declareTopology(ch: Channel, resources: readonly Resource[]): Promise<void> {
  const exchanges = new Map<string, Exchange>();
  // By queue name; the whole work queue wins over a destination of it.
  const queues = new Map<string, Queue | Destination>();
  for (const r of resources) {
    if (r.kind === 'exchange') {
      exchanges.set(r.name, r);
      continue;
    }
    const q = r.kind === 'destination' ? r.queue : r;
    if (r.kind !== 'destination' || !queues.has(q.name)) queues.set(q.name, r);
    for (const b of q.bindings) exchanges.set(b.exchange.name, b.exchange);
    if (q.kind === 'work-queue') exchanges.set(q.deadLetterExchange.name, q.deadLetterExchange);
  }
  for (const x of exchanges.values()) {
    await needing(`configure on exchange '${x.name}'`, () => ch.assertExchange(x.name, x.type, { durable: true }));
  }
  for (const r of queues.values()) {
    const q = r.kind === 'destination' ? r.queue : r;
    if (q.kind === 'work-queue') await declareWorkQueue(ch, q, { delays: r.kind !== 'destination' });
    else await needing(`configure on queue '${q.name}'`, () => ch.assertQueue(q.name, { durable: false, arguments: { 'x-queue-type': 'classic' } }));
    for (const b of q.bindings) await bind(ch, q.name, b.exchange, b.routingKey);
  }
}

async function bind(ch: Channel, queue: string, x: Exchange, routingKey: string): Promise<void> {
  const topic = x.type === 'topic' ? ` and a topic read permission for '${routingKey}' on it` : '';
  await needing(`write on queue '${queue}', read on exchange '${x.name}'${topic}`, () => ch.bindQueue(queue, x.name, routingKey));
}

/** The work queue, its dead-letter queue and binding, and with `delays` its retry lane and delay queues. */
async function declareWorkQueue(ch: Channel, queue: WorkQueue, opts: { delays: boolean }): Promise<void> {
  const dlx = queue.deadLetterExchange;
  await needing(`configure on queue '${queue.deadLetterQueue}'`, () =>
    ch.assertQueue(queue.deadLetterQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
  );
  await bind(ch, queue.deadLetterQueue, dlx, queue.name);
  // The retry lane dead-letters under the work queue's name too: one dead-letter queue for both.
  for (const name of opts.delays ? consumedQueuesOf(queue) : [queue.name]) {
    // RabbitMQ checks a queue's dead-letter exchange when it creates the queue: read on the queue, write on the exchange.
    await needing(`configure and read on queue '${name}', write on exchange '${dlx.name}'`, () =>
      ch.assertQueue(name, {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-dead-letter-exchange': dlx.name,
          'x-dead-letter-routing-key': queue.name,
          'x-delivery-limit': QUORUM_DELIVERY_LIMIT,
        },
      }),
    );
  }
  if (!opts.delays) return;
  for (const tier of queue.retryTiers) {
    // Quorum with at-least-once dead-lettering: a copy is removed from the delay queue only
    // once the work queue has it, so nothing is lost between the two (that strategy needs
    // reject-publish overflow). The default exchange routes the copy back by queue name.
    await needing(`configure and read on queue '${tier.queue}', write on the default exchange 'amq.default'`, () =>
      ch.assertQueue(tier.queue, {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-message-ttl': tier.delayMs,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': tier.returnsTo,
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish',
        },
      }),
    );
  }
}
