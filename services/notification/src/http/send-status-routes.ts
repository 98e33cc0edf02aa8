/** GET /notifications/:id: the status of a send, for its sender or an admin (domain/send-status.ts). */
import { z } from 'zod';
import { authOf } from '@warren/shared/auth/require-auth';
import { sendStatusSchema } from '@warren/shared/contracts/notification-api';
import type { RouteMounter } from '@warren/shared/http/route-mounter';
import { defineRoute } from '@warren/shared/http/route-spec';
import { sendStatusFor, type SendStatusDeps } from '../domain/send-status.js';

export const sendStatusRoutes = {
  status: defineRoute({
    method: 'get',
    path: '/notifications/:id',
    operationId: 'sendStatus',
    summary: 'What became of one send: rows stored, rows read, user ids that matched no user',
    description:
      'For the sender of the send (the user whose token sent it) or an admin. Anyone else gets the same 404 as for an id never sent, so ids cannot be probed; so does a send not stored yet (a moment after its 202). `read` is counted on an index of read rows, in milliseconds per ten thousand recipients.',
    tag: 'notifications',
    auth: 'bearer',
    request: {
      // Any string: a malformed id is the same 404 as an unknown one (domain/send-status.ts).
      params: z.object({ id: z.string().meta({ description: 'The id `POST /notifications` (or one of the ids of `/notifications/batch`) answered.', example: '6f1c2a52-0b7e-4c1e-9a51-6d1f8a0c2b3d' }) }),
    },
    responses: {
      200: {
        description: '`recipients`: inbox rows stored for the send; `read`: how many of them are read; `unknownUserIds`: named user ids that matched no user (they stored nothing).',
        schema: sendStatusSchema,
        example: {
          id: '6f1c2a52-0b7e-4c1e-9a51-6d1f8a0c2b3d',
          sender: { id: '3b241101-e2bb-4255-8caf-4136c566a962', name: 'Grace Hopper' },
          title: 'Quarterly report',
          createdAt: '2030-01-01T09:00:00.000Z',
          recipients: 120,
          read: 87,
          unknownUserIds: ['0d9f4b6e-2f43-4c1b-8d8e-5b1f3c7a9e21'],
        },
      },
    },
    problems: ['send_not_found', 'database_unavailable'],
  }),
};

export function mountSendStatusRoutes(routes: RouteMounter, deps: SendStatusDeps) {
  routes.mount(sendStatusRoutes.status, async ({ params }, req, res) => {
    const auth = authOf(req);
    const status = await sendStatusFor(deps, { userId: auth.sub, role: auth.role }, params.id);
    res.setHeader('Cache-Control', 'no-store');
    res.json(status);
  });
}
