/** The RequestEmail port: emails go to the notification service as `email.requested` events (publisher confirms). */
import { emailRequestedSchema } from '@warren/shared/contracts/email';
import { topology } from '@warren/shared/contracts/topology';
import type { Publisher } from '@warren/shared/messaging/publisher';
import type { RequestEmail } from '../domain/ports.js';

export function emailRequester(publisher: Publisher, namespace: string): RequestEmail {
  const { exchange, routingKey } = topology(namespace).events.emailRequested;
  return async (email) => {
    await publisher.publish(exchange.name, routingKey, emailRequestedSchema, {
      ...email,
      requestedAt: new Date().toISOString(),
    });
  };
}
