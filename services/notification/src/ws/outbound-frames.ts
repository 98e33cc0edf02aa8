/**
 * Frames the server sends on /ws. The gateway's sends are typed with these, and the AsyncAPI
 * document (asyncapi.ts) is generated from them, so the two cannot drift apart.
 */
import { z } from 'zod';
import { inboxNotificationSchema } from '@warren/shared/contracts/inbox';

const unreadCount = z.number().int().min(0).meta({ description: 'The exact unread count after the change.' });

export const outboundFrameSchemas = {
  ready: z.object({ type: z.literal('ready'), unreadCount: z.number().int().min(0) }).strict(),
  notification: z.object({ type: z.literal('notification'), notification: inboxNotificationSchema }).strict(),
  read: z.union([
    z.object({ type: z.literal('read'), ids: z.array(z.string()).min(1), unreadCount }).strict(),
    z.object({ type: z.literal('read'), all: z.literal(true), unreadCount }).strict(),
  ]),
  unread: z.object({ type: z.literal('unread'), ids: z.array(z.string()).min(1), unreadCount }).strict(),
  authOk: z.object({ type: z.literal('auth_ok'), expiresAt: z.iso.datetime().meta({ description: 'When the new token expires.' }) }).strict(),
  pong: z.object({ type: z.literal('pong') }).strict(),
  error: z
    .object({
      type: z.literal('error'),
      code: z.string().meta({ description: '`invalid_frame`, `notification_not_found`, `service_unavailable` (renewal: keys unreachable; the current token holds), or a problem code such as `database_unavailable`.' }),
      message: z.string(),
    })
    .strict(),
};

export type OutboundFrame = { [K in keyof typeof outboundFrameSchemas]: z.input<(typeof outboundFrameSchemas)[K]> }[keyof typeof outboundFrameSchemas];
