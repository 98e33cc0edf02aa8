/**
 * What the auth use cases need from outside the domain, and nothing more: each interface lists
 * the calls a use case makes (not every method of the class behind it), and the records and
 * policies that cross it live here, so db/ and messaging/ depend on the domain and never the
 * other way round. The adapters: db/*-repository.ts, db/role-changes.ts and
 * messaging/email-requests.ts; service.ts wires them into AuthDeps (deps.ts).
 * No database client or transaction crosses a port: a change that must commit with another
 * (a demotion and the sessions it ends) is one port call, done in one transaction behind it.
 * docs/decisions/0015-ports-and-dependency-rule.md says what the domain may import.
 */
import type { AuditDetails, AuditEvent } from '@warren/shared/contracts/audit';
import type { EmailRequestedInput } from '@warren/shared/contracts/email';
import type { Role } from '@warren/shared/contracts/notifications';

export type { Logger } from '@warren/shared/logger';

/* ---------- users ---------- */

export interface UserRecord {
  id: string;
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
  emailVerifiedAt: Date | null;
  createdAt: Date;
}

export interface UserAccounts {
  findByEmail(email: string): Promise<UserRecord | undefined>;
  findById(id: string): Promise<UserRecord | undefined>;
  /** Creates a verified user (and announces it) unless the email exists: undefined then. */
  createVerifiedIfAbsent(u: { email: string; name: string; role: Role; passwordHash: string }): Promise<UserRecord | undefined>;
  permissionsOf(role: Role): Promise<string[]>;
  /** Also lifts every lockout and delay of the account: resetting is how a locked-out user gets back in. */
  setPassword(id: string, passwordHash: string): Promise<void>;
  /** The users among `ids` that exist, with role, version and name (what user.upserted announces). */
  lookup(ids: string[]): Promise<{ userId: string; role: Role; version: number; name: string }[]>;
  /** A page of users in name order, matching `q` in name or email when given (see UserSearch). */
  search(opts: UserSearch): Promise<UserSearchRow[]>;
}

/** Finding users: `q` a substring of the name or email (any case; `%`, `_`, `\` are plain), after the keyset `after`. */
export interface UserSearch {
  q?: string | undefined;
  limit: number;
  after?: { name: string; id: string } | undefined;
  includeUnverified: boolean;
}

/** `sortName`: the row's keyset (its lowercased name); `lockedUntil`: the latest lock of any client address out of the account. */
export type UserSearchRow = UserRecord & { sortName: string; lockedUntil: Date | null };

/** A role change and the sessions it ends, as one unit of work. */
export interface RoleChanges {
  /**
   * Changes the user's role unless that would leave no admin. `endSessionsIf` is asked, with the
   * previous role, before the change commits; when it answers true every session of the user
   * ends (and is announced) in the same transaction as the change.
   */
  change(
    userId: string,
    role: Role,
    endSessionsIf: (previous: Role) => Promise<boolean>,
  ): Promise<{ previous: Role; sessionsEnded: number } | 'not_found' | 'last_admin'>;
}

/* ---------- sessions ---------- */

export interface NewSession {
  id: string;
  userId: string;
  expiresAt: Date;
  userAgent?: string | undefined;
  ip?: string | undefined;
  refreshTokenHash: Buffer;
}

export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  userAgent: string | null;
  ip: string | null;
}

export interface RefreshTokenLookup {
  session: SessionRecord;
  rotatedAt: Date | null;
}

/** Ending a session always announces it (session.ended), so every service refuses its tokens. */
export interface SessionStore {
  /** The session and its first refresh token, together or not at all. */
  create(s: NewSession): Promise<void>;
  findByRefreshToken(hash: Buffer): Promise<RefreshTokenLookup | undefined>;
  /** Retires `oldHash` and stores `newHash`; false when another caller rotated it first. */
  rotate(oldHash: Buffer, newHash: Buffer, sessionId: string, client: { ip?: string | undefined; userAgent?: string | undefined }): Promise<boolean>;
  findLive(sessionId: string): Promise<SessionRecord | undefined>;
  listLive(userId: string): Promise<SessionRecord[]>;
  /** False if it was not a live session of this user. */
  revoke(userId: string, sessionId: string): Promise<boolean>;
  /** The ids of the sessions it ended. */
  revokeAll(userId: string): Promise<string[]>;
}

/* ---------- one-time codes ---------- */

export type CodePurpose = 'verify_email' | 'password_reset';

export interface CodeRecord {
  id: string;
  codeHash: string;
  payload: Record<string, unknown>;
  expiresAt: Date;
  usedAt: Date | null;
}

/** A reserved try: `tries` counts this one; `granted` is false past the cap. */
export interface AttemptSlot {
  granted: boolean;
  tries: number;
  /** Seconds until the window ends and tries are allowed again. */
  retryAfterSeconds: number;
}

/** Each call moves its counter in one atomic statement: concurrent requests never pass a cap together. */
export interface OneTimeCodeStore {
  /** Counts one issue in the window; false once `max` were issued in it. */
  claimIssue(purpose: CodePurpose, email: string, max: number, windowSeconds: number): Promise<boolean>;
  /** Stores a code and voids every earlier unused one of the purpose and address, together. */
  replace(c: { id: string; purpose: CodePurpose; email: string; codeHash: string; payload: object; ttlSeconds: number }): Promise<void>;
  /** The newest code of the address, whatever its state. */
  newest(purpose: CodePurpose, email: string): Promise<CodeRecord | undefined>;
  /** The newest code if it is still unused and live. */
  newestLive(purpose: CodePurpose, email: string): Promise<CodeRecord | undefined>;
  /** Reserves a try before any code is checked; refused past `max` in the window. */
  reserveAttempt(purpose: CodePurpose, email: string, max: number, windowSeconds: number): Promise<AttemptSlot>;
  /** Gives back a reserved try that was not a guess (the right code). */
  refundAttempt(purpose: CodePurpose, email: string): Promise<void>;
  /** Uses the code if still unused and live: its payload, or undefined if another request won. */
  consume(id: string): Promise<Record<string, unknown> | undefined>;
}

/* ---------- failed logins ---------- */

export type Reservation =
  | { kind: 'granted' }
  /** The address is locked out of this account until `until`. */
  | { kind: 'locked'; until: Date }
  /** The address must wait until `until` before its next attempt (progressive delay). */
  | { kind: 'throttled'; until: Date };

export interface LockoutPolicy {
  threshold: number;
  lockSeconds: number;
  /** The account-wide window (alerts, and the account-wide cap). */
  windowSeconds: number;
}

export interface LoginFailureStore {
  /** Counts the attempt as a failure before its password is checked; `userId` if the email has an account. */
  reserve(email: string, ip: string, policy: LockoutPolicy, userId: string | undefined): Promise<Reservation>;
  /** The reserved attempt failed: locks the address at `threshold`, else sets its next delay. */
  recordFailure(email: string, ip: string, policy: LockoutPolicy): Promise<{ lockedUntil: Date | null; failures: number }>;
  /** A success from this address: its count and delay are gone. */
  clear(email: string, ip: string): Promise<void>;
  /** Counts a failure against the account; true when this one claimed the owner's alert email (sent once per window). */
  countForAlert(user: { id: string; email: string; name: string }, policy: LockoutPolicy): Promise<boolean>;
}

/* ---------- audit log ---------- */

export type { AuditEvent } from '@warren/shared/contracts/audit';

export interface AuditEntry {
  userId?: string | undefined;
  actorId?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  /** Only the keys of `auditDetailsSchema` (contracts/audit.ts), each shown to admins: never a secret. */
  details?: AuditDetails;
}

/** Who did what security-relevant thing, from where, when. Never a secret. */
export interface AuditLog {
  record(event: AuditEvent, entry?: AuditEntry): Promise<void>;
  /**
   * Records the account's event, or, when one of the account's newest events of this kind holds
   * the same details and was written less than `windowSeconds` ago, counts it in that row instead
   * (`details.repeats`, `details.lastAt`; the row keeps its first address and user agent). Two at
   * the same moment may both insert a row; no count is ever lost.
   */
  recordOrCount(event: AuditEvent, entry: AuditEntry & { userId: string }, windowSeconds: number): Promise<void>;
}

/** Which events to read: newest first, `limit` of them, older than the id `before`. */
export interface AuditQuery {
  userId?: string | undefined;
  events?: AuditEvent[] | undefined;
  limit: number;
  before?: string | undefined;
}

/** A stored event as read, with the names the users table holds for its user and actor now. */
export interface AuditRow {
  id: string;
  at: Date;
  event: string;
  userId: string | null;
  userName: string | null;
  userEmail: string | null;
  actorId: string | null;
  actorName: string | null;
  actorEmail: string | null;
  ip: string | null;
  userAgent: string | null;
  /** As stored: whatever the writer put there (the use case keeps only the known keys). */
  details: Record<string, unknown>;
}

/** Reading the audit log (GET /audit-events). */
export interface AuditTrail {
  page(q: AuditQuery): Promise<AuditRow[]>;
}

/* ---------- email ---------- */

/** Hands an email to the notification service (through the broker); resolves once the broker has it. */
export type RequestEmail = (email: Omit<EmailRequestedInput, 'requestedAt'>) => Promise<void>;

/* ---------- signing keys ---------- */

export interface SigningKeyRecord {
  kid: string;
  algorithm: string;
  publicJwk: Record<string, unknown>;
  /** PEM, or its encryption (key-encryption.ts) when `privateKeyEncrypted`. */
  privateKey: string;
  privateKeyEncrypted: boolean;
  active: boolean;
}

export interface SigningKeyStore {
  /** Keys that still verify: the active one and retired ones not yet past their retirement. */
  listVerifying(): Promise<SigningKeyRecord[]>;
  /** Inserts a new active key unless one is active already (several replicas may try at once). */
  insertActiveIfNone(k: Omit<SigningKeyRecord, 'active'>): Promise<void>;
  /** Retires the active key (still verifying for `retireAfterSeconds`) and activates `k`, together. */
  rotate(k: Omit<SigningKeyRecord, 'active'>, retireAfterSeconds: number): Promise<void>;
}
