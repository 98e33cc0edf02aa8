/**
 * The PublishNotificationRequest and PublishNotificationBatchRequest ports: `notification.requested`
 * and `notification.batch.requested` on the events exchange, with publisher confirms.
 */
import { notificationBatchRequestedSchema, notificationRequestedSchema } from '@warren/shared/contracts/notifications';
import { topology } from '@warren/shared/contracts/topology';
import type { Publisher } from '@warren/shared/messaging/publisher';
import type { PublishNotificationBatchRequest, PublishNotificationRequest } from '../domain/ports.js';

export function notificationRequester(publisher: Publisher, namespace: string): PublishNotificationRequest {
  const { exchange, routingKey } = topology(namespace).events.notificationRequested;
  return async (message) => {
    // Validated at the edge already (see the port): a second parse was ~4 % of the send path's CPU.
    await publisher.publishValidated(exchange.name, routingKey, notificationRequestedSchema, message, {
      messageId: message.notificationId,
    });
  };
}

export function notificationBatchRequester(publisher: Publisher, namespace: string): PublishNotificationBatchRequest {
  const { exchange, routingKey } = topology(namespace).events.notificationBatchRequested;
  return async (message) => {
    await publisher.publishValidated(exchange.name, routingKey, notificationBatchRequestedSchema, message, {
      messageId: (message.notifications[0] as { notificationId: string }).notificationId,
    });
  };
}
