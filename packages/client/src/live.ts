/**
 * A live subscription: one WebSocket to `/ws`, kept open until close() or the session ends.
 *
 * Nothing missed, nothing twice. The subscription always knows the newest id it delivered
 * (`lastId`) and (re)connects with `?after=lastId`: the server then sends everything newer,
 * oldest first, before anything live. Before its first connection, when not told where to
 * start, it reads the newest id of the inbox (or, for an empty inbox, the id before every id),
 * so even the first socket has a place to resume from. A notification whose id is not newer
 * than `lastId` was delivered already and is dropped.
 *
 * Reconnects. A dropped socket (1001 replica shutting down, 1006 network, 1011, 4008 slow
 * consumer) reconnects after an exponential backoff with full jitter; 1013 and 4029 (server
 * full, too many sockets) no sooner than `busyMinMs`; 4001 (token refused or expired) first
 * refreshes the token. 1008 and 1009 mean this client sent something wrong: retrying would
 * repeat it, so the subscription stops (`closed`). A session the server ended (the refresh
 * was refused) stops it as `unauthorized`. The backoff restarts once a socket is ready.
 *
 * Token renewal. When the access token becomes due (see Session), the subscription has it
 * refreshed and sends `{"type":"auth","token"}` on the open socket, which extends the socket
 * past the old token's expiry without reconnecting; so does any refresh made for a REST call.
 *
 * Keepalive. A connection that died without a close (a NAT forgot it, a laptop slept) looks
 * open forever: the subscription pings every `keepaliveMs` and, hearing nothing for two
 * intervals, drops the socket and reconnects with `?after=`.
 *
 * The unread count comes from the server (on `ready` and with each read change) and counts up
 * with each unread notification. The notifications replayed after `ready` may already be in its
 * count, so once the replay has settled the count is read again over REST.
 */
import { backoffDelay } from './backoff.js';
import { BEFORE_FIRST_ID, compareIds } from './ids.js';
import type { Session } from './session.js';
import type {
  BackoffOptions,
  InboxNotification,
  LiveState,
  LiveStateInfo,
  ServerFrame,
  SubscribeOptions,
  Subscription,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';

export interface LiveDeps {
  session: Session;
  WebSocket: WebSocketConstructor;
  webSocketUrl: string;
  backoff: BackoffOptions;
  keepaliveMs: number;
  /** The newest id in the user's inbox, or null for an empty inbox. */
  newestId(): Promise<string | null>;
  unreadCount(): Promise<number>;
}

const CLOSE_UNAUTHORIZED = 4001;
/** A client bug: a bad `?after=`, junk or oversized frames. */
const FATAL_CLOSE_CODES = new Set([1008, 1009]);
/** The server is full, or the user holds too many sockets: come back, slowly. */
const BUSY_CLOSE_CODES = new Set([1013, 4029]);
/** The replay after `ready` counts as settled once no notification came for this long. */
const REPLAY_QUIET_MS = 750;
/** A renewal the server could not check (keys unreachable) is tried again after this long. */
const RENEW_RETRY_MS = 2000;
const OPEN = 1;

type Timer = ReturnType<typeof setTimeout>;

export class LiveSubscription implements Subscription {
  #state: LiveState = 'connecting';
  #lastId: string | null;
  #unread: number | null = null;
  #socket: WebSocketLike | null = null;
  /** The access token the socket last authenticated with. */
  #socketToken: string | null = null;
  #ready = false;
  #attempt = 0;
  #stopped = false;
  /** Counts changes to the unread count, so a REST read of it that raced one is not applied. */
  #changes = 0;
  #lastHeard = 0;
  #retryTimer: Timer | undefined;
  #renewTimer: Timer | undefined;
  #replayTimer: Timer | undefined;
  #keepaliveTimer: Timer | undefined;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(
    private readonly deps: LiveDeps,
    private readonly onNotification: (n: InboxNotification) => void,
    private readonly options: SubscribeOptions = {},
  ) {
    this.#lastId = options.after ?? null;
    this.#setState('connecting', {});
    this.#unsubscribe.push(
      deps.session.onToken((token) => this.#renewWith(token)),
      deps.session.onSession((s) => {
        if (s.state === 'ended') this.#stop('unauthorized');
        else if (s.state === 'signedOut') this.#stop('closed');
      }),
      listenForWakeUps(() => this.#wakeUp()),
    );
    void this.#connect();
  }

  get state(): LiveState {
    return this.#state;
  }

  get lastId(): string | null {
    return this.#lastId;
  }

  get unreadCount(): number | null {
    return this.#unread;
  }

  close(): void {
    this.#stop('closed');
  }

  // ------------------------------------------------------------------ connecting

  async #connect(): Promise<void> {
    this.#retryTimer = undefined;
    if (this.#stopped) return;
    let token: string;
    try {
      this.#lastId ??= (await this.deps.newestId()) ?? BEFORE_FIRST_ID;
      token = await this.deps.session.token();
    } catch {
      return this.#failed();
    }
    if (this.#stopped || this.#socket) return;
    const url = new URL(this.deps.webSocketUrl);
    url.searchParams.set('token', token);
    url.searchParams.set('after', this.#lastId);
    let socket: WebSocketLike;
    try {
      socket = new this.deps.WebSocket(url.href);
    } catch {
      // A malformed webSocketUrl: no retry can fix it.
      return this.#stop('closed');
    }
    this.#socket = socket;
    this.#socketToken = token;
    this.#ready = false;
    socket.onmessage = (event: { data: unknown }) => {
      if (this.#socket === socket) this.#onFrame(event.data);
    };
    socket.onclose = (event: { code: number }) => {
      if (this.#socket !== socket) return;
      this.#dropSocket();
      void this.#onClose(event.code);
    };
    // A failed connection is followed by a close event: that is where it is handled.
    socket.onerror = () => undefined;
  }

  /** Getting a token or the start id failed: the session ended, or try again later. */
  #failed(): void {
    if (this.deps.session.state.state !== 'signedIn') return this.#stop('unauthorized');
    this.#retryLater(undefined);
  }

  async #onClose(code: number): Promise<void> {
    if (this.#stopped) return;
    if (FATAL_CLOSE_CODES.has(code)) return this.#stop('closed', { code });
    if (code === CLOSE_UNAUTHORIZED) {
      try {
        await this.deps.session.refreshIfCurrent(this.#socketToken);
      } catch {
        return this.#failed();
      }
    }
    this.#retryLater(code);
  }

  #retryLater(code: number | undefined): void {
    if (this.#stopped) return;
    let delay = backoffDelay(this.#attempt++, this.deps.backoff);
    if (code !== undefined && BUSY_CLOSE_CODES.has(code)) delay = Math.max(delay, this.deps.backoff.busyMinMs);
    this.#setState('reconnecting', code === undefined ? { retryInMs: delay } : { code, retryInMs: delay });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = unref(setTimeout(() => void this.#connect(), delay));
  }

  /** Back online, or back to the tab: a pending retry happens now. */
  #wakeUp(): void {
    if (this.#stopped || this.#retryTimer === undefined) return;
    clearTimeout(this.#retryTimer);
    void this.#connect();
  }

  // ------------------------------------------------------------------ frames

  #onFrame(raw: unknown): void {
    this.#lastHeard = Date.now();
    const frame = parseFrame(raw);
    if (!frame) return;
    switch (frame.type) {
      case 'ready':
        this.#ready = true;
        this.#attempt = 0;
        this.#changes++;
        this.#setUnread(frame.unreadCount);
        this.#setState('open', {});
        this.#scheduleRenewal();
        // Refreshed while the socket was opening: renew it now.
        this.#renewWith(this.deps.session.currentToken);
        this.#startKeepalive();
        this.#replaySettlesSoon();
        return;
      case 'notification':
        return this.#onNotification(frame.notification);
      case 'read': {
        this.#changes++;
        this.#setUnread(frame.unreadCount);
        const change = frame.all ? { all: true as const, unreadCount: frame.unreadCount } : { ids: frame.ids ?? [], unreadCount: frame.unreadCount };
        return call(this.options.onRead, change);
      }
      case 'unread':
        this.#changes++;
        this.#setUnread(frame.unreadCount);
        return call(this.options.onUnread, { ids: frame.ids, unreadCount: frame.unreadCount });
      case 'error':
        // The server could not check a renewal right now; the old token holds until it expires.
        if (frame.code === 'service_unavailable') this.#scheduleRenewal(RENEW_RETRY_MS);
        return;
      default:
        // auth_ok, pong: heard, nothing to do.
        return;
    }
  }

  #onNotification(n: InboxNotification): void {
    if (this.#lastId !== null && compareIds(n.id, this.#lastId) <= 0) return;
    this.#lastId = n.id;
    if (!n.readAt && this.#unread !== null) {
      this.#changes++;
      this.#setUnread(this.#unread + 1);
    }
    if (this.#replayTimer !== undefined) this.#replaySettlesSoon();
    call(this.onNotification, n);
  }

  #replaySettlesSoon(): void {
    clearTimeout(this.#replayTimer);
    this.#replayTimer = unref(
      setTimeout(() => {
        this.#replayTimer = undefined;
        void this.#reconcileUnread();
      }, REPLAY_QUIET_MS),
    );
  }

  async #reconcileUnread(): Promise<void> {
    const changes = this.#changes;
    let count: number;
    try {
      count = await this.deps.unreadCount();
    } catch {
      return; // the next ready or read change brings the count anyway
    }
    if (this.#stopped) return;
    // A notification or read change came meanwhile: this answer may predate it.
    if (changes !== this.#changes) return this.#replaySettlesSoon();
    this.#setUnread(count);
  }

  // ------------------------------------------------------------------ token renewal

  /** At the token's due time, have it refreshed; the new token reaches #renewWith. */
  #scheduleRenewal(delayMs?: number): void {
    clearTimeout(this.#renewTimer);
    const due = this.deps.session.refreshAt;
    if (this.#stopped || !this.#ready || due === null) return;
    const delay = delayMs ?? Math.max(0, due - Date.now()) + 10;
    this.#renewTimer = unref(
      setTimeout(() => {
        this.deps.session.token().then(
          () => this.#scheduleRenewal(),
          // Offline: try again shortly; at worst the server closes with 4001 and we reconnect.
          () => this.#scheduleRenewal(RENEW_RETRY_MS),
        );
      }, delay),
    );
  }

  /** A new access token (from any refresh): extend the open socket with it, in place. */
  #renewWith(token: string | null): void {
    const socket = this.#socket;
    if (token === null || token === this.#socketToken || !this.#ready || !socket || socket.readyState !== OPEN) return;
    this.#send({ type: 'auth', token });
    this.#socketToken = token;
    this.#scheduleRenewal();
  }

  // ------------------------------------------------------------------ keepalive

  #startKeepalive(): void {
    clearInterval(this.#keepaliveTimer);
    if (this.deps.keepaliveMs <= 0) return;
    this.#keepaliveTimer = unref(
      setInterval(() => {
        if (Date.now() - this.#lastHeard > 2 * this.deps.keepaliveMs) {
          // Silent for too long: treat it as dropped (its close may never come).
          const socket = this.#socket;
          this.#dropSocket();
          socket?.close();
          this.#retryLater(undefined);
          return;
        }
        this.#send({ type: 'ping' });
      }, this.deps.keepaliveMs),
    );
  }

  // ------------------------------------------------------------------ helpers

  #send(frame: { type: 'auth'; token: string } | { type: 'ping' }): void {
    const socket = this.#socket;
    if (socket && socket.readyState === OPEN) socket.send(JSON.stringify(frame));
  }

  /** Forgets the current socket and everything that ran for it. */
  #dropSocket(): void {
    this.#socket = null;
    this.#ready = false;
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#replayTimer);
    this.#replayTimer = undefined;
    clearInterval(this.#keepaliveTimer);
  }

  #stop(state: 'closed' | 'unauthorized', info: LiveStateInfo = {}): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const socket = this.#socket;
    this.#dropSocket();
    if (socket && socket.readyState <= OPEN) socket.close(1000, 'closed by the client');
    for (const off of this.#unsubscribe.splice(0)) off();
    this.#setState(state, info);
  }

  #setState(state: LiveState, info: LiveStateInfo): void {
    this.#state = state;
    call(this.options.onState, state, info);
  }

  #setUnread(count: number): void {
    if (count === this.#unread) return;
    this.#unread = count;
    call(this.options.onUnreadCount, count);
  }
}

/**
 * A frame as the server sends it, or undefined for anything else (not JSON, or without the
 * fields the client reads): a frame the client cannot use is ignored, never thrown on. The
 * notification's other fields are the application's to read.
 */
function parseFrame(raw: unknown): ServerFrame | undefined {
  let f: unknown;
  try {
    f = JSON.parse(typeof raw === 'string' ? raw : String(raw));
  } catch {
    return undefined;
  }
  if (typeof f !== 'object' || f === null) return undefined;
  const frame = f as Record<string, unknown>;
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  switch (frame.type) {
    case 'ready':
      return count(frame.unreadCount) ? (frame as ServerFrame) : undefined;
    case 'notification': {
      const n = frame.notification as Record<string, unknown> | null | undefined;
      return typeof n === 'object' && n !== null && typeof n.id === 'string' ? (frame as ServerFrame) : undefined;
    }
    case 'unread':
      return count(frame.unreadCount) && Array.isArray(frame.ids) && frame.ids.every((id) => typeof id === 'string') ? (frame as ServerFrame) : undefined;
    case 'read': {
      const ids = frame.ids;
      const valid = count(frame.unreadCount) && (frame.all === true || (Array.isArray(ids) && ids.every((id) => typeof id === 'string')));
      return valid ? (frame as ServerFrame) : undefined;
    }
    case 'error':
      return typeof frame.code === 'string' ? (frame as ServerFrame) : undefined;
    default:
      return typeof frame.type === 'string' ? (frame as ServerFrame) : undefined;
  }
}

/**
 * Calls an application callback. If it throws, the error is rethrown on its own (reported
 * like any uncaught error) rather than breaking the subscription's bookkeeping.
 */
function call<A extends unknown[]>(fn: ((...args: A) => void) | undefined, ...args: A): void {
  if (!fn) return;
  try {
    fn(...args);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}

/** In a browser: coming back online or to the tab. Elsewhere nothing. Returns the remover. */
function listenForWakeUps(wake: () => void): () => void {
  const target = globalThis as unknown as {
    addEventListener?: (type: string, fn: () => void) => void;
    removeEventListener?: (type: string, fn: () => void) => void;
    document?: { visibilityState?: string };
  };
  if (typeof target.addEventListener !== 'function') return () => undefined;
  const onVisible = () => {
    if (target.document?.visibilityState === 'visible') wake();
  };
  target.addEventListener('online', wake);
  target.addEventListener('visibilitychange', onVisible);
  return () => {
    target.removeEventListener?.('online', wake);
    target.removeEventListener?.('visibilitychange', onVisible);
  };
}

/** Under Node a pending timer must not keep the process alive; browsers return a number. */
function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
