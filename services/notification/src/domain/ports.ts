/**
 * What the notification use cases need from outside the domain, and nothing more: each
 * interface lists the calls a use case makes, and the records that cross it live here, so db/,
 * email/ and messaging/ depend on the domain and never the other way round. The adapters:
 * db/inbox-repository.ts, db/directory-repository.ts, db/sent-emails-repository.ts,
 * email/*-transport.ts, messaging/user-lookup.ts and the live publisher; service.ts wires them.
 * docs/decisions/0015-ports-and-dependency-rule.md says what the domain may import.
 */
import type { SendStatus, SentItem } from '@warren/shared/contracts/notification-api';
import type { Role } from '@warren/shared/contracts/notifications';
import type { UserUpserted } from '@warren/shared/contracts/users';
import type { InboxEntry } from './notification.js';
import type { SentPosition } from './sent-cursor.js';

export type { Logger } from '@warren/shared/logger';

/* ---------- inbox ---------- */

export interface NewInboxRow {
  notificationId: string;
  userId: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
}

/** One stored send: whom it named, and which of the user ids it named matched no user. */
export interface NewSend {
  notificationId: string;
  senderId: string | null;
  title: string;
  /** The roles it named (each once). */
  roles: Role[];
  /** The user ids it named, known or not (each once, in the order given). */
  userIds: string[];
  /** Named user ids the directory does not know: they got no row. */
  unknownUserIds: string[];
  /** What the send asked for (send-content-hash.ts): a message reusing its id must match it. */
  contentHash: string;
}

export interface StoredBatch {
  /** The number of this insert, when it stored anything: live batches are put back in this order. */
  batch?: number | undefined;
  /** Only the rows that were new, in seq order (each notification names its send: `notificationId`). */
  entries: InboxEntry[];
}

export interface InboxWrites {
  /**
   * Stores the rows (skipping those stored before) and records the sends, in one transaction.
   * Throws NotificationIdConflict (storing nothing) when a send is recorded already with
   * another content hash (or with none, from before hashes were kept).
   */
  insert(rows: NewInboxRow[], sends: NewSend[]): Promise<StoredBatch>;
  /** The content hashes of those of these sends that are recorded (null: recorded before hashes were kept). */
  recordedHashes(notificationIds: string[]): Promise<Map<string, string | null>>;
}

export interface ReadStateStore {
  /** The seqs that changed and the new unread count; undefined if some seq is not the user's. */
  markRead(userId: string, seqs: string[]): Promise<{ changed: number[]; unreadCount: number } | undefined>;
  markAllRead(userId: string): Promise<{ changed: number; unreadCount: number }>;
  /** As markRead, the other way: the seqs that became unread again. */
  markUnread(userId: string, seqs: string[]): Promise<{ changed: number[]; unreadCount: number } | undefined>;
}

export interface InboxPruning {
  /** Deletes up to `limit` rows older than `days`; returns how many went. */
  pruneOlderThan(days: number, limit: number): Promise<number>;
}

/** A read change (or, with `unread`, ids made unread again), announced to every socket of the user with the new exact unread count. */
export type ReadAnnouncement = { userId: string; unreadCount: number } & ({ ids: string[]; unread?: true } | { all: true });

/** Hands a read change to every replica's sockets (the live fanout). */
export type AnnounceRead = (change: ReadAnnouncement) => Promise<void>;

/** Hands a stored batch's new rows to every replica's sockets (the live fanout); best effort. */
export type DeliverLive = (batch: number, entries: InboxEntry[]) => Promise<void>;

/* ---------- user directory ---------- */

/** A user as auth announces it (user.upserted); `name` is absent from announcements made before 0.5.0. */
export type DirectoryUser = Pick<UserUpserted, 'userId' | 'role' | 'version' | 'name'>;

export interface UserDirectory {
  /**
   * Keeps the newest version of each user; older or repeated announcements change nothing, except
   * that one of the version held fills in a name the directory lacks.
   */
  upsert(users: DirectoryUser[]): Promise<void>;
  /** Which of `userIds` the directory knows. */
  knownUsers(userIds: string[]): Promise<Set<string>>;
  /** Which of `userIds` the directory holds a name for. */
  named(userIds: string[]): Promise<Set<string>>;
  usersWithRoles(roles: Role[]): Promise<{ userId: string; role: Role }[]>;
}

/**
 * Asks auth (the source of truth) which of these ids exist. Throws if auth cannot answer: the
 * messages naming those ids are then retried later.
 */
export type LookupUsers = (userIds: string[]) => Promise<DirectoryUser[]>;

/* ---------- send status ---------- */

/** The status of send `notificationId` if it is recorded and `senderId` sent it (undefined: whoever sent it). */
export type ReadSendStatus = (notificationId: string, senderId: string | undefined) => Promise<SendStatus | undefined>;

/**
 * Up to `limit` sends of `senderId`, newest first (by created_at, then id), strictly older than
 * `before` when given; each with its place in that order, for the next page's cursor.
 */
export type ListSentSends = (senderId: string, limit: number, before: SentPosition | undefined) => Promise<{ item: SentItem; position: SentPosition }[]>;

/* ---------- email ---------- */

export interface Mailbox {
  /** Display name, '' when there is none. */
  name: string;
  address: string;
}

export interface OutgoingEmail {
  from: Mailbox;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Message-ID header: the same request sent twice carries the same one, so mail clients can fold the copies. */
  messageId?: string;
}

export interface EmailSender {
  /**
   * Resolves once the email has been accepted; rejects when it was not, with an error that says
   * whether a later attempt may succeed (the consumer retries or dead-letters by it). Error
   * messages never contain the recipient or the content.
   */
  send(email: OutgoingEmail): Promise<void>;
}

/** Which email.requested messages have been sent, by message id (the idempotency record). */
export interface SentEmails {
  wasSent(messageId: string): Promise<boolean>;
  recordSent(messageId: string): Promise<void>;
}
