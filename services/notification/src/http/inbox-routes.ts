/** The inbox over REST: a page of the user's notifications, and the exact unread count. */
import type { Express } from 'express';
import { z } from 'zod';
import type { AccessTokenVerifier } from '@warren/shared/auth/access-token-verifier';
import { authOf, requireAuth } from '@warren/shared/auth/require-auth';
import { validateQuery } from '@warren/shared/http/validate';
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

export function mountInboxRoutes(app: Express, deps: { verifier: AccessTokenVerifier; inbox: InboxRepository; readState: ReadStateDeps }) {
  const auth = requireAuth(deps.verifier);

  app.get('/inbox', auth, validateQuery(pageQuerySchema), async (_req, res) => {
    const q = res.locals.query as z.output<typeof pageQuerySchema>;
    const { items, more } = await deps.inbox.page(authOf(res).sub, q.limit, q.before && parsePublicId(q.before));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ items, nextCursor: more ? (items[items.length - 1]?.id ?? null) : null });
  });

  app.get('/inbox/unread-count', auth, async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ count: await deps.inbox.unreadCount(authOf(res).sub) });
  });

  app.post('/inbox/read-all', auth, async (_req, res) => {
    await markAllRead(deps.readState, authOf(res).sub);
    res.status(204).end();
  });

  app.post('/inbox/:id/read', auth, async (req, res) => {
    await markRead(deps.readState, authOf(res).sub, [String(req.params.id)]);
    res.status(204).end();
  });
}
