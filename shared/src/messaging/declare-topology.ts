/**
 * Declares Warren's whole broker topology. Every service runs it on every (re)connection:
 * declarations are idempotent, and a message published before its consumer ever started
 * still lands in its durable queue instead of being dropped as unroutable.
 */
import type { Channel } from 'amqplib';
import { AUTH_RPC_ROUTING_KEYS } from '../contracts/auth-rpc.js';
import { ROUTING_KEYS, topology } from '../contracts/topology.js';

/**
 * After this many deliveries of one copy a message is dead-lettered by the broker itself: a
 * backstop for a message that kills its consumer's channel or process every time. Retries do
 * not count against it: each retry is a fresh copy that went through a delay queue.
 */
export const QUORUM_DELIVERY_LIMIT = 10;

/**
 * The delay tiers of every work queue: a failed message waits in `<queue>.retry.<n>s` and the
 * broker dead-letters it back to the work queue when its time is up. One queue per tier, so
 * every message in a queue has the same TTL and expires at its head, in order: a long delay
 * never holds a short one behind it. 15 s at most, so a consumer whose database came back
 * catches up within seconds, while an outage costs one attempt per message per 15 s.
 */
export const RETRY_DELAYS_MS = [1_000, 5_000, 15_000] as const;

/** The delay queue of `queue` for a delay of `delayMs` (one of RETRY_DELAYS_MS). */
export function retryQueueOf(queue: string, delayMs: number): string {
  return `${queue}.retry.${delayMs / 1000}s`;
}

/** Every delay queue of `queue`, shortest delay first. */
export function retryQueuesOf(queue: string): string[] {
  return RETRY_DELAYS_MS.map((ms) => retryQueueOf(queue, ms));
}

/**
 * Every queue and exchange `declareTopology` creates for a namespace (work queues with their
 * dead-letter and delay queues, the RPC queue): what a test or benchmark that made a namespace
 * of its own deletes afterwards.
 */
export function namespaceResources(namespace: string): { queues: string[]; exchanges: string[] } {
  const t = topology(namespace);
  const work = [t.notificationRequestsQueue, t.notificationUsersQueue, t.emailRequestsQueue, t.notificationSessionsQueue];
  return {
    queues: [...work.flatMap((q) => [q, t.deadLetterQueueOf(q), ...retryQueuesOf(q)]), t.authRpcQueue],
    exchanges: [t.eventsExchange, t.rpcExchange, t.deadLetterExchange, t.liveExchange],
  };
}

export async function declareTopology(ch: Channel, namespace: string): Promise<void> {
  const t = topology(namespace);
  await ch.assertExchange(t.eventsExchange, 'topic', { durable: true });
  await ch.assertExchange(t.rpcExchange, 'direct', { durable: true });
  await ch.assertExchange(t.deadLetterExchange, 'direct', { durable: true });
  await ch.assertExchange(t.liveExchange, 'fanout', { durable: true });

  await declareWorkQueue(ch, t.deadLetterExchange, t.notificationRequestsQueue, 'quorum');
  await ch.bindQueue(t.notificationRequestsQueue, t.eventsExchange, ROUTING_KEYS.notificationRequested);
  await ch.bindQueue(t.notificationRequestsQueue, t.eventsExchange, ROUTING_KEYS.notificationBatchRequested);
  await declareWorkQueue(ch, t.deadLetterExchange, t.notificationUsersQueue, 'quorum');
  await ch.bindQueue(t.notificationUsersQueue, t.eventsExchange, ROUTING_KEYS.userUpserted);
  await declareWorkQueue(ch, t.deadLetterExchange, t.emailRequestsQueue, 'quorum');
  await ch.bindQueue(t.emailRequestsQueue, t.eventsExchange, ROUTING_KEYS.emailRequested);
  // Declared by every service, auth included: a session.ended published before any notification
  // replica ever started still lands here instead of being returned as unroutable.
  await declareWorkQueue(ch, t.deadLetterExchange, t.notificationSessionsQueue, 'quorum');
  await ch.bindQueue(t.notificationSessionsQueue, t.eventsExchange, ROUTING_KEYS.sessionEnded);

  // RPC requests are transient and expire (a classic queue honours per-message TTL). They get
  // no dead-letter exchange on purpose: an expired login request carries a password, and
  // dead-lettering would keep it on the broker. Expired or unanswerable requests are dropped.
  await ch.assertQueue(t.authRpcQueue, { durable: true, arguments: { 'x-queue-type': 'classic' } });
  for (const key of AUTH_RPC_ROUTING_KEYS) {
    await ch.bindQueue(t.authRpcQueue, t.rpcExchange, key);
  }
}

async function declareWorkQueue(ch: Channel, dlx: string, queue: string, type: 'quorum') {
  const dlq = `${queue}.dlq`;
  await ch.assertQueue(dlq, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.bindQueue(dlq, dlx, queue);
  await ch.assertQueue(queue, {
    durable: true,
    arguments: {
      'x-queue-type': type,
      'x-dead-letter-exchange': dlx,
      'x-dead-letter-routing-key': queue,
      'x-delivery-limit': QUORUM_DELIVERY_LIMIT,
    },
  });
  for (const ms of RETRY_DELAYS_MS) {
    // Quorum with at-least-once dead-lettering: a copy is removed from the delay queue only
    // once the work queue has it, so nothing is lost between the two (that strategy needs
    // reject-publish overflow). The default exchange routes the copy back by queue name.
    await ch.assertQueue(retryQueueOf(queue, ms), {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-message-ttl': ms,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': queue,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
  }
}
