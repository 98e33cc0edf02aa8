/**
 * Declares Warren's whole broker topology. Every service runs it on every (re)connection:
 * declarations are idempotent, and a message published before its consumer ever started
 * still lands in its durable queue instead of being dropped as unroutable.
 */
import type { Channel } from 'amqplib';
import { AUTH_RPC_ROUTING_KEYS } from '../contracts/auth-rpc.js';
import { ROUTING_KEYS, topology } from '../contracts/topology.js';

/** After this many failed deliveries a message is dead-lettered by the broker itself. */
export const QUORUM_DELIVERY_LIMIT = 10;

export async function declareTopology(ch: Channel, namespace: string): Promise<void> {
  const t = topology(namespace);
  await ch.assertExchange(t.eventsExchange, 'topic', { durable: true });
  await ch.assertExchange(t.rpcExchange, 'direct', { durable: true });
  await ch.assertExchange(t.deadLetterExchange, 'direct', { durable: true });
  await ch.assertExchange(t.liveExchange, 'fanout', { durable: true });

  await declareWorkQueue(ch, t.deadLetterExchange, t.notificationRequestsQueue, 'quorum');
  await ch.bindQueue(t.notificationRequestsQueue, t.eventsExchange, ROUTING_KEYS.notificationRequested);
  await declareWorkQueue(ch, t.deadLetterExchange, t.notificationUsersQueue, 'quorum');
  await ch.bindQueue(t.notificationUsersQueue, t.eventsExchange, ROUTING_KEYS.userUpserted);
  await declareWorkQueue(ch, t.deadLetterExchange, t.emailRequestsQueue, 'quorum');
  await ch.bindQueue(t.emailRequestsQueue, t.eventsExchange, ROUTING_KEYS.emailRequested);

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
}
