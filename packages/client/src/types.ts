/**
 * The client's public types. What crosses the wire is taken from the zod schemas the services
 * validate with (`@warren/shared/contracts/*`), imported for their types only: the compiled
 * client and its browser bundle contain no zod.
 */
import type { z } from 'zod';
import type { meSchema, SessionInfo, TokenPair } from '@warren/shared/contracts/auth-rpc';
import type { InboxNotification, InboxPage, ServerFrame } from '@warren/shared/contracts/inbox';
import type { SendStatus, SentItem, SentPage } from '@warren/shared/contracts/notification-api';
import type { notificationContentSchema, recipientsSchema, Role } from '@warren/shared/contracts/notifications';
import type { userListItemSchema } from '@warren/shared/contracts/user-api';
import type { AuditEvent, AuditEventItem, AuditPage } from '@warren/shared/contracts/audit';

export type { InboxNotification, InboxPage, Role, SendStatus, SentItem, SentPage, ServerFrame, SessionInfo, TokenPair };

/** `GET /auth/me`, and the user part of a login. */
export type Me = z.infer<typeof meSchema>;
export type User = Me['user'];

/** The body of `POST /notifications` (and of each item of `POST /notifications/batch`). */
export type NotificationBody = z.input<typeof notificationContentSchema> & { recipients: z.input<typeof recipientsSchema> };

/** A read-state change pushed on the socket: some ids, or all; with the user's new unread count. */
export type ReadChange = Omit<Extract<ServerFrame, { type: 'read' }>, 'type'>;
/** Ids marked unread again (`POST /inbox/:id/unread`, from any tab or device), with the new unread count. */
export type UnreadChange = Omit<Extract<ServerFrame, { type: 'unread' }>, 'type'>;

/** One user of `GET /users`: admins also get `emailVerified`, `createdAt`, `locked`. */
export type UserListItem = z.infer<typeof userListItemSchema>;
export interface UserPage {
  items: UserListItem[];
  /** Pass as `after` for the next page; null on the last. */
  nextCursor: string | null;
}

/** `GET /audit-events` (audit:read, admins): newest first; pass `nextCursor` as `before` for older ones. */
export type { AuditEvent, AuditEventItem, AuditPage };
export interface AuditQuery {
  /** Only this user's events. */
  userId?: string;
  /** One event, or several (any of them). */
  event?: AuditEvent | AuditEvent[];
  /** 1 to 100 (default 50). */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  before?: string;
}

/** The subset of `fetch` the client uses: the browser's, Node's, or a test's. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal; cache?: 'no-store' },
) => Promise<ResponseLike>;

export interface ResponseLike {
  readonly status: number;
  readonly ok: boolean;
  readonly statusText: string;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/**
 * The subset of a WebSocket the client uses: the browser's `WebSocket` and the `ws` package's
 * both fit. (Handlers take `any`: each library types its own event classes.)
 */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Where the refresh token is kept between page loads: `sessionStorage`, or anything alike. */
export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * A message between the tabs of one browser holding the same session, as the tabs read it once
 * opened (it travels sealed with the session's secret, tab-crypto.ts): `refreshed` says a newer
 * token exists, `ask` asks for the pair of a generation, `rotated` answers an ask with the pair,
 * `ended` says the session ended.
 */
export type TabMessage =
  | { type: 'refreshed'; sessionId: string; generation: string }
  | { type: 'ask'; sessionId: string; generation: string }
  | { type: 'rotated'; sessionId: string; generation: string; pair: TokenPair }
  | { type: 'ended'; sessionId: string };

/**
 * How the tabs of one browser reach each other (cross-tab.ts has the browser's). It carries and
 * keeps what the session seals, without reading it: a page of the origin that is not one of the
 * session's tabs can see, send and overwrite all of it, and the tabs ignore what it made.
 */
export interface TabCoordinator {
  /** Runs `fn` while holding the origin-wide refresh lock. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** The record kept under `id` (committed before the returned promise settles on write), or undefined. */
  read(id: string): Promise<unknown>;
  write(id: string, value: unknown): Promise<void>;
  remove(id: string): Promise<void>;
  /** To every other tab listening (never back to this one). */
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): () => void;
}

export interface WarrenClientOptions {
  /** The main backend (login, refresh, sends), e.g. `https://api.dev.warren.example.com`. */
  mainBackendUrl: string;
  /** The notification service (inbox, `/ws`); behind the gateway usually the same origin. */
  notificationUrl: string;
  /** Defaults to `notificationUrl` with `ws:`/`wss:` and the path `/ws`. */
  webSocketUrl?: string;
  /** Defaults to `globalThis.WebSocket`; Node 20 has none: pass the `ws` package's. */
  WebSocket?: WebSocketConstructor;
  /** Defaults to `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Keeps the refresh token (only it) across reloads; without it, tokens live in memory only. */
  storage?: TokenStorage | null;
  /** The key under which `storage` keeps the refresh token. Default `warren:refreshToken`. */
  storageKey?: string;
  /**
   * Coordinate refreshes with the other tabs of this browser holding the same session (a
   * duplicated tab): Web Locks, IndexedDB and a BroadcastChannel named after `storageKey`, what
   * goes through them sealed with a secret kept in `storage` (WebCrypto).
   * Default: on when `storage` is given and the browser has all four; off in Node.
   */
  crossTab?: boolean | TabCoordinator;
  /** A request taking longer fails with `network_error` (status 0). Default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Reconnect backoff of live subscriptions. */
  reconnect?: Partial<BackoffOptions>;
  /** A live socket pings this often, and reconnects after two intervals without a frame. Default 25 000 ms; 0 turns it off. */
  keepaliveMs?: number;
}

export interface BackoffOptions {
  /** The first retry waits up to this long (full jitter). Default 500 ms. */
  baseMs: number;
  /** Never longer than this. Default 30 000 ms. */
  capMs: number;
  /** After 1013 and 4029 (server full, too many sockets): at least this long. Default 15 000 ms. */
  busyMinMs: number;
}

/** Where the session stands: `ended` means the server ended it (a refused or reused refresh token). */
export type SessionState =
  | { state: 'signedOut' }
  | { state: 'signedIn'; user: User; permissions: string[]; sessionId: string }
  | { state: 'ended'; code: string };

export type LiveState = 'connecting' | 'open' | 'reconnecting' | 'closed' | 'unauthorized';

/** With each state: the close code that led to it, and when `reconnecting` how long until the next try. */
export interface LiveStateInfo {
  code?: number;
  retryInMs?: number;
}

export interface SubscribeOptions {
  /**
   * Start after this notification id: everything newer is delivered first, oldest first. By
   * default the subscription starts at the newest notification of the inbox when subscribe()
   * is called, so nothing from then on is missed.
   */
  after?: string;
  onRead?: (change: ReadChange) => void;
  onUnread?: (change: UnreadChange) => void;
  onState?: (state: LiveState, info: LiveStateInfo) => void;
  /** The user's unread count: from the server on connect and on read changes, counted up by new notifications. */
  onUnreadCount?: (count: number) => void;
}

export interface Subscription {
  readonly state: LiveState;
  /** The newest notification id delivered; a reconnect asks for what came after it. */
  readonly lastId: string | null;
  /** Null until the socket is first ready. */
  readonly unreadCount: number | null;
  close(): void;
}

export interface SendOptions {
  /**
   * The same key and body always answer the same id and store the notification once: pass it
   * again to retry a send that failed. Default: a new random key per call (it is on the error).
   */
  idempotencyKey?: string;
}

export interface WarrenClient {
  /** `POST /login`. A refused login throws a WarrenProblem (401 invalid_credentials, 423, 429 …). */
  login(credentials: { email: string; password: string }): Promise<Me>;
  /** Resumes a session from the refresh token in `storage`; false if there is none or it was refused. */
  restore(): Promise<boolean>;
  /** `POST /auth/refresh`: one request at a time, whoever asks. Refused → the session is `ended`. */
  refresh(): Promise<void>;
  /** `POST /auth/logout`, then forgets the tokens and closes every subscription. */
  logout(): Promise<void>;
  /** `GET /auth/me`. */
  me(): Promise<Me>;
  /** A valid access token (refreshed first if it is due), for calls this client does not wrap. */
  accessToken(): Promise<string>;
  readonly session: SessionState;
  /** Called on every session change; returns the function that stops it. */
  onSession(listener: (session: SessionState) => void): () => void;

  inbox: {
    list(page?: { limit?: number; before?: string }): Promise<InboxPage>;
    unreadCount(): Promise<number>;
    markRead(id: string): Promise<void>;
    /** `POST /inbox/:id/unread`: unread again. */
    markUnread(id: string): Promise<void>;
    markAllRead(): Promise<void>;
  };
  /** Signing up and recovering a password: no session needed. */
  account: {
    /** `POST /auth/register` → a 6-digit code is emailed (the same answer whether or not the email is taken). */
    register(body: { email: string; password: string; name: string }): Promise<void>;
    /** `POST /auth/verify-email`. */
    verifyEmail(body: { email: string; code: string }): Promise<void>;
    /** `POST /auth/password/forgot` → a code is emailed if the account exists. */
    forgotPassword(email: string): Promise<void>;
    /** `POST /auth/password/reset`: every session of the user ends (this one too, if signed in). */
    resetPassword(body: { email: string; code: string; newPassword: string }): Promise<void>;
  };
  /** The signed-in user's sessions. */
  sessions: {
    /** `GET /auth/sessions`: `current` marks this one. */
    list(): Promise<SessionInfo[]>;
    /** `DELETE /auth/sessions/:id`; ending the current one signs out here. */
    revoke(id: string): Promise<void>;
    /** `POST /auth/logout-all`: every session ends, this one too. */
    logoutAll(): Promise<void>;
  };
  /** `GET /users` (users:read) and `PATCH /users/:id` (users:write). */
  users: {
    search(query?: { q?: string; limit?: number; after?: string }): Promise<UserPage>;
    /** 409 `last_admin` when demoting the last admin. */
    changeRole(id: string, role: Role): Promise<Me['user']>;
  };
  /** `GET /audit-events` (audit:read: admins): sign-ins and other security events, newest first. */
  auditEvents(query?: AuditQuery): Promise<AuditPage>;
  notifications: {
    /** `GET /notifications/:id` on the notification service: rows stored and read so far (404 for a moment after the send). */
    status(id: string): Promise<SendStatus>;
    /** `POST /notifications` (permission notifications:send) → the notification id. */
    send(body: NotificationBody, options?: SendOptions): Promise<{ id: string }>;
    /** `POST /notifications/batch`: 1 to 100 bodies, all or none → their ids, in order. */
    sendBatch(bodies: NotificationBody[], options?: SendOptions): Promise<{ ids: string[] }>;
    /**
     * `GET /notifications/sent` on the notification service: a page of the user's own sends,
     * newest first, each with its status and whom it was addressed to; pass a page's
     * `nextCursor` as `before` for the next. A send is listed once stored (a moment after its 202).
     */
    sent(page?: { limit?: number; before?: string }): Promise<SentPage>;
  };
  live: {
    /**
     * Opens the live socket and keeps it open: reconnects with backoff and `?after=` the last
     * id delivered (each notification reaches `onNotification` once, in order, across
     * reconnects), renews its token on the socket before it expires.
     */
    subscribe(onNotification: (notification: InboxNotification) => void, options?: SubscribeOptions): Subscription;
  };
}
