/** Hands emails to the notification service as `email.requested` events (publisher confirms). */
import { emailRequestedSchema, type EmailRequestedInput } from '@warren/shared/contracts/email';
import { topology } from '@warren/shared/contracts/topology';
import type { Publisher } from '@warren/shared/messaging/publisher';

export function emailRequester(publisher: Publisher, namespace: string) {
  const { exchange, routingKey } = topology(namespace).events.emailRequested;
  return async (email: Omit<EmailRequestedInput, 'requestedAt'>): Promise<void> => {
    await publisher.publish(exchange.name, routingKey, emailRequestedSchema, {
      ...email,
      requestedAt: new Date().toISOString(),
    });
  };
}
