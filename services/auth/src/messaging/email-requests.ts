/** The RequestEmail port: emails go to the notification service as `email.requested` events (publisher confirms). */
import { emailRequestedSchema } from '@warren/shared/contracts/email';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import type { Publisher } from '@warren/shared/messaging/publisher';
import type { RequestEmail } from '../domain/ports.js';

export function emailRequester(publisher: Publisher, namespace: string): RequestEmail {
  const exchange = topology(namespace).eventsExchange;
  return async (email) => {
    await publisher.publish(exchange, ROUTING_KEYS.emailRequested, emailRequestedSchema, {
      ...email,
      requestedAt: new Date().toISOString(),
    });
  };
}
