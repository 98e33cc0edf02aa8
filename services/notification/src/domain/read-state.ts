/**
 * Read state: mark one or several notifications, or all, read (or one unread again, for a
 * reader who wants to come back to it). Another user's id is a 404
 * (indistinguishable from an unknown one). Each change is announced to every socket of the
 * user, on whatever replica, with the new exact unread count.
 */
import { AppError } from '@warren/shared/errors';
import { parsePublicId, toPublicId } from './notification-id.js';
import type { AnnounceRead, ReadStateStore } from './ports.js';

export interface ReadStateDeps {
  inbox: ReadStateStore;
  announce: AnnounceRead;
}

export async function markRead(deps: ReadStateDeps, userId: string, ids: string[]): Promise<void> {
  const seqs = ids.map(parsePublicId);
  if (seqs.some((s) => s === undefined)) throw notFound();
  const result = await deps.inbox.markRead(userId, seqs as string[]);
  if (!result) throw notFound();
  if (result.changed.length > 0) {
    await deps.announce({ userId, ids: result.changed.map(toPublicId), unreadCount: result.unreadCount });
  }
}

export async function markUnread(deps: ReadStateDeps, userId: string, ids: string[]): Promise<void> {
  const seqs = ids.map(parsePublicId);
  if (seqs.some((s) => s === undefined)) throw notFound();
  const result = await deps.inbox.markUnread(userId, seqs as string[]);
  if (!result) throw notFound();
  if (result.changed.length > 0) {
    await deps.announce({ userId, ids: result.changed.map(toPublicId), unread: true, unreadCount: result.unreadCount });
  }
}

export async function markAllRead(deps: ReadStateDeps, userId: string): Promise<void> {
  const result = await deps.inbox.markAllRead(userId);
  if (result.changed > 0) await deps.announce({ userId, all: true, unreadCount: result.unreadCount });
}

function notFound() {
  return AppError.notFound('notification_not_found', 'No such notification.');
}
