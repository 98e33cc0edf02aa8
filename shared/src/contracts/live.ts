/**
 * Messages on the live-delivery exchange (`<ns>.live`, fanout): every notification replica
 * has its own exclusive queue bound to it and pushes what it receives to the sockets it holds.
 * Transient: the database is the source of truth; a lost live message is caught up by the
 * client with `?after=`. One message carries a whole stored batch.
 */
import { z } from 'zod';
import { inboxNotificationSchema } from './inbox.js';
import { parseTraceparent } from '../trace-context.js';

export const liveMessageSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('notifications'),
    /** Contiguous insert number: replicas deliver batches in this order and notice a missing one. */
    batch: z.number().int().positive(),
    entries: z.array(
      z.object({
        userId: z.uuid(),
        seq: z.number().int().positive(),
        notification: inboxNotificationSchema,
        /** The send's W3C traceparent, for the socket's log line; a malformed one is dropped, never the batch. */
        traceparent: z
          .string()
          .refine((v) => parseTraceparent(v) !== undefined)
          .optional()
          .catch(undefined),
      }),
    ),
  }),
  z.object({
    kind: z.literal('read'),
    userId: z.uuid(),
    ids: z.array(z.string()).optional(),
    all: z.boolean().optional(),
    unreadCount: z.number().int().min(0),
  }),
  /** Ids made unread again (POST /inbox/:id/unread); a replica older than this kind drops it (transient anyway). */
  z.object({
    kind: z.literal('unread'),
    userId: z.uuid(),
    ids: z.array(z.string()).min(1),
    unreadCount: z.number().int().min(0),
  }),
]);
export type LiveMessage = z.infer<typeof liveMessageSchema>;
