/**
 * Storing requested notifications, a batch of messages at a time (a message is one notification,
 * or a batch of them sent together, stored in its order): recipients resolved once, here and now,
 * against the user directory (the named user ids it knows, plus the users who hold a named role
 * at this moment; a named id it does not know yet is confirmed with auth, since a new user's
 * announcement may still be on its way), one row per recipient, all rows of the batch in one multi-row insert
 * committed before the messages are acked. A named user id the directory does not know stores
 * nothing: it is only counted, in the send's record (`sends`), so made-up ids cannot fill the
 * database and the sender can be told which ids matched no user. Only newly stored rows are
 * handed to `deliver` (the live fast path), so a redelivered message changes nothing and is
 * pushed nowhere. A send's id belongs to what it asked for (its content hash, kept on its
 * record): a message reusing it with other content or recipients is refused, alone, and
 * stores nothing, so no publisher can attach its content to someone else's send.
 */
import { requestedNotifications, type NotificationBatchRequested, type NotificationRequested, type Role } from '@warren/shared/contracts/notifications';
import { traceIdOf } from '@warren/shared/trace-context';
import type { DeliverLive, InboxWrites, Logger, LookupUsers, NewInboxRow, NewSend, UserDirectory } from './ports.js';
import { NotificationIdConflict, sendContentHash } from './send-content-hash.js';
import { learnSenderNames } from './sender-names.js';

export interface StoreNotificationsDeps {
  inbox: InboxWrites;
  directory: UserDirectory;
  /**
   * For ids the directory does not know yet (their announcement may still be on its way). When
   * it throws, the messages naming those ids are retried later (never stored with real users
   * taken for unknown ones), and the rest of the batch is stored now.
   */
  lookupUsers: LookupUsers;
  deliver: DeliverLive;
  logger: Logger;
}

/**
 * A message of the requests queue as the consumer hands it over (one notification, or a batch of
 * them), with the request id its logs carry.
 */
export interface RequestedNotification {
  payload: NotificationRequested | NotificationBatchRequested;
  meta: { requestId: string; traceparent?: string | undefined };
}

/**
 * The part of a batch left for later: `deferred` retried as if they had failed with `reason`,
 * `refused` failed each with its own error (never stored); the rest is acked.
 */
export interface Deferral<T> {
  deferred: T[];
  reason: unknown;
  refused?: { item: T; error: NotificationIdConflict }[];
}

type Requested = { n: NotificationRequested; hash: string };

export async function storeNotifications<T extends RequestedNotification>(deps: StoreNotificationsDeps, all: T[]): Promise<void | Deferral<T>> {
  const notificationsOf = new Map(all.map((b) => [b, requestedNotifications(b.payload).map((n) => ({ n, hash: sendContentHash(n) }))]));
  // Messages reusing a send's id with other content are refused before anything is looked up for them.
  const refused = await refuseReusedIds(deps.inbox, all, notificationsOf);
  const accepted = all.filter((b) => !refused.has(b));
  const every = accepted.flatMap((b) => notificationsOf.get(b) ?? []).map(({ n }) => n);
  const roles = [...new Set(every.flatMap((n) => n.recipients.roles ?? []))] as Role[];
  const named = [...new Set(every.flatMap((n) => n.recipients.userIds ?? []))];
  // Senders' names are made sure of meanwhile (no round trip of their own on the way to the insert).
  const senderNames = learnSenderNames(deps, [...new Set(every.flatMap((n) => n.requestedBy?.userId ?? []))]);
  const [holders, known] = await Promise.all([deps.directory.usersWithRoles(roles), deps.directory.knownUsers(named)]);
  const notYetKnown = named.filter((id) => !known.has(id));
  let batch = accepted;
  let deferred: T[] = [];
  let reason: unknown;
  if (notYetKnown.length > 0) {
    try {
      const found = await deps.lookupUsers(notYetKnown);
      // What auth answered is what its announcement will say: record it now (a later or repeated
      // announcement of the same version changes nothing).
      await deps.directory.upsert(found);
      for (const u of found) known.add(u.userId);
    } catch (err) {
      // Auth cannot answer now. Only the messages naming ids it was asked about wait (retried
      // later); the others are stored at once: one sender's unknown ids never delay another's.
      const waits = (b: T) => (notificationsOf.get(b) ?? []).some(({ n }) => (n.recipients.userIds ?? []).some((id) => !known.has(id)));
      deferred = accepted.filter(waits);
      if (deferred.length === all.length) throw err;
      batch = accepted.filter((b) => !waits(b));
      reason = err;
      deps.logger.warn('user lookup failed; messages naming unknown ids wait for a retry', { deferred: deferred.length, err: (err as Error).message });
    }
  }
  await senderNames;

  // Another replica may record one of these ids meanwhile: the insert then refuses it (storing
  // nothing), and the messages naming it are refused and the rest stored again without them.
  while (batch.length > 0) {
    try {
      await storeNow(deps, batch, notificationsOf, holders, known);
      break;
    } catch (err) {
      if (!(err instanceof NotificationIdConflict)) throw err;
      const clashes = new Set(err.notificationIds);
      const clashing = batch.filter((b) => (notificationsOf.get(b) ?? []).some(({ n }) => clashes.has(n.notificationId)));
      if (clashing.length === 0) throw err;
      for (const b of clashing) refused.set(b, err);
      batch = batch.filter((b) => !refused.has(b));
    }
  }
  for (const [b, err] of refused) {
    deps.logger.warn('notification id reused with other content; message refused', { requestId: b.meta.requestId, notificationIds: err.notificationIds });
  }
  if (deferred.length === 0 && refused.size === 0) return;
  return { deferred, reason, refused: [...refused].map(([item, error]) => ({ item, error })) };
}

/**
 * The messages naming a send id that a send recorded before, or an earlier message of this
 * batch, used with other content (or that was recorded before hashes were kept). The same
 * content under the same id is a redelivery, and goes through (storing nothing new).
 */
async function refuseReusedIds<T>(inbox: InboxWrites, all: T[], notificationsOf: Map<T, Requested[]>): Promise<Map<T, NotificationIdConflict>> {
  const recorded: Map<string, string | null> = await inbox.recordedHashes([...new Set([...notificationsOf.values()].flat().map(({ n }) => n.notificationId))]);
  const refused = new Map<T, NotificationIdConflict>();
  for (const b of all) {
    const mine = notificationsOf.get(b) ?? [];
    const clashes = mine.filter(({ n, hash }) => recorded.has(n.notificationId) && recorded.get(n.notificationId) !== hash).map(({ n }) => n.notificationId);
    if (clashes.length > 0) {
      refused.set(b, new NotificationIdConflict([...new Set(clashes)]));
      continue;
    }
    // Accepted: its ids now belong to its content for the rest of the batch.
    for (const { n, hash } of mine) recorded.set(n.notificationId, hash);
  }
  return refused;
}

/** Stores the notifications of `batch` (message order, then batch order) and hands the new rows to live delivery. */
async function storeNow<T extends RequestedNotification>(
  deps: StoreNotificationsDeps,
  batch: T[],
  notificationsOf: Map<T, Requested[]>,
  holders: { userId: string; role: Role }[],
  known: Set<string>,
): Promise<void> {
  const pending = batch.flatMap((b) => (notificationsOf.get(b) ?? []).map(({ n, hash }) => ({ meta: b.meta, n, hash })));
  const rows: NewInboxRow[] = [];
  const sends: NewSend[] = [];
  const received: { meta: RequestedNotification['meta']; n: NotificationRequested; recipients: number; unknown: number }[] = [];
  for (const { meta, n, hash } of pending) {
    const wanted = new Set(n.recipients.roles ?? []);
    const userIds = new Set(n.recipients.userIds ?? []);
    const unknownUserIds = [...userIds].filter((id) => !known.has(id));
    const recipients = new Set([...[...userIds].filter((id) => known.has(id)), ...holders.filter((h) => wanted.has(h.role)).map((h) => h.userId)]);
    for (const userId of recipients) {
      rows.push({ notificationId: n.notificationId, userId, type: n.type, title: n.title, body: n.body, data: n.data });
    }
    sends.push({
      notificationId: n.notificationId,
      senderId: n.requestedBy?.userId ?? null,
      title: n.title,
      roles: [...wanted],
      userIds: [...userIds],
      unknownUserIds,
      contentHash: hash,
    });
    received.push({ meta, n, recipients: recipients.size, unknown: unknownUserIds.length });
  }

  const { batch: batchNo, entries: stored } = await deps.inbox.insert(rows, sends);
  for (const { meta, n, recipients, unknown } of received) {
    deps.logger.info('notification received', {
      requestId: meta.requestId,
      ...traceField(meta.traceparent),
      notificationId: n.notificationId,
      recipients,
      ...(unknown > 0 ? { unknownUserIds: unknown } : {}),
    });
  }
  deps.logger.info('notifications stored', { messages: batch.length, notifications: sends.length, rows: rows.length, newRows: stored.length });
  for (const { meta, n } of pending) {
    deps.logger.debug('notification stored', { requestId: meta.requestId, notificationId: n.notificationId, ...traceField(meta.traceparent) });
  }
  if (batchNo !== undefined) {
    // Each entry carries its send's trace to the socket that gets it (live messages are per batch).
    const traces = new Map(pending.map(({ n, meta }) => [n.notificationId, meta.traceparent]));
    for (const e of stored) e.traceparent = traces.get(e.notification.notificationId);
    try {
      await deps.deliver(batchNo, stored);
    } catch (err) {
      // Stored is what counts: clients catch up from the database. Never fail the batch here.
      deps.logger.warn('live delivery failed; clients will catch up', { err: (err as Error).message, rows: stored.length });
    }
  }
}

/** A batch's lines are logged outside any one message's context: each names its own trace. */
function traceField(traceparent: string | undefined): { traceId?: string } {
  return traceparent ? { traceId: traceIdOf(traceparent) } : {};
}
