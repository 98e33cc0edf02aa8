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
  const authenticated = requireAuth(deps.verifier, deps.ended);

  app.get('/inbox', authenticated, async (req, res) => {
    const q = queryOf(pageQuerySchema, req);
    const { items, more } = await deps.inbox.page(authOf(req).sub, q.limit, q.before && parsePublicId(q.before));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ items, nextCursor: more ? (items[items.length - 1]?.id ?? null) : null });
  });

  app.get('/inbox/unread-count', authenticated, async (req, res) => {
    const count = await deps.inbox.unreadCount(authOf(req).sub);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ count });
  });

  app.post('/inbox/read-all', authenticated, async (req, res) => {
    await markAllRead(deps.readState, authOf(req).sub);
    res.status(204).end();
  });

  app.post('/inbox/:id/read', authenticated, async (req, res) => {
    await markRead(deps.readState, authOf(req).sub, [String(req.params.id)]);
    res.status(204).end();
  });
}
