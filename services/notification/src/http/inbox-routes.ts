/** The inbox over REST: a page of the user's notifications, and the exact unread count. */
import { z } from 'zod';
import type { AccessTokenVerifier } from '@warren/shared/auth/access-token-verifier';
import type { EndedSessions } from '@warren/shared/auth/ended-sessions';
import { authOf, requireAuth } from '@warren/shared/auth/require-auth';
import type { HttpApp } from '@warren/shared/http/app';
import { queryOf } from '@warren/shared/http/validate';
import type { InboxRepository } from '../db/inbox-repository.js';
import { parsePublicId } from '../domain/notification-id.js';
import { markAllRead, markRead, type ReadStateDeps } from '../domain/read-state.js';

const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: z
    .string()
    .optional()
    .refine((v) => v === undefined || parsePublicId(v) !== undefined, 'must be a notification id'),
});

export function mountInboxRoutes(
  app: HttpApp,
  deps: { verifier: AccessTokenVerifier; ended: EndedSessions; inbox: InboxRepository; readState: ReadStateDeps },
) {
  // A token of a session that has ended (logout, password reset, ...) is refused at once.
  const authenticated = { preHandler: requireAuth(deps.verifier, deps.ended) };

  app.get('/inbox', authenticated, async (req, reply) => {
    const q = queryOf(pageQuerySchema, req);
    const { items, more } = await deps.inbox.page(authOf(req).sub, q.limit, q.before && parsePublicId(q.before));
    reply.header('Cache-Control', 'no-store');
    return { items, nextCursor: more ? (items[items.length - 1]?.id ?? null) : null };
  });

  app.get('/inbox/unread-count', authenticated, async (req, reply) => {
    reply.header('Cache-Control', 'no-store');
    return { count: await deps.inbox.unreadCount(authOf(req).sub) };
  });

  app.post('/inbox/read-all', authenticated, async (req, reply) => {
    await markAllRead(deps.readState, authOf(req).sub);
    reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>('/inbox/:id/read', authenticated, async (req, reply) => {
    await markRead(deps.readState, authOf(req).sub, [req.params.id]);
    reply.code(204).send();
  });
}
