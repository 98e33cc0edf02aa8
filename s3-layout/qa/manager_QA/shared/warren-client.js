/**
 * Warren browser client: login, token refresh, the inbox over REST and live notifications over
 * WebSocket. No framework, no build step, no dependency: a plain ES module that every portal
 * imports. It knows nothing about the DOM; `portal.js` renders what it reports.
 *
 * Events (it is an EventTarget; each event is a CustomEvent whose `detail` is given here):
 *   session       {user, permissions}            logged in, or the session was restored on reload
 *   signedout     {reason}                        logout, or the session ended (refresh refused)
 *   ready         {unreadCount, reconnected}      the socket is authenticated
 *   notification  {notification, live}           a notification pushed on the socket
 *   read          {ids?, all?, unreadCount}       read state changed (from this tab or elsewhere)
 *   unread        {count}                         the unread count, whenever it changes
 *   connection    {state, code?, retryInMs?}      'connecting' | 'live' | 'retrying' | 'stopped'
 *
 * Tokens. The access token lives only in memory (a private field): nothing else on the page can
 * read it back from storage, and it dies with the page. The refresh token is kept in
 * sessionStorage, never localStorage, and that is the most this client stores:
 *   - sessionStorage survives a reload of this tab, so F5 does not log the user out, and is
 *     dropped when the tab closes; nothing is written to disk for other tabs or later visits.
 *   - it is per tab. Refresh tokens rotate on every use and presenting a rotated one revokes the
 *     whole session (see the README); a token shared by several tabs (localStorage) would make
 *     two tabs refreshing at once log each other out.
 *   - the key names the partition and the portal, because one bucket origin serves dev and qa
 *     portals alike.
 * The cost: script running in this origin could read it. Hence: no third-party script, no
 * innerHTML with data anywhere in the portals, and rotation with reuse detection on the server.
 * (A tab duplicated by the browser copies sessionStorage; the first of the two tabs to refresh
 * wins and the other is sent back to the login form.)
 */

/** An error answer of the API, from its RFC 9457 problem details body. */
export class ApiError extends Error {
  constructor(status, problem = {}) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code ?? null;
    this.title = problem.title ?? null;
    this.detail = problem.detail ?? null;
    /** Validation errors: [{path, message}]. */
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.retryAfter = problem.retryAfter ?? null;
  }
}

/** Close codes after which the socket reconnects with ?after= (README, "close code" table). */
const RESUMABLE_CLOSE_CODES = new Set([1001, 1006, 1011, 1012, 4008]);
/** The server is full or the user has too many sockets: come back, but slowly. */
const BUSY_CLOSE_CODES = new Set([1013, 4029]);
/** A client bug (bad ?after=, flood, oversized frame): retrying would repeat it. */
const FATAL_CLOSE_CODES = new Set([1008, 1009]);
const TOKEN_CLOSE_CODE = 4001;

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const BUSY_MIN_MS = 15_000;

export class WarrenClient extends EventTarget {
  #config;
  #fetch;
  #WebSocket;
  #storage;
  #storageKey;

  #accessToken = null;
  #accessExpiresAt = 0;
  #accessTtlMs = 0;
  #refreshTimer = null;
  /** One refresh in flight at most: concurrent callers share it (a second would be a reuse). */
  #refreshing = null;

  #socket = null;
  /** The access token the open socket was authenticated with. */
  #socketToken = null;
  #wantSocket = false;
  #attempt = 0;
  #retryTimer = null;
  #reconcileTimer = null;
  #hadReady = false;

  user = null;
  permissions = [];
  unreadCount = 0;
  /** Newest notification id seen, from the inbox or the socket (ids compare as strings). */
  newestId = null;

  /**
   * @param {{apiUrl: string, notificationUrl?: string, wsUrl: string, partition?: string, portal?: string}} config
   * @param {{fetch?: typeof fetch, WebSocket?: typeof WebSocket, storage?: Storage | null}} [deps]
   */
  constructor(config, deps = {}) {
    super();
    this.#config = {
      apiUrl: trimSlash(config.apiUrl),
      notificationUrl: trimSlash(config.notificationUrl || config.apiUrl),
      wsUrl: config.wsUrl,
    };
    this.#fetch = deps.fetch ?? globalThis.fetch.bind(globalThis);
    this.#WebSocket = deps.WebSocket ?? globalThis.WebSocket;
    this.#storage = deps.storage === undefined ? safeSessionStorage() : deps.storage;
    this.#storageKey = `warren:${config.partition ?? 'default'}:${config.portal ?? 'portal'}:refreshToken`;
    if (typeof addEventListener === 'function') {
      // Back online or back to the tab: do not wait for a backoff timer or a throttled refresh timer.
      addEventListener('online', () => this.#wakeUp());
      if (typeof document !== 'undefined') {
        document.addEventListener('visibilitychange', () => {
          if (document.visibilityState === 'visible') this.#wakeUp();
        });
      }
    }
  }

  get signedIn() {
    return this.#accessToken !== null;
  }

  can(permission) {
    return this.permissions.includes(permission);
  }

  // ---------------------------------------------------------------- session

  /** POST /login. Throws ApiError (401 invalid_credentials, 403, 423 with retryAfter, 429 …). */
  async login(email, password) {
    const body = await this.#request('POST', `${this.#config.apiUrl}/login`, { email, password }, { auth: false });
    this.#acceptTokens(body);
    return body;
  }

  /** On page load: resumes the session of this tab, if it kept a refresh token. */
  async restore() {
    if (!this.#readRefreshToken()) return false;
    try {
      await this.refresh();
      return true;
    } catch {
      return false;
    }
  }

  /** POST /auth/refresh with the stored refresh token; shared by concurrent callers. */
  refresh() {
    if (!this.#refreshing) {
      this.#refreshing = this.#doRefresh().finally(() => {
        this.#refreshing = null;
      });
    }
    return this.#refreshing;
  }

  async #doRefresh() {
    const refreshToken = this.#readRefreshToken();
    if (!refreshToken) throw new ApiError(401, { code: 'no_refresh_token', detail: 'Please sign in.' });
    let body;
    try {
      body = await this.#request('POST', `${this.#config.apiUrl}/auth/refresh`, { refreshToken }, { auth: false });
    } catch (err) {
      // 401: unknown, expired or already rotated token: this session is over.
      if (err instanceof ApiError && err.status === 401) this.#endSession('expired');
      throw err;
    }
    this.#acceptTokens(body);
    // A live socket is extended in place instead of being reopened.
    this.#sendFrame({ type: 'auth', token: this.#accessToken });
    return body;
  }

  /** POST /auth/logout (ends this session's refresh token), then forgets everything. */
  async logout() {
    const token = this.#accessToken;
    this.#endSession('logout');
    if (token) {
      try {
        await this.#request('POST', `${this.#config.apiUrl}/auth/logout`, undefined, { token });
      } catch {
        // Signed out locally anyway; the refresh token is gone from this tab.
      }
    }
  }

  #acceptTokens(body) {
    this.#accessToken = body.accessToken;
    const ttlMs = Math.max(1, Number(body.expiresIn) || 900) * 1000;
    this.#accessExpiresAt = Date.now() + ttlMs;
    this.#accessTtlMs = ttlMs;
    this.#writeRefreshToken(body.refreshToken);
    const firstTime = this.user === null;
    this.user = body.user;
    this.permissions = Array.isArray(body.permissions) ? body.permissions : [];
    // Refresh ahead of expiry: a minute before, or at 75 % of a short lifetime.
    const lead = Math.min(60_000, ttlMs * 0.25);
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(() => {
      this.refresh().catch(() => undefined);
    }, ttlMs - lead);
    // Under node (tests, scripts) a pending refresh must not keep the process alive.
    this.#refreshTimer?.unref?.();
    if (firstTime) this.#emit('session', { user: this.user, permissions: this.permissions });
  }

  #endSession(reason) {
    const wasSignedIn = this.user !== null || this.#accessToken !== null;
    clearTimeout(this.#refreshTimer);
    this.#accessToken = null;
    this.#accessExpiresAt = 0;
    this.#removeRefreshToken();
    this.user = null;
    this.permissions = [];
    this.newestId = null;
    this.unreadCount = 0;
    this.disconnect();
    if (wasSignedIn) this.#emit('signedout', { reason });
  }

  /** Before a request: a token that is about to expire (timers sleep in background tabs) is renewed. */
  async #freshToken() {
    const margin = Math.min(5_000, this.#accessTtlMs * 0.1);
    if (this.#accessToken && Date.now() < this.#accessExpiresAt - margin) return this.#accessToken;
    await this.refresh();
    return this.#accessToken;
  }

  #wakeUp() {
    if (!this.signedIn) return;
    if (Date.now() >= this.#accessExpiresAt - 60_000) this.refresh().catch(() => undefined);
    if (this.#wantSocket && !this.#socket) {
      clearTimeout(this.#retryTimer);
      this.#openSocket();
    }
  }

  // ---------------------------------------------------------------- REST

  /** GET /inbox: {items (newest first), nextCursor}. Pass the previous nextCursor as `before`. */
  async inbox({ limit = 20, before } = {}) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before) query.set('before', before);
    const page = await this.#request('GET', `${this.#config.notificationUrl}/inbox?${query}`);
    for (const n of page.items) this.#seen(n.id);
    return page;
  }

  /** GET /inbox/unread-count. */
  async fetchUnreadCount() {
    const { count } = await this.#request('GET', `${this.#config.notificationUrl}/inbox/unread-count`);
    this.#setUnread(count);
    return count;
  }

  /** POST /inbox/:id/read. Every socket of the user then hears a `read` frame. */
  async markRead(id) {
    await this.#request('POST', `${this.#config.notificationUrl}/inbox/${encodeURIComponent(id)}/read`);
  }

  /** POST /inbox/read-all. */
  async markAllRead() {
    await this.#request('POST', `${this.#config.notificationUrl}/inbox/read-all`);
  }

  /**
   * POST /notifications (permission notifications:send). An Idempotency-Key made per call means
   * a retry of this call (a timeout, a 503) cannot send it twice.
   */
  async sendNotification({ recipients, title, body, type, data }, idempotencyKey = randomKey()) {
    const payload = { recipients, title, body };
    if (type) payload.type = type;
    if (data) payload.data = data;
    const headers = idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {};
    return this.#request('POST', `${this.#config.apiUrl}/notifications`, payload, { headers });
  }

  async #request(method, url, body, opts = {}) {
    const useAuth = opts.auth !== false;
    for (let attempt = 0; ; attempt++) {
      const token = opts.token ?? (useAuth ? await this.#freshToken() : null);
      const headers = { accept: 'application/json, application/problem+json', ...opts.headers };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (token) headers.authorization = `Bearer ${token}`;
      let res;
      try {
        res = await this.#fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
      } catch {
        throw new ApiError(0, { code: 'network_error', title: 'Network error', detail: 'The server cannot be reached. Check your connection and try again.' });
      }
      // An access token refused mid-life (a key rotation, a clock jump): refresh once and retry.
      if (res.status === 401 && useAuth && !opts.token && attempt === 0) {
        const problem = await readJson(res);
        if (problem?.code === 'token_expired' || problem?.code === 'invalid_token') {
          this.#accessExpiresAt = 0;
          continue;
        }
        throw new ApiError(401, problem ?? {});
      }
      if (res.status === 204) return undefined;
      const json = await readJson(res);
      if (!res.ok) {
        const problem = json ?? { title: res.statusText || `HTTP ${res.status}` };
        const retryAfter = res.headers.get('retry-after');
        throw new ApiError(res.status, { ...problem, retryAfter: retryAfter ? Number(retryAfter) : null });
      }
      return json;
    }
  }

  // ---------------------------------------------------------------- WebSocket

  /**
   * Opens the live socket and keeps it open (reconnecting with backoff) until disconnect().
   * Reconnects pass ?after=<newest id seen>, so the server replays what was missed, in order.
   */
  connect() {
    this.#wantSocket = true;
    this.#hadReady = false;
    if (!this.#socket) this.#openSocket();
  }

  disconnect() {
    this.#wantSocket = false;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#reconcileTimer);
    const socket = this.#socket;
    this.#socket = null;
    if (socket && socket.readyState <= 1) socket.close(1000, 'bye');
    this.#emit('connection', { state: 'stopped' });
  }

  async #openSocket() {
    if (!this.#wantSocket || this.#socket) return;
    let token;
    try {
      token = await this.#freshToken();
    } catch {
      if (this.signedIn) this.#scheduleReconnect(undefined);
      return;
    }
    if (!this.#wantSocket || this.#socket) return;
    const url = new URL(this.#config.wsUrl);
    url.searchParams.set('token', token);
    if (this.newestId) url.searchParams.set('after', this.newestId);
    this.#emit('connection', { state: 'connecting' });
    const socket = new this.#WebSocket(url.href);
    this.#socket = socket;
    this.#socketToken = token;
    socket.onmessage = (event) => {
      if (this.#socket === socket) this.#onFrame(event.data);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#onClose(event.code);
    };
  }

  #onFrame(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    switch (frame.type) {
      case 'ready': {
        const reconnected = this.#hadReady;
        this.#hadReady = true;
        this.#attempt = 0;
        this.#setUnread(frame.unreadCount);
        // Refreshed while the socket was still opening: extend it with the new token now.
        if (this.#accessToken && this.#socketToken !== this.#accessToken) this.#sendFrame({ type: 'auth', token: this.#accessToken });
        this.#emit('connection', { state: 'live' });
        this.#emit('ready', { unreadCount: frame.unreadCount, reconnected });
        // After a reconnect the server replays what was missed; those notifications may already
        // be in the count it just sent. Once the replay has settled, ask for the exact count.
        if (reconnected) this.#reconcileSoon();
        break;
      }
      case 'notification': {
        const n = frame.notification;
        const isNew = this.newestId === null || n.id > this.newestId;
        this.#seen(n.id);
        if (isNew && !n.readAt) this.#setUnread(this.unreadCount + 1);
        if (this.#reconcileTimer) this.#reconcileSoon();
        this.#emit('notification', { notification: n, live: isNew });
        break;
      }
      case 'read':
        this.#setUnread(frame.unreadCount);
        this.#emit('read', { ids: frame.ids, all: frame.all === true, unreadCount: frame.unreadCount });
        break;
      default:
        // auth_ok, pong, error: nothing to show.
        break;
    }
  }

  #onClose(code) {
    if (!this.#wantSocket) return;
    if (FATAL_CLOSE_CODES.has(code)) {
      this.#wantSocket = false;
      this.#emit('connection', { state: 'stopped', code });
      return;
    }
    if (code === TOKEN_CLOSE_CODE) {
      // The token ran out before it was renewed (a sleeping laptop): renew, then resume.
      this.#accessExpiresAt = 0;
    }
    this.#scheduleReconnect(code);
  }

  #scheduleReconnect(code) {
    clearTimeout(this.#retryTimer);
    const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.#attempt);
    this.#attempt++;
    // Full jitter: thousands of clients dropped by one replica restart do not return together.
    let delay = Math.round(Math.random() * exp);
    if (BUSY_CLOSE_CODES.has(code)) delay = Math.max(delay, BUSY_MIN_MS);
    if (RESUMABLE_CLOSE_CODES.has(code) || code === TOKEN_CLOSE_CODE) delay = Math.max(delay, 100);
    this.#emit('connection', { state: 'retrying', code, retryInMs: delay });
    this.#retryTimer = setTimeout(() => this.#openSocket(), delay);
  }

  #reconcileSoon() {
    clearTimeout(this.#reconcileTimer);
    this.#reconcileTimer = setTimeout(() => {
      this.#reconcileTimer = null;
      this.fetchUnreadCount().catch(() => undefined);
    }, 750);
  }

  #sendFrame(frame) {
    const socket = this.#socket;
    if (!socket || socket.readyState !== 1) return;
    socket.send(JSON.stringify(frame));
    if (frame.type === 'auth') this.#socketToken = frame.token;
  }

  // ---------------------------------------------------------------- helpers

  #seen(id) {
    if (this.newestId === null || id > this.newestId) this.newestId = id;
  }

  #setUnread(count) {
    const next = Math.max(0, Number(count) || 0);
    if (next === this.unreadCount) return;
    this.unreadCount = next;
    this.#emit('unread', { count: next });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #readRefreshToken() {
    try {
      return this.#storage?.getItem(this.#storageKey) ?? null;
    } catch {
      return null;
    }
  }

  #writeRefreshToken(token) {
    try {
      this.#storage?.setItem(this.#storageKey, token);
    } catch {
      // Storage disabled or full: the session simply does not survive a reload.
    }
  }

  #removeRefreshToken() {
    try {
      this.#storage?.removeItem(this.#storageKey);
    } catch {
      // nothing stored
    }
  }
}

function trimSlash(url) {
  return String(url).replace(/\/+$/, '');
}

async function readJson(res) {
  const text = await res.text().catch(() => '');
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function randomKey() {
  return globalThis.crypto?.randomUUID?.() ?? null;
}

function safeSessionStorage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // blocked by the browser's privacy settings
  }
}
