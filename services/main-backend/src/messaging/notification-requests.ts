/** The PublishNotificationRequest port: `notification.requested` on the events exchange, with publisher confirms. */
import { notificationRequestedSchema } from '@warren/shared/contracts/notifications';
import { topology } from '@warren/shared/contracts/topology';
import type { Publisher } from '@warren/shared/messaging/publisher';
import type { PublishNotificationRequest } from '../domain/ports.js';

export function notificationRequester(publisher: Publisher, namespace: string): PublishNotificationRequest {
  const { exchange, routingKey } = topology(namespace).events.notificationRequested;
  return async (message) => {
    // Validated at the edge already (see the port): a second parse was ~4 % of the send path's CPU.
    await publisher.publishValidated(exchange.name, routingKey, notificationRequestedSchema, message, {
      messageId: message.notificationId,
    });
  };
}
