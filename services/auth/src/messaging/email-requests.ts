/** Hands emails to the notification service as `email.requested` events (publisher confirms). */
import { emailRequestedSchema, type EmailRequestedInput } from '@warren/shared/contracts/email';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import type { Publisher } from '@warren/shared/messaging/publisher';

export function emailRequester(publisher: Publisher, namespace: string) {
  const exchange = topology(namespace).eventsExchange;
  return async (email: Omit<EmailRequestedInput, 'requestedAt'>): Promise<void> => {
    await publisher.publish(exchange, ROUTING_KEYS.emailRequested, emailRequestedSchema, {
      ...email,
      requestedAt: new Date().toISOString(),
    });
  };
}
