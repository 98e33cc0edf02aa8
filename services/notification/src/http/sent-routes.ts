/**
 * GET /notifications/sent: "what I sent", a page of the caller's own sends, newest first, with
 * each one's status and whom it was addressed to (domain/sent-list.ts). Mounted before
 * GET /notifications/:id, which would otherwise take `sent` for a send id.
 */
import { z } from 'zod';
import { authOf } from '@warren/shared/auth/require-auth';
import { sentPageSchema } from '@warren/shared/contracts/notification-api';
import type { RouteMounter } from '@warren/shared/http/route-mounter';
import { defineRoute } from '@warren/shared/http/route-spec';
import { decodeSentCursor } from '../domain/sent-cursor.js';
import { sentBy, type SentListDeps } from '../domain/sent-list.js';

/** A cursor this endpoint answered, or the schema refuses it (400 validation_failed, as GET /inbox's `before`). */
const sentCursor = z
  .string()
  .refine((v) => decodeSentCursor(v) !== undefined, 'must be a nextCursor this endpoint answered')
  .meta({ description: 'The `nextCursor` of the previous page: only older sends.', example: 'WyIyMDMwLTAxLTAxVDA5OjAwOjAwLjEyMzQ1NloiLCI2ZjFjMmE1Mi0wYjdlLTRjMWUtOWE1MS02ZDFmOGEwYzJiM2QiXQ' });

export const sentRoutes = {
  list: defineRoute({
    method: 'get',
    path: '/notifications/sent',
    operationId: 'sentNotifications',
    summary: 'What I sent: a page of my own sends, newest first, each with its status and whom it was addressed to',
    description: [
      "Any user, any role, gets their own sends only (an admin too: another user's send is looked up by id, `GET /notifications/:id`); someone who never sent gets an empty page.",
      'Ordered by the time each send was stored, then its id (the sends of one batch are stored together); a send accepted a moment ago (202) is listed once it is stored.',
      'Each item is what `GET /notifications/:id` answers, with `unknownUserIds` cut to its first 10 (`unknownUserCount` counts them all) and `to`: the roles and user ids it named (`userCount`; the first 5 in `users` with their names), or null for a send stored before sends recorded it (older than this endpoint).',
      'The counts are index scans over each send\u2019s own rows: a page of 20 sends of 10 000 recipients each takes about 20 ms (50 ms before VACUUM has visited the rows).',
    ].join(' '),
    tag: 'notifications',
    auth: 'bearer',
    request: {
      query: z.object({
        limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: 'Page size.' }),
        before: sentCursor.optional(),
      }),
    },
    responses: {
      200: {
        description: '`nextCursor` (opaque) is null on the last page.',
        schema: sentPageSchema,
        example: {
          items: [
            {
              id: '6f1c2a52-0b7e-4c1e-9a51-6d1f8a0c2b3d',
              sender: { id: '3b241101-e2bb-4255-8caf-4136c566a962', name: 'Grace Hopper' },
              title: 'Quarterly report',
              createdAt: '2030-01-01T09:00:00.123Z',
              recipients: 120,
              read: 87,
              unknownUserIds: ['0d9f4b6e-2f43-4c1b-8d8e-5b1f3c7a9e21'],
              unknownUserCount: 1,
              to: { roles: ['employee'], userCount: 2, users: [{ id: '5b0c8d8e-7a3e-4c1b-9a53-2f1d6c8e4a10', name: 'Erin Employee' }, { id: '0d9f4b6e-2f43-4c1b-8d8e-5b1f3c7a9e21', name: null }] },
            },
          ],
          nextCursor: 'WyIyMDMwLTAxLTAxVDA5OjAwOjAwLjEyMzQ1NloiLCI2ZjFjMmE1Mi0wYjdlLTRjMWUtOWE1MS02ZDFmOGEwYzJiM2QiXQ',
        },
      },
    },
    problems: ['database_unavailable'],
  }),
};

export function mountSentRoutes(routes: RouteMounter, deps: SentListDeps) {
  routes.mount(sentRoutes.list, async ({ query }, req, res) => {
    const page = await sentBy(deps, authOf(req).sub, { limit: query.limit, before: query.before });
    res.setHeader('Cache-Control', 'no-store');
    res.json(page);
  });
}
