/**
 * Where `session.ended` goes: a durable quorum queue, so the notification service records every
 * ended session even if no replica was running when it was announced, and (per replica) an
 * exclusive queue that closes the session's sockets at once (see session-ended-subscription.ts).
 * Both the auth service (the publisher, before its outbox relay starts) and the notification
 * service declare the durable queue: a publish with no queue bound would be returned as
 * unroutable and hold the outbox. Declarations are idempotent and run on every reconnect.
 */
import type { Channel } from 'amqplib';
import { ROUTING_KEYS, topology } from '../contracts/topology.js';

/** Failed deliveries after which the broker dead-letters an announcement (a poison message). */
const DELIVERY_LIMIT = 10;

export function sessionEndedQueue(namespace: string): string {
  return `${namespace}.notification.sessions`;
}

export async function declareSessionEndedQueue(ch: Channel, namespace: string): Promise<void> {
  const t = topology(namespace);
  const queue = sessionEndedQueue(namespace);
  const dlq = t.deadLetterQueueOf(queue);
  await ch.assertExchange(t.eventsExchange, 'topic', { durable: true });
  await ch.assertExchange(t.deadLetterExchange, 'direct', { durable: true });
  await ch.assertQueue(dlq, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.bindQueue(dlq, t.deadLetterExchange, queue);
  await ch.assertQueue(queue, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-dead-letter-exchange': t.deadLetterExchange,
      'x-dead-letter-routing-key': queue,
      'x-delivery-limit': DELIVERY_LIMIT,
    },
  });
  await ch.bindQueue(queue, t.eventsExchange, ROUTING_KEYS.sessionEnded);
}
