/**
 * The HTTP side of sending notifications, request and response schemas as the routes validate
 * and answer them: sending one or a batch (main-backend) and a send's status (notification
 * service). The inbox and the socket's shapes are in inbox.ts.
 */
import { z } from 'zod';
import { senderSchema } from './inbox.js';
import { MAX_BATCH_NOTIFICATIONS, MAX_BATCH_USER_IDS, notificationContentSchema, recipientsSchema } from './notifications.js';

/** `POST /notifications`: what the message `notification.requested` carries, less what the server adds. */
export const sendNotificationBodySchema = notificationContentSchema.extend({ recipients: recipientsSchema }).strict();
export type SendNotificationBody = z.output<typeof sendNotificationBodySchema>;

/** 202 of `POST /notifications`: the id every recipient's copy carries as `notificationId`. */
export const sendNotificationResponseSchema = z.object({ id: z.uuid() });

/** `POST /notifications/batch`: 1 to 100 bodies as `POST /notifications` takes them. */
export const sendNotificationBatchBodySchema = z
  .object({
    notifications: z
      .array(sendNotificationBodySchema)
      .min(1)
      .max(MAX_BATCH_NOTIFICATIONS)
      .refine((ns) => ns.reduce((sum, n) => sum + (n.recipients.userIds?.length ?? 0), 0) <= MAX_BATCH_USER_IDS, {
        message: `at most ${MAX_BATCH_USER_IDS} user ids in all the notifications of one batch`,
      })
      .meta({ description: `1 to ${MAX_BATCH_NOTIFICATIONS} notifications, naming at most ${MAX_BATCH_USER_IDS} user ids in all.` }),
  })
  .strict();
export type SendNotificationBatchBody = z.output<typeof sendNotificationBatchBodySchema>;

/** 202 of `POST /notifications/batch`: one id per notification, in the order they were given. */
export const sendNotificationBatchResponseSchema = z.object({ ids: z.array(z.uuid()) });

/**
 * `GET /notifications/:id` (notification service): what became of one send, for its sender or
 * an admin. `recipients`: inbox rows stored for it; `read`: how many of them are read;
 * `unknownUserIds`: named user ids that matched no user (they stored nothing).
 */
export const sendStatusSchema = z.object({
  id: z.uuid(),
  sender: senderSchema.nullable(),
  title: z.string(),
  createdAt: z.iso.datetime(),
  recipients: z.number().int().min(0),
  read: z.number().int().min(0),
  unknownUserIds: z.array(z.uuid()),
});
export type SendStatus = z.infer<typeof sendStatusSchema>;
