/** The inbox over REST: a page of the user's notifications, and the exact unread count. */
import { z } from 'zod';
import { inboxNotificationSchema } from '@warren/shared/contracts/inbox';
import { authOf } from '@warren/shared/auth/require-auth';
import type { ProblemCode } from '@warren/shared/contracts/http-api';
import type { RouteMounter } from '@warren/shared/http/route-mounter';
import { defineRoute } from '@warren/shared/http/route-spec';
import type { InboxRepository } from '../db/inbox-repository.js';
import { parsePublicId } from '../domain/notification-id.js';
import { markAllRead, markRead, markUnread, type ReadStateDeps } from '../domain/read-state.js';

/** A notification id in range (a seq the service can name), or the schema refuses it. */
const notificationId = z
  .string()
  .refine((v) => parsePublicId(v) !== undefined, 'must be a notification id')
  .meta({ description: '16 lowercase hex digits, at most 001fffffffffffff.', example: '000000000000002a' });

const EXAMPLE_NOTIFICATION = {
  id: '000000000000002a',
  notificationId: '6f1c2a52-0b7e-4c1e-9a51-6d1f8a0c2b3d',
  sender: { id: '3b241101-e2bb-4255-8caf-4136c566a962', name: 'Grace Hopper' },
  type: 'report.ready',
  title: 'Quarterly report',
  body: 'The Q3 report is ready for review.',
  data: { reportId: 'q3-2030' },
  createdAt: '2030-01-01T09:00:00.000Z',
  readAt: null,
};

const database: ProblemCode[] = ['database_unavailable'];

export const inboxRoutes = {
  page: defineRoute({
    method: 'get',
    path: '/inbox',
    operationId: 'inbox',
    summary: "A page of the user's notifications, newest first",
    tag: 'inbox',
    auth: 'bearer',
    request: {
      query: z.object({
        limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: 'Page size.' }),
        before: notificationId.optional().meta({ description: 'The `nextCursor` of the previous page: only older notifications.' }),
      }),
    },
    responses: {
      200: {
        description: '`nextCursor` is null on the last page.',
        schema: z.object({ items: z.array(inboxNotificationSchema), nextCursor: z.string().nullable() }),
        example: { items: [EXAMPLE_NOTIFICATION], nextCursor: null },
      },
    },
    problems: database,
  }),
  unreadCount: defineRoute({
    method: 'get',
    path: '/inbox/unread-count',
    operationId: 'unreadCount',
    summary: 'The exact number of unread notifications (never capped)',
    tag: 'inbox',
    auth: 'bearer',
    responses: { 200: { description: 'The count.', schema: z.object({ count: z.number().int().min(0) }), example: { count: 3 } } },
    problems: database,
  }),
  readAll: defineRoute({
    method: 'post',
    path: '/inbox/read-all',
    operationId: 'readAll',
    summary: 'Mark every notification read',
    description: 'Every socket of the user hears `{"type":"read","all":true,"unreadCount":0}`.',
    tag: 'inbox',
    auth: 'bearer',
    responses: { 204: { description: 'Done.' } },
    problems: database,
  }),
  read: defineRoute({
    method: 'post',
    path: '/inbox/:id/read',
    operationId: 'read',
    summary: 'Mark one notification read',
    description: "Another user's id, or an unknown one, is 404. Every socket of the user hears `{\"type\":\"read\",\"ids\":[id],\"unreadCount\":N}`.",
    tag: 'inbox',
    auth: 'bearer',
    request: { params: z.object({ id: notificationId }) },
    notFound: 'notification_not_found',
    responses: { 204: { description: 'Read.' } },
    problems: ['notification_not_found', ...database],
  }),
  unread: defineRoute({
    method: 'post',
    path: '/inbox/:id/unread',
    operationId: 'unread',
    summary: 'Mark one notification unread again',
    description: "For a reader who wants to come back to it. Another user's id, or an unknown one, is 404. Every socket of the user hears `{\"type\":\"unread\",\"ids\":[id],\"unreadCount\":N}`; an unread one stays as it is.",
    tag: 'inbox',
    auth: 'bearer',
    request: { params: z.object({ id: notificationId }) },
    notFound: 'notification_not_found',
    responses: { 204: { description: 'Unread.' } },
    problems: ['notification_not_found', ...database],
  }),
};

export function mountInboxRoutes(routes: RouteMounter, deps: { inbox: InboxRepository; readState: ReadStateDeps }) {
  routes.mount(inboxRoutes.page, async ({ query }, req, res) => {
    const { items, more } = await deps.inbox.page(authOf(req).sub, query.limit, query.before && parsePublicId(query.before));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ items, nextCursor: more ? (items[items.length - 1]?.id ?? null) : null });
  });

  routes.mount(inboxRoutes.unreadCount, async (_input, req, res) => {
    const count = await deps.inbox.unreadCount(authOf(req).sub);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ count });
  });

  routes.mount(inboxRoutes.readAll, async (_input, req, res) => {
    await markAllRead(deps.readState, authOf(req).sub);
    res.status(204).end();
  });

  routes.mount(inboxRoutes.read, async ({ params }, req, res) => {
    await markRead(deps.readState, authOf(req).sub, [params.id]);
    res.status(204).end();
  });

  routes.mount(inboxRoutes.unread, async ({ params }, req, res) => {
    await markUnread(deps.readState, authOf(req).sub, [params.id]);
    res.status(204).end();
  });
}
