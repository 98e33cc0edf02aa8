/**
 * The HTTP side of sending notifications, request and response schemas as the routes validate
 * and answer them: sending one or a batch (main-backend) and a send's status (notification
 * service), and the list of what a user sent (notification service). The inbox and the socket's
 * shapes are in inbox.ts.
 */
import { z } from 'zod';
import { senderSchema } from './inbox.js';
import { MAX_BATCH_NOTIFICATIONS, MAX_BATCH_USER_IDS, notificationContentSchema, recipientsSchema, roleSchema } from './notifications.js';

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

/** Named users a sent-list item shows by name (`to.users`): the rest are counted (`to.userCount`). */
export const SENT_LIST_NAMED_USERS = 5;
/** Unknown ids a sent-list item carries (`unknownUserIds`): the rest are counted (`unknownUserCount`). */
export const SENT_LIST_UNKNOWN_IDS = 10;

/**
 * Whom a send was addressed to, as it asked: the roles it named and the user ids it named (each
 * once, in the order given, known or not), the first few of them with the name the directory
 * holds (null: none, e.g. an id that matched no user).
 */
export const sentToSchema = z
  .object({
    roles: z.array(roleSchema).meta({ description: 'The roles it named (everyone holding one when it was stored).' }),
    userCount: z.number().int().min(0).meta({ description: 'How many user ids it named, known or not.' }),
    users: z
      .array(z.object({ id: z.uuid(), name: z.string().nullable() }))
      .max(SENT_LIST_NAMED_USERS)
      .meta({ description: `The first ${SENT_LIST_NAMED_USERS} of them, in the order given, with their names (null: the directory has none).` }),
  })
  .meta({ description: 'Whom it was addressed to; null for a send stored before this was recorded.' });

/**
 * One item of `GET /notifications/sent`: a send's status (as `GET /notifications/:id` answers it)
 * and whom it was addressed to, with a bounded size however many ids it named: `unknownUserIds`
 * holds at most the first few of `unknownUserCount` (`GET /notifications/:id` has them all).
 */
export const sentItemSchema = sendStatusSchema.extend({
  unknownUserIds: z
    .array(z.uuid())
    .max(SENT_LIST_UNKNOWN_IDS)
    .meta({ description: `The first ${SENT_LIST_UNKNOWN_IDS} of the named user ids that matched no user; \`GET /notifications/:id\` answers them all.` }),
  unknownUserCount: z.number().int().min(0).meta({ description: 'How many named user ids matched no user.' }),
  to: sentToSchema.nullable(),
});
export type SentItem = z.infer<typeof sentItemSchema>;

/** `GET /notifications/sent`: a page of the caller's own sends, newest first. */
export const sentPageSchema = z.object({
  items: z.array(sentItemSchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass as `before` for the next (older) page; null on the last.' }),
});
export type SentPage = z.infer<typeof sentPageSchema>;
