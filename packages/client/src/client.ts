/** createWarrenClient: the session, the inbox, sends and live subscriptions over one set of options. */
import { auditEventsOf } from './audit.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import { browserTabCoordinator } from './cross-tab.js';
import { Http } from './http.js';
import { LiveSubscription } from './live.js';
import { WarrenProblem } from './problem.js';
import { Session } from './session.js';
import type {
  FetchLike,
  InboxPage,
  Me,
  NotificationBody,
  SendOptions,
  SendStatus,
  SentPage,
  SessionInfo,
  UserPage,
  WarrenClient,
  WarrenClientOptions,
  WebSocketConstructor,
} from './types.js';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_KEEPALIVE_MS = 25_000;

export function createWarrenClient(options: WarrenClientOptions): WarrenClient {
  const mainUrl = trimSlash(options.mainBackendUrl);
  const notificationUrl = trimSlash(options.notificationUrl);
  const webSocketUrl = options.webSocketUrl ?? defaultWebSocketUrl(notificationUrl);
  const fetchImpl: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const http = new Http(fetchImpl, options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS);
  const storage = options.storage ?? null;
  const storageKey = options.storageKey ?? 'warren:refreshToken';
  const crossTab = options.crossTab ?? true;
  const tabs = typeof crossTab === 'object' ? crossTab : storage && crossTab ? browserTabCoordinator(storageKey) : null;
  const session = new Session(http, mainUrl, storage, storageKey, tabs);
  const backoff = { ...DEFAULT_BACKOFF, ...options.reconnect };

  const inbox: WarrenClient['inbox'] = {
    list({ limit, before } = {}) {
      const query = new URLSearchParams();
      if (limit !== undefined) query.set('limit', String(limit));
      if (before !== undefined) query.set('before', before);
      const qs = query.toString();
      return session.authorized<InboxPage>('GET', `${notificationUrl}/inbox${qs ? `?${qs}` : ''}`);
    },
    async unreadCount() {
      return (await session.authorized<{ count: number }>('GET', `${notificationUrl}/inbox/unread-count`)).count;
    },
    async markRead(id) {
      await session.authorized('POST', `${notificationUrl}/inbox/${encodeURIComponent(id)}/read`);
    },
    async markUnread(id) {
      await session.authorized('POST', `${notificationUrl}/inbox/${encodeURIComponent(id)}/unread`);
    },
    async markAllRead() {
      await session.authorized('POST', `${notificationUrl}/inbox/read-all`);
    },
  };

  const account: WarrenClient['account'] = {
    async register(body) {
      await http.request('POST', `${mainUrl}/auth/register`, { body });
    },
    async verifyEmail(body) {
      await http.request('POST', `${mainUrl}/auth/verify-email`, { body });
    },
    async forgotPassword(email) {
      await http.request('POST', `${mainUrl}/auth/password/forgot`, { body: { email } });
    },
    async resetPassword(body) {
      await http.request('POST', `${mainUrl}/auth/password/reset`, { body });
    },
  };

  const sessions: WarrenClient['sessions'] = {
    list: () => session.authorized<SessionInfo[]>('GET', `${mainUrl}/auth/sessions`),
    async revoke(id) {
      const current = session.state.state === 'signedIn' && session.state.sessionId === id;
      await session.authorized('DELETE', `${mainUrl}/auth/sessions/${encodeURIComponent(id)}`);
      if (current) session.forget();
    },
    async logoutAll() {
      await session.authorized('POST', `${mainUrl}/auth/logout-all`);
      session.forget();
    },
  };

  const users: WarrenClient['users'] = {
    search({ q, limit, after } = {}) {
      const query = new URLSearchParams();
      if (q) query.set('q', q);
      if (limit !== undefined) query.set('limit', String(limit));
      if (after) query.set('after', after);
      const qs = query.toString();
      return session.authorized<UserPage>('GET', `${mainUrl}/users${qs ? `?${qs}` : ''}`);
    },
    changeRole: (id, role) => session.authorized<Me['user']>('PATCH', `${mainUrl}/users/${encodeURIComponent(id)}`, { body: { role } }),
  };

  /** A send with its Idempotency-Key; a failure names the key, to retry it without sending twice. */
  async function sendWithKey<T>(path: string, body: unknown, opts: SendOptions | undefined): Promise<T> {
    const key = opts?.idempotencyKey ?? randomKey();
    try {
      return await session.authorized<T>('POST', `${mainUrl}${path}`, { body, headers: { 'idempotency-key': key } });
    } catch (err) {
      throw err instanceof WarrenProblem ? err.withIdempotencyKey(key) : err;
    }
  }

  return {
    login: (credentials) => session.login(credentials),
    restore: () => session.restore(),
    refresh: () => session.refresh(),
    logout: () => session.logout(),
    me: () => session.authorized<Me>('GET', `${mainUrl}/auth/me`),
    accessToken: () => session.token(),
    get session() {
      return session.state;
    },
    onSession: (listener) => session.onSession(listener),
    inbox,
    account,
    sessions,
    users,
    auditEvents: auditEventsOf(session, mainUrl),
    notifications: {
      status: (id: string) => session.authorized<SendStatus>('GET', `${notificationUrl}/notifications/${encodeURIComponent(id)}`),
      send: (body: NotificationBody, opts?: SendOptions) => sendWithKey<{ id: string }>('/notifications', body, opts),
      sendBatch: (bodies: NotificationBody[], opts?: SendOptions) =>
        sendWithKey<{ ids: string[] }>('/notifications/batch', { notifications: bodies }, opts),
      sent({ limit, before } = {}) {
        const query = new URLSearchParams();
        if (limit !== undefined) query.set('limit', String(limit));
        if (before !== undefined) query.set('before', before);
        const qs = query.toString();
        return session.authorized<SentPage>('GET', `${notificationUrl}/notifications/sent${qs ? `?${qs}` : ''}`);
      },
    },
    live: {
      subscribe(onNotification, subscribeOptions) {
        const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
        if (!WebSocketImpl) throw new TypeError('No WebSocket here: pass one (for Node 20: the `ws` package) as the WebSocket option.');
        return new LiveSubscription(
          {
            session,
            WebSocket: WebSocketImpl,
            webSocketUrl,
            backoff,
            keepaliveMs: options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS,
            newestId: async () => (await inbox.list({ limit: 1 })).items[0]?.id ?? null,
            unreadCount: () => inbox.unreadCount(),
          },
          onNotification,
          subscribeOptions,
        );
      },
    },
  };
}

function trimSlash(url: string): string {
  return String(url).replace(/\/+$/, '');
}

/** `https://host/prefix` → `wss://host/prefix/ws`. */
function defaultWebSocketUrl(notificationUrl: string): string {
  const url = new URL(notificationUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws`;
  url.search = '';
  url.hash = '';
  return url.href;
}

/** A fresh Idempotency-Key. crypto.randomUUID needs a secure context; getRandomValues does not. */
function randomKey(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const bytes = c.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
