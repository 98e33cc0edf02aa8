/**
 * Broker resources as data, and their declaration. A system describes its exchanges and queues
 * with the builders below; each publisher, consumer and RPC party is handed the resources it
 * uses and declares exactly those, on every (re)connection (declarations are idempotent).
 * Declaring a queue brings along what it cannot work without: the exchanges of its bindings,
 * and for a work queue its dead-letter exchange, dead-letter queue, delay queues and retry lane.
 * Nothing here knows any system's names: those live with the system (for Warren,
 * shared/src/contracts/topology.ts).
 */
import type { Channel } from 'amqplib';

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
export type Resource = Exchange | Queue;

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

/** What a publisher of these routes declares: their exchanges and the queues they deliver to. */
export function routeResources(...routes: Route[]): Resource[] {
  return routes.flatMap((r) => [r.exchange, ...r.deliversTo]);
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
    for (const b of r.bindings) exchanges.add(b.exchange.name);
    queues.add(r.name);
    if (r.kind === 'work-queue') {
      exchanges.add(r.deadLetterExchange.name);
      queues.add(r.deadLetterQueue);
      if (r.retryLane) queues.add(r.retryLane);
      for (const t of r.retryTiers) queues.add(t.queue);
    }
  }
  return { queues: [...queues], exchanges: [...exchanges] };
}

/** Declares exactly `resources` (and what each queue needs), exchanges first. */
export async function declareTopology(ch: Channel, resources: readonly Resource[]): Promise<void> {
  const exchanges = new Map<string, Exchange>();
  const queues = new Map<string, Queue>();
  for (const r of resources) {
    if (r.kind === 'exchange') {
      exchanges.set(r.name, r);
      continue;
    }
    queues.set(r.name, r);
    for (const b of r.bindings) exchanges.set(b.exchange.name, b.exchange);
    if (r.kind === 'work-queue') exchanges.set(r.deadLetterExchange.name, r.deadLetterExchange);
  }
  for (const x of exchanges.values()) await ch.assertExchange(x.name, x.type, { durable: true });
  for (const q of queues.values()) {
    if (q.kind === 'work-queue') await declareWorkQueue(ch, q);
    else await ch.assertQueue(q.name, { durable: false, arguments: { 'x-queue-type': 'classic' } });
    for (const b of q.bindings) await ch.bindQueue(q.name, b.exchange.name, b.routingKey);
  }
}

async function declareWorkQueue(ch: Channel, queue: WorkQueue): Promise<void> {
  const dlx = queue.deadLetterExchange.name;
  await ch.assertQueue(queue.deadLetterQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.bindQueue(queue.deadLetterQueue, dlx, queue.name);
  // The retry lane dead-letters under the work queue's name too: one dead-letter queue for both.
  for (const name of consumedQueuesOf(queue)) {
    await ch.assertQueue(name, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-dead-letter-exchange': dlx,
        'x-dead-letter-routing-key': queue.name,
        'x-delivery-limit': QUORUM_DELIVERY_LIMIT,
      },
    });
  }
  for (const tier of queue.retryTiers) {
    // Quorum with at-least-once dead-lettering: a copy is removed from the delay queue only
    // once the work queue has it, so nothing is lost between the two (that strategy needs
    // reject-publish overflow). The default exchange routes the copy back by queue name.
    await ch.assertQueue(tier.queue, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-message-ttl': tier.delayMs,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': tier.returnsTo,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
  }
}
