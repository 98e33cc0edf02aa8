/**
 * What the notification service answers its clients, over REST and over the WebSocket: the
 * notification as a recipient sees it, an inbox page, and the frames the server sends on `/ws`.
 * `@warren/client` takes its types from these (type-only, so no zod reaches a browser bundle);
 * the end-to-end tests parse real answers with them, so they cannot drift from what the service
 * sends.
 */
import { z } from 'zod';

/**
 * Who sent a notification: the user the send was made by, with the name the notification
 * service's user directory holds for them (null while it has none: a user id auth does not
 * know). The notification's `sender` is null for what the system sends itself.
 */
export const senderSchema = z
  .object({ id: z.uuid(), name: z.string().nullable() })
  .meta({ description: 'The user who sent it; `name` is null while the directory has no name for them.' });
export type Sender = z.infer<typeof senderSchema>;

/**
 * One recipient's copy of a notification, as the contract fixes it, the same over REST, on the
 * socket and in the live messages between replicas (`live.ts`): `notificationId` is the id the
 * send answered (shared by every recipient of that send), `sender` who sent it.
 */
export const inboxNotificationSchema = z.object({
  id: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .meta({ description: "16 lowercase hex digits; one user's ids compare as strings in the order they were created.", example: '000000000000002a' }),
  notificationId: z.uuid().meta({ description: 'The id the send answered, shared by every recipient of that send.' }),
  sender: senderSchema.nullable().meta({ description: 'Who sent it, or null for what the system sent itself.' }),
  type: z.string(),
  title: z.string(),
  body: z.string(),
  data: z.record(z.string(), z.unknown()),
  createdAt: z.iso.datetime(),
  readAt: z.iso.datetime().nullable(),
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
  z.object({ type: z.literal('unread'), ids: z.array(z.string()), unreadCount: z.number().int().min(0) }),
  z.object({ type: z.literal('auth_ok'), expiresAt: z.iso.datetime() }),
  z.object({ type: z.literal('pong') }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;
