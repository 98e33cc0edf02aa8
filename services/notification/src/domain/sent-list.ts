/**
 * "What I sent" (`GET /notifications/sent`): a page of the caller's own sends, newest first, each
 * with its status (rows stored, rows read, ids that matched no user) and whom it was addressed
 * to. Always the caller's own, whatever the role: an admin may look up any send by id
 * (send-status.ts), but this list is what *they* sent; a user who never sent anything (an
 * employee) gets an empty page, not a 403.
 */
import type { SentPage } from '@warren/shared/contracts/notification-api';
import { AppError } from '@warren/shared/errors';
import type { ListSentSends } from './ports.js';
import { decodeSentCursor, encodeSentCursor } from './sent-cursor.js';

export interface SentListDeps {
  sent: ListSentSends;
}

export async function sentBy(deps: SentListDeps, callerId: string, page: { limit: number; before?: string | undefined }): Promise<SentPage> {
  const before = page.before === undefined ? undefined : decodeSentCursor(page.before);
  // The route's schema refuses a bad cursor first; a caller that skipped it gets the same 400.
  if (page.before !== undefined && !before) throw AppError.validation([{ path: 'before', message: 'must be a nextCursor this endpoint answered' }], 'The query string is not valid.');
  // One more than asked tells whether an older page exists.
  const rows = await deps.sent(callerId, page.limit + 1, before);
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return { items: items.map((r) => r.item), nextCursor: rows.length > page.limit && last ? encodeSentCursor(last.position) : null };
}
