/**
 * What the notification service answers its clients, over REST and over the WebSocket: the
 * notification as a recipient sees it, an inbox page, and the frames the server sends on `/ws`.
 * `@warren/client` takes its types from these (type-only, so no zod reaches a browser bundle);
 * the end-to-end tests parse real answers with them, so they cannot drift from what the service
 * sends.
 */
import { z } from 'zod';
import { notificationSchema } from './live.js';

/** Who sent a notification; `null` for what the system sends itself. */
export const senderSchema = z.object({ id: z.uuid(), name: z.string() });

/**
 * One recipient's copy of a notification, as the contract fixes it: the notification of the
 * live messages (`live.ts`) plus `notificationId`, the id the send answered (shared by every
 * recipient of that send), and `sender`.
 */
export const inboxNotificationSchema = notificationSchema.extend({
  notificationId: z.uuid(),
  sender: senderSchema.nullable(),
});
export type InboxNotification = z.infer<typeof inboxNotificationSchema>;

/** `GET /inbox`: newest first; pass `nextCursor` as `before` for the next (older) page. */
export const inboxPageSchema = z.object({
  items: z.array(inboxNotificationSchema),
  nextCursor: z.string().nullable(),
});
export type InboxPage = z.infer<typeof inboxPageSchema>;

/**
 * Frames the server sends on `/ws` (docs/api.md, "WebSocket"), as a client reads them. (The
 * notification service types its sends with services/notification/src/ws/outbound-frames.ts.)
 */
export const serverFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), unreadCount: z.number().int().min(0) }),
  z.object({ type: z.literal('notification'), notification: inboxNotificationSchema }),
  z.object({
    type: z.literal('read'),
    ids: z.array(z.string()).optional(),
    all: z.literal(true).optional(),
    unreadCount: z.number().int().min(0),
  }),
  z.object({ type: z.literal('auth_ok'), expiresAt: z.iso.datetime() }),
  z.object({ type: z.literal('pong') }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;
