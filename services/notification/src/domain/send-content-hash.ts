/**
 * What one send asks for, as a hash: its title, body, type, data, sender and the recipients it
 * named (user ids and roles, as sets). Kept on the send's record, it tells a redelivery of the
 * send (the same hash: nothing new is stored) from another message reusing its id (another hash:
 * refused), so nobody who can publish can attach their content, or their recipients, to a send
 * made by someone else. The canonical form sorts keys and sets, so the order a publisher wrote
 * them in does not matter; `requestedAt` is left out (a republish carries a new one).
 */
import { createHash } from 'node:crypto';
import type { NotificationRequested } from '@warren/shared/contracts/notifications';
import stableStringify from 'safe-stable-stringify';

export function sendContentHash(n: NotificationRequested): string {
  const canonical = stableStringify({
    title: n.title,
    body: n.body,
    type: n.type,
    data: n.data,
    requestedBy: n.requestedBy?.userId ?? null,
    userIds: [...new Set(n.recipients.userIds ?? [])].sort(),
    roles: [...new Set(n.recipients.roles ?? [])].sort(),
  });
  return createHash('sha256').update(canonical ?? '').digest('base64url');
}

/**
 * Messages reusing the id of a send recorded (or being stored) with other content: refused,
 * never stored. The consumer dead-letters each such message as `notification_id_conflict`.
 */
export class NotificationIdConflict extends Error {
  constructor(readonly notificationIds: string[]) {
    super(`notification id already used by another send: ${notificationIds.join(', ')}`);
    this.name = 'NotificationIdConflict';
  }
}
