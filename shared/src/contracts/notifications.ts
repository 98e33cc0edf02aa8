/** Messages about notifications. Producers and consumers both validate with these schemas. */
import { z } from 'zod';
import { jsonObject, text } from './text.js';

export const ROLES = ['admin', 'manager', 'employee'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

/**
 * Ids are the auth service's user ids (UUIDs), in the lower case auth writes them: an id given
 * in upper case is the same user, and is lowered when parsed so every path (HTTP, broker, the
 * directory, the send status) compares it as the same string.
 */
export const userIdSchema = z.uuid().toLowerCase();

/** A send's id, lowered like user ids (its rows, status and conflict check all see one spelling). */
const notificationIdSchema = z.uuid().toLowerCase();

export const recipientsSchema = z
  .object({
    userIds: z.array(userIdSchema).max(1000).optional(),
    roles: z.array(roleSchema).max(ROLES.length).optional(),
  })
  .strict()
  .refine((r) => (r.userIds?.length ?? 0) + (r.roles?.length ?? 0) > 0, {
    message: 'name at least one user id or role',
  });

/**
 * JSON object, bounded in size and depth (32 levels) so one message cannot blow up a consumer
 * or a socket, and storable: no U+0000 in any key or value.
 */
export const notificationDataSchema = jsonObject({ maxLength: 8192, lengthMessage: 'data must serialise to at most 8 KiB' }).meta({
  description: 'Free-form JSON object for the client: at most 8 KiB serialised, nested at most 32 levels, no U+0000 in any key or value.',
});

export const notificationContentSchema = z.object({
  title: text().trim().min(1).max(200),
  body: text().max(4000),
  type: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, ".", "_" or "-", at most 64')
    .default('general'),
  data: notificationDataSchema.default({}),
});

/**
 * `notification.requested` on the events exchange. `notificationId` is the id that
 * POST /notifications answered; consumers use it (with the user id) to stay idempotent.
 */
export const notificationRequestedSchema = notificationContentSchema.extend({
  notificationId: notificationIdSchema,
  recipients: recipientsSchema,
  requestedBy: z.object({ userId: userIdSchema }).strict().optional(),
  requestedAt: z.iso.datetime(),
});
export type NotificationRequested = z.infer<typeof notificationRequestedSchema>;
export type NotificationRequestedInput = z.input<typeof notificationRequestedSchema>;

/** Notifications per `POST /notifications/batch` and per `notification.batch.requested` message. */
export const MAX_BATCH_NOTIFICATIONS = 100;

/**
 * Named user ids across all the notifications of one `POST /notifications/batch`: each unknown id
 * costs the consumer a lookup with auth, so 100 × 1 000 made-up ids would hold the pipeline for
 * seconds per batch.
 */
export const MAX_BATCH_USER_IDS = 5000;

/**
 * `notification.batch.requested` on the events exchange: several notifications in one message,
 * stored in one transaction in the order given (so each recipient gets them in that order).
 * Each carries its own `notificationId`, as `notification.requested` does; the sender and time
 * are the batch's. `notification.requested` stays as it is: this is an addition beside it.
 */
export const notificationBatchRequestedSchema = z.object({
  notifications: z
    .array(notificationContentSchema.extend({ notificationId: notificationIdSchema, recipients: recipientsSchema }))
    .min(1)
    .max(MAX_BATCH_NOTIFICATIONS),
  requestedBy: z.object({ userId: userIdSchema }).strict().optional(),
  requestedAt: z.iso.datetime(),
});
export type NotificationBatchRequested = z.infer<typeof notificationBatchRequestedSchema>;
export type NotificationBatchRequestedInput = z.input<typeof notificationBatchRequestedSchema>;

/**
 * What the notification requests queue carries: either message, told apart by its shape (a
 * `notifications` array is a batch), each validated by its own schema so that a refused message
 * is dead-lettered with the paths of its own fields.
 */
export const notificationRequestMessageSchema = z.unknown().transform((value, ctx): NotificationRequested | NotificationBatchRequested => {
  const isBatch = typeof value === 'object' && value !== null && 'notifications' in value;
  const result = (isBatch ? notificationBatchRequestedSchema : notificationRequestedSchema).safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});

/** The notifications a request message asks for, each as `notification.requested` would carry it. */
export function requestedNotifications(message: NotificationRequested | NotificationBatchRequested): NotificationRequested[] {
  if (!('notifications' in message)) return [message];
  return message.notifications.map((n) => ({ ...n, requestedBy: message.requestedBy, requestedAt: message.requestedAt }));
}
