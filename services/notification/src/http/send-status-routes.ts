/** GET /notifications/:id: the status of a send, for its sender or an admin (domain/send-status.ts). */
import type { AccessTokenVerifier } from '@warren/shared/auth/access-token-verifier';
import type { EndedSessions } from '@warren/shared/auth/ended-sessions';
import { authOf, requireAuth } from '@warren/shared/auth/require-auth';
import type { HttpApp } from '@warren/shared/http/app';
import { sendStatusFor, type SendStatusDeps } from '../domain/send-status.js';

export function mountSendStatusRoutes(app: HttpApp, deps: SendStatusDeps & { verifier: AccessTokenVerifier; ended: EndedSessions }) {
  app.get('/notifications/:id', requireAuth(deps.verifier, deps.ended), async (req, res) => {
    const auth = authOf(req);
    const status = await sendStatusFor(deps, { userId: auth.sub, role: auth.role }, String(req.params.id));
    res.setHeader('Cache-Control', 'no-store');
    res.json(status);
  });
}
