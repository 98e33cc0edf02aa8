/**
 * The HTTP side of notifications, request and response schemas as the routes validate and answer
 * them: sending (main-backend), the inbox and a send's status (notification service). The
 * routes parse with these and the API documents are generated from them.
 */
import { z } from 'zod';
import { MAX_BATCH_NOTIFICATIONS, notificationContentSchema, recipientsSchema } from './notifications.js';

/** `POST /notifications`: what the message `notification.requested` carries, less what the server adds. */
export const sendNotificationBodySchema = notificationContentSchema.extend({ recipients: recipientsSchema }).strict();
export type SendNotificationBody = z.output<typeof sendNotificationBodySchema>;

/** 202 of `POST /notifications`: the id every recipient's copy carries as `notificationId`. */
export const sendNotificationResponseSchema = z.object({ id: z.uuid() });

/** `POST /notifications/batch`: 1 to 100 bodies as `POST /notifications` takes them. */
export const sendNotificationBatchBodySchema = z
  .object({ notifications: z.array(sendNotificationBodySchema).min(1).max(MAX_BATCH_NOTIFICATIONS) })
  .strict();
export type SendNotificationBatchBody = z.output<typeof sendNotificationBatchBodySchema>;

/** 202 of `POST /notifications/batch`: one id per notification, in the order they were given. */
export const sendNotificationBatchResponseSchema = z.object({ ids: z.array(z.uuid()) });

/**
 * Who sent a notification: the user the send was made by, with the name the user directory
 * holds for them (null if it has none yet), or null for a notification the system sent itself.
 */
export const senderSchema = z
  .object({ id: z.uuid(), name: z.string().nullable() })
  .nullable()
  .meta({ description: 'Who sent it: `{id, name}` (name null while the directory has none), or null for what the system sent itself.' });
export type Sender = z.infer<typeof senderSchema>;

/** A notification as clients see it: REST, WebSocket frames and the live messages carry this. */
export const notificationSchema = z.object({
  id: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .meta({ description: "16 lowercase hex digits; one user's ids compare as strings in the order they were created.", example: '000000000000002a' }),
  notificationId: z.uuid().meta({ description: 'The id the send answered, shared by every recipient of that send.' }),
  sender: senderSchema,
  type: z.string(),
  title: z.string(),
  body: z.string(),
  data: z.record(z.string(), z.unknown()),
  createdAt: z.iso.datetime(),
  readAt: z.iso.datetime().nullable(),
});
export type Notification = z.infer<typeof notificationSchema>;

/** `GET /inbox`: newest first; `nextCursor` is the `before=` of the next page, null on the last. */
export const inboxPageSchema = z.object({ items: z.array(notificationSchema), nextCursor: z.string().nullable() });

/**
 * `GET /notifications/:id` (notification service): what became of one send, for its sender or
 * an admin. `recipients`: inbox rows stored for it; `read`: how many of them are read;
 * `unknownUserIds`: named user ids that matched no user (they stored nothing).
 */
export const sendStatusSchema = z.object({
  id: z.uuid(),
  sender: senderSchema,
  title: z.string(),
  createdAt: z.string(),
  recipients: z.number().int().min(0),
  read: z.number().int().min(0),
  unknownUserIds: z.array(z.uuid()),
});
export type SendStatus = z.infer<typeof sendStatusSchema>;
