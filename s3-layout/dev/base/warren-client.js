// @warren/client, built from packages/client/src by `npm run build -w packages/client`. Do not edit:
// change the sources and rebuild (test/s3-layout.test.ts fails while this copy is stale).

// src/backoff.ts
var DEFAULT_BACKOFF = { baseMs: 500, capMs: 3e4, busyMinMs: 15e3 };
function backoffDelay(attempt, opts, random = Math.random) {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(random() * ceiling);
}

// src/cross-tab.ts
function nextGeneration(previous) {
  return `${generationNumber(previous) + 1}.${randomTag()}`;
}
function isNewer(a, b) {
  return generationNumber(a) > generationNumber(b);
}
function generationNumber(g) {
  const n = g ? Number.parseInt(g, 10) : 0;
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}
function randomTag() {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
var DB_NAME = "warren-client";
var STORE = "generations";
var RECORD_TTL_MS = 31 * 24 * 3600 * 1e3;
function browserTabCoordinator(key) {
  const g = globalThis;
  const locks = g.navigator?.locks;
  if (typeof locks?.request !== "function" || typeof g.BroadcastChannel !== "function" || !g.indexedDB) return null;
  let channel;
  try {
    channel = new g.BroadcastChannel(`warren-client:${key}`);
  } catch {
    return null;
  }
  const idb = g.indexedDB;
  const listeners = /* @__PURE__ */ new Set();
  channel.onmessage = (event) => {
    const message = parseMessage(event.data);
    if (message) for (const listener of [...listeners]) listener(message);
  };
  let db = null;
  const open = () => db ??= new Promise((resolve) => {
    let request;
    try {
      request = idb.open(DB_NAME, 1);
    } catch {
      return resolve(null);
    }
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null);
    request.onblocked = () => resolve(null);
  });
  const recordKey = (sessionId) => `${key}|${sessionId}`;
  async function transact(mode, work) {
    const database = await open();
    if (!database) return null;
    return new Promise((resolve) => {
      let tx;
      try {
        tx = database.transaction(STORE, mode);
      } catch {
        return resolve(null);
      }
      const request = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request ? request.result : null);
      tx.onerror = () => resolve(null);
      tx.onabort = () => resolve(null);
    });
  }
  return {
    exclusive: (fn) => locks.request(`warren-client:refresh:${key}`, { mode: "exclusive" }, fn),
    async generation(sessionId) {
      const record = await transact("readonly", (store) => store.get(recordKey(sessionId)));
      return typeof record?.generation === "string" ? record.generation : null;
    },
    async setGeneration(sessionId, generation) {
      const now = Date.now();
      await transact("readwrite", (store) => {
        store.put({ generation, at: now }, recordKey(sessionId));
        const sweep = store.openCursor();
        sweep.onsuccess = () => {
          const cursor = sweep.result;
          if (!cursor) return;
          const at = cursor.value.at;
          if (typeof at !== "number" || at < now - RECORD_TTL_MS) cursor.delete();
          cursor.continue();
        };
      });
    },
    async forget(sessionId) {
      await transact("readwrite", (store) => store.delete(recordKey(sessionId)));
    },
    post(message) {
      try {
        channel.postMessage(message);
      } catch {
      }
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    }
  };
}
function parseMessage(data) {
  if (typeof data !== "object" || data === null) return void 0;
  const m = data;
  if (typeof m.sessionId !== "string") return void 0;
  switch (m.type) {
    case "rotated": {
      const pair = m.pair;
      const valid = typeof m.generation === "string" && typeof pair?.accessToken === "string" && typeof pair.refreshToken === "string" && typeof pair.expiresIn === "number" && typeof pair.user === "object" && Array.isArray(pair.permissions) && typeof pair.session?.id === "string";
      return valid ? m : void 0;
    }
    case "ask":
      return typeof m.generation === "string" ? m : void 0;
    case "ended":
      return m;
    default:
      return void 0;
  }
}

// src/problem.ts
var WarrenProblem = class _WarrenProblem extends Error {
  type;
  title;
  status;
  detail;
  code;
  instance;
  /** Validation errors: which field, and why. */
  errors;
  /** Seconds to wait before trying again (429, 423, 503), from the Retry-After header. */
  retryAfter;
  /** On a failed send: the key to send it again with (same key, same body: stored once). */
  idempotencyKey;
  constructor(problem, extra = {}) {
    const title = problem.title ?? `HTTP ${problem.status}`;
    const detail = problem.detail ?? title;
    super(detail);
    this.name = "WarrenProblem";
    this.type = problem.type ?? "about:blank";
    this.title = title;
    this.status = problem.status;
    this.detail = detail;
    this.code = problem.code;
    this.instance = problem.instance;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.retryAfter = extra.retryAfter ?? null;
    this.idempotencyKey = extra.idempotencyKey ?? null;
  }
  /** The same problem, naming the key a failed send can be retried with. */
  withIdempotencyKey(key) {
    return new _WarrenProblem(this, { retryAfter: this.retryAfter, idempotencyKey: key });
  }
  toJSON() {
    const { type, title, status, detail, code, instance, errors, retryAfter, idempotencyKey } = this;
    return { type, title, status, detail, code, instance, errors, retryAfter, idempotencyKey };
  }
};
function networkProblem() {
  return new WarrenProblem({
    status: 0,
    code: "network_error",
    title: "Network error",
    detail: "The server cannot be reached. Check the connection and try again."
  });
}
function notSignedIn() {
  return new WarrenProblem({ status: 401, code: "not_signed_in", title: "Unauthorized", detail: "Please sign in." });
}
function problemFrom(res, body) {
  const p = isObject(body) ? body : {};
  return new WarrenProblem(
    {
      type: typeof p.type === "string" ? p.type : void 0,
      title: typeof p.title === "string" ? p.title : res.statusText || `HTTP ${res.status}`,
      status: res.status,
      detail: typeof p.detail === "string" ? p.detail : void 0,
      code: typeof p.code === "string" ? p.code : `http_${res.status}`,
      instance: typeof p.instance === "string" ? p.instance : void 0,
      errors: Array.isArray(p.errors) ? p.errors.filter(isFieldError) : void 0
    },
    { retryAfter: retryAfterSeconds(res.headers.get("retry-after")) }
  );
}
function retryAfterSeconds(value) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1e3));
}
function isObject(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function isFieldError(v) {
  return isObject(v) && typeof v.path === "string" && typeof v.message === "string";
}

// src/http.ts
var Http = class {
  constructor(fetch, timeoutMs) {
    this.fetch = fetch;
    this.timeoutMs = timeoutMs;
  }
  fetch;
  timeoutMs;
  async request(method, url, opts = {}) {
    const headers = { accept: "application/json, application/problem+json", ...opts.headers };
    if (opts.body !== void 0) headers["content-type"] = "application/json";
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let res;
    try {
      res = await this.fetch(url, {
        method,
        headers,
        body: opts.body === void 0 ? void 0 : JSON.stringify(opts.body),
        signal: timeoutSignal(this.timeoutMs),
        // Answers carry tokens and inboxes: never from or into an HTTP cache.
        cache: "no-store"
      });
    } catch {
      throw networkProblem();
    }
    let text;
    try {
      text = await res.text();
    } catch {
      throw networkProblem();
    }
    let json;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = void 0;
        if (res.ok) throw invalidResponse(res.status);
      }
    }
    if (!res.ok) throw problemFrom(res, json);
    return json;
  }
};
function invalidResponse(status) {
  return new WarrenProblem({ status, code: "invalid_response", title: "Invalid response", detail: "The server answered something that is not JSON." });
}
function timeoutSignal(ms) {
  return typeof AbortSignal !== "undefined" && typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(ms) : void 0;
}

// src/ids.ts
function compareIds(a, b) {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
var BEFORE_FIRST_ID = "0000000000000000";

// src/live.ts
var CLOSE_UNAUTHORIZED = 4001;
var FATAL_CLOSE_CODES = /* @__PURE__ */ new Set([1008, 1009]);
var BUSY_CLOSE_CODES = /* @__PURE__ */ new Set([1013, 4029]);
var REPLAY_QUIET_MS = 750;
var RENEW_RETRY_MS = 2e3;
var OPEN = 1;
var LiveSubscription = class {
  constructor(deps, onNotification, options = {}) {
    this.deps = deps;
    this.onNotification = onNotification;
    this.options = options;
    this.#lastId = options.after ?? null;
    this.#setState("connecting", {});
    this.#unsubscribe.push(
      deps.session.onToken((token) => this.#renewWith(token)),
      deps.session.onSession((s) => {
        if (s.state === "ended") this.#stop("unauthorized");
        else if (s.state === "signedOut") this.#stop("closed");
      }),
      listenForWakeUps(() => this.#wakeUp())
    );
    void this.#connect();
  }
  deps;
  onNotification;
  options;
  #state = "connecting";
  #lastId;
  #unread = null;
  #socket = null;
  /** The access token the socket last authenticated with. */
  #socketToken = null;
  #ready = false;
  #attempt = 0;
  #stopped = false;
  /** Counts changes to the unread count, so a REST read of it that raced one is not applied. */
  #changes = 0;
  #lastHeard = 0;
  #retryTimer;
  #renewTimer;
  #replayTimer;
  #keepaliveTimer;
  #unsubscribe = [];
  get state() {
    return this.#state;
  }
  get lastId() {
    return this.#lastId;
  }
  get unreadCount() {
    return this.#unread;
  }
  close() {
    this.#stop("closed");
  }
  // ------------------------------------------------------------------ connecting
  async #connect() {
    this.#retryTimer = void 0;
    if (this.#stopped) return;
    let token;
    try {
      this.#lastId ??= await this.deps.newestId() ?? BEFORE_FIRST_ID;
      token = await this.deps.session.token();
    } catch {
      return this.#failed();
    }
    if (this.#stopped || this.#socket) return;
    const url = new URL(this.deps.webSocketUrl);
    url.searchParams.set("token", token);
    url.searchParams.set("after", this.#lastId);
    let socket;
    try {
      socket = new this.deps.WebSocket(url.href);
    } catch {
      return this.#stop("closed");
    }
    this.#socket = socket;
    this.#socketToken = token;
    this.#ready = false;
    socket.onmessage = (event) => {
      if (this.#socket === socket) this.#onFrame(event.data);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#dropSocket();
      void this.#onClose(event.code);
    };
    socket.onerror = () => void 0;
  }
  /** Getting a token or the start id failed: the session ended, or try again later. */
  #failed() {
    if (this.deps.session.state.state !== "signedIn") return this.#stop("unauthorized");
    this.#retryLater(void 0);
  }
  async #onClose(code) {
    if (this.#stopped) return;
    if (FATAL_CLOSE_CODES.has(code)) return this.#stop("closed", { code });
    if (code === CLOSE_UNAUTHORIZED) {
      try {
        await this.deps.session.refreshIfCurrent(this.#socketToken);
      } catch {
        return this.#failed();
      }
    }
    this.#retryLater(code);
  }
  #retryLater(code) {
    if (this.#stopped) return;
    let delay = backoffDelay(this.#attempt++, this.deps.backoff);
    if (code !== void 0 && BUSY_CLOSE_CODES.has(code)) delay = Math.max(delay, this.deps.backoff.busyMinMs);
    this.#setState("reconnecting", code === void 0 ? { retryInMs: delay } : { code, retryInMs: delay });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = unref(setTimeout(() => void this.#connect(), delay));
  }
  /** Back online, or back to the tab: a pending retry happens now. */
  #wakeUp() {
    if (this.#stopped || this.#retryTimer === void 0) return;
    clearTimeout(this.#retryTimer);
    void this.#connect();
  }
  // ------------------------------------------------------------------ frames
  #onFrame(raw) {
    this.#lastHeard = Date.now();
    const frame = parseFrame(raw);
    if (!frame) return;
    switch (frame.type) {
      case "ready":
        this.#ready = true;
        this.#attempt = 0;
        this.#changes++;
        this.#setUnread(frame.unreadCount);
        this.#setState("open", {});
        this.#scheduleRenewal();
        this.#renewWith(this.deps.session.currentToken);
        this.#startKeepalive();
        this.#replaySettlesSoon();
        return;
      case "notification":
        return this.#onNotification(frame.notification);
      case "read": {
        this.#changes++;
        this.#setUnread(frame.unreadCount);
        const change = frame.all ? { all: true, unreadCount: frame.unreadCount } : { ids: frame.ids ?? [], unreadCount: frame.unreadCount };
        return call(this.options.onRead, change);
      }
      case "unread":
        this.#changes++;
        this.#setUnread(frame.unreadCount);
        return call(this.options.onUnread, { ids: frame.ids, unreadCount: frame.unreadCount });
      case "error":
        if (frame.code === "service_unavailable") this.#scheduleRenewal(RENEW_RETRY_MS);
        return;
      default:
        return;
    }
  }
  #onNotification(n) {
    if (this.#lastId !== null && compareIds(n.id, this.#lastId) <= 0) return;
    this.#lastId = n.id;
    if (!n.readAt && this.#unread !== null) {
      this.#changes++;
      this.#setUnread(this.#unread + 1);
    }
    if (this.#replayTimer !== void 0) this.#replaySettlesSoon();
    call(this.onNotification, n);
  }
  #replaySettlesSoon() {
    clearTimeout(this.#replayTimer);
    this.#replayTimer = unref(
      setTimeout(() => {
        this.#replayTimer = void 0;
        void this.#reconcileUnread();
      }, REPLAY_QUIET_MS)
    );
  }
  async #reconcileUnread() {
    const changes = this.#changes;
    let count;
    try {
      count = await this.deps.unreadCount();
    } catch {
      return;
    }
    if (this.#stopped) return;
    if (changes !== this.#changes) return this.#replaySettlesSoon();
    this.#setUnread(count);
  }
  // ------------------------------------------------------------------ token renewal
  /** At the token's due time, have it refreshed; the new token reaches #renewWith. */
  #scheduleRenewal(delayMs) {
    clearTimeout(this.#renewTimer);
    const due = this.deps.session.refreshAt;
    if (this.#stopped || !this.#ready || due === null) return;
    const delay = delayMs ?? Math.max(0, due - Date.now()) + 10;
    this.#renewTimer = unref(
      setTimeout(() => {
        this.deps.session.token().then(
          () => this.#scheduleRenewal(),
          // Offline: try again shortly; at worst the server closes with 4001 and we reconnect.
          () => this.#scheduleRenewal(RENEW_RETRY_MS)
        );
      }, delay)
    );
  }
  /** A new access token (from any refresh): extend the open socket with it, in place. */
  #renewWith(token) {
    const socket = this.#socket;
    if (token === null || token === this.#socketToken || !this.#ready || !socket || socket.readyState !== OPEN) return;
    this.#send({ type: "auth", token });
    this.#socketToken = token;
    this.#scheduleRenewal();
  }
  // ------------------------------------------------------------------ keepalive
  #startKeepalive() {
    clearInterval(this.#keepaliveTimer);
    if (this.deps.keepaliveMs <= 0) return;
    this.#keepaliveTimer = unref(
      setInterval(() => {
        if (Date.now() - this.#lastHeard > 2 * this.deps.keepaliveMs) {
          const socket = this.#socket;
          this.#dropSocket();
          socket?.close();
          this.#retryLater(void 0);
          return;
        }
        this.#send({ type: "ping" });
      }, this.deps.keepaliveMs)
    );
  }
  // ------------------------------------------------------------------ helpers
  #send(frame) {
    const socket = this.#socket;
    if (socket && socket.readyState === OPEN) socket.send(JSON.stringify(frame));
  }
  /** Forgets the current socket and everything that ran for it. */
  #dropSocket() {
    this.#socket = null;
    this.#ready = false;
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#replayTimer);
    this.#replayTimer = void 0;
    clearInterval(this.#keepaliveTimer);
  }
  #stop(state, info = {}) {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = void 0;
    const socket = this.#socket;
    this.#dropSocket();
    if (socket && socket.readyState <= OPEN) socket.close(1e3, "closed by the client");
    for (const off of this.#unsubscribe.splice(0)) off();
    this.#setState(state, info);
  }
  #setState(state, info) {
    this.#state = state;
    call(this.options.onState, state, info);
  }
  #setUnread(count) {
    if (count === this.#unread) return;
    this.#unread = count;
    call(this.options.onUnreadCount, count);
  }
};
function parseFrame(raw) {
  let f;
  try {
    f = JSON.parse(typeof raw === "string" ? raw : String(raw));
  } catch {
    return void 0;
  }
  if (typeof f !== "object" || f === null) return void 0;
  const frame = f;
  const count = (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  switch (frame.type) {
    case "ready":
      return count(frame.unreadCount) ? frame : void 0;
    case "notification": {
      const n = frame.notification;
      return typeof n === "object" && n !== null && typeof n.id === "string" ? frame : void 0;
    }
    case "unread":
      return count(frame.unreadCount) && Array.isArray(frame.ids) && frame.ids.every((id) => typeof id === "string") ? frame : void 0;
    case "read": {
      const ids = frame.ids;
      const valid = count(frame.unreadCount) && (frame.all === true || Array.isArray(ids) && ids.every((id) => typeof id === "string"));
      return valid ? frame : void 0;
    }
    case "error":
      return typeof frame.code === "string" ? frame : void 0;
    default:
      return typeof frame.type === "string" ? frame : void 0;
  }
}
function call(fn, ...args) {
  if (!fn) return;
  try {
    fn(...args);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
function listenForWakeUps(wake) {
  const target = globalThis;
  if (typeof target.addEventListener !== "function") return () => void 0;
  const onVisible = () => {
    if (target.document?.visibilityState === "visible") wake();
  };
  target.addEventListener("online", wake);
  target.addEventListener("visibilitychange", onVisible);
  return () => {
    target.removeEventListener?.("online", wake);
    target.removeEventListener?.("visibilitychange", onVisible);
  };
}
function unref(timer) {
  timer.unref?.();
  return timer;
}

// src/single-flight.ts
function singleFlight(fn) {
  let inFlight = null;
  return () => {
    inFlight ??= (async () => fn())().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}

// src/session.ts
var ASK_TIMEOUT_MS = 3e3;
var Session = class {
  constructor(http, mainBackendUrl, storage, storageKey, tabs = null) {
    this.http = http;
    this.mainBackendUrl = mainBackendUrl;
    this.storage = storage;
    this.storageKey = storageKey;
    this.tabs = tabs;
    tabs?.onMessage((m) => this.#onTabMessage(m));
  }
  http;
  mainBackendUrl;
  storage;
  storageKey;
  tabs;
  #access = null;
  /** The refresh token, when there is no storage to keep it. */
  #refreshToken = null;
  #state = { state: "signedOut" };
  /** The last pair accepted, to hand to another tab of this session. */
  #pair = null;
  /** The tab record, when there is no storage to keep it. */
  #tabRecord = null;
  #sessionListeners = /* @__PURE__ */ new Set();
  #tokenListeners = /* @__PURE__ */ new Set();
  refresh = singleFlight(() => this.#refresh());
  get state() {
    return this.#state;
  }
  onSession(listener) {
    this.#sessionListeners.add(listener);
    return () => this.#sessionListeners.delete(listener);
  }
  /** Called with every new access token (after a login or a refresh). */
  onToken(listener) {
    this.#tokenListeners.add(listener);
    return () => this.#tokenListeners.delete(listener);
  }
  /** The access token held now, as it is (due or not); null when signed out. */
  get currentToken() {
    return this.#access?.token ?? null;
  }
  /** When the current access token becomes due for refresh (ms since the epoch), or null. */
  get refreshAt() {
    return this.#access?.refreshAt ?? null;
  }
  async login(credentials) {
    const pair = await this.http.request("POST", `${this.mainBackendUrl}/login`, {
      body: { email: credentials.email, password: credentials.password }
    });
    await this.#acceptNew(pair, null);
    return { user: pair.user, permissions: pair.permissions };
  }
  async restore() {
    if (this.#access) return true;
    if (!this.#readRefreshToken()) return false;
    try {
      await this.refresh();
      return true;
    } catch (err) {
      if (err instanceof WarrenProblem && err.status === 401) return false;
      throw err;
    }
  }
  async #refresh() {
    const tabs = this.tabs;
    if (!tabs) return this.#refreshNow();
    const seen = this.#access?.token ?? null;
    await tabs.exclusive(async () => {
      if ((this.#access?.token ?? null) !== seen) return;
      const mine = this.#readTabRecord();
      if (mine) {
        const latest = await tabs.generation(mine.sessionId);
        if (latest !== null && isNewer(latest, mine.generation) && await this.#askTabs(mine.sessionId, latest)) return;
      }
      await this.#refreshNow();
    });
  }
  async #refreshNow() {
    const refreshToken = this.#readRefreshToken();
    if (!refreshToken) throw notSignedIn();
    let pair;
    try {
      pair = await this.http.request("POST", `${this.mainBackendUrl}/auth/refresh`, { body: { refreshToken } });
    } catch (err) {
      if (err instanceof WarrenProblem && err.status === 401) this.#end(this.#access ? { state: "ended", code: err.code } : { state: "signedOut" }, true);
      throw err;
    }
    if (this.#readRefreshToken() !== refreshToken) throw notSignedIn();
    await this.#acceptNew(pair, this.#readTabRecord()?.generation ?? null);
  }
  /**
   * A pair fresh from the server: accepted, and with tabs, its generation recorded (committed
   * before the lock is released) and the pair handed to the other tabs of the session.
   */
  async #acceptNew(pair, previousGeneration) {
    const generation = nextGeneration(previousGeneration);
    this.#accept(pair, generation);
    if (!this.tabs) return;
    await this.tabs.setGeneration(pair.session.id, generation);
    this.tabs.post({ type: "rotated", sessionId: pair.session.id, generation, pair });
  }
  /** Asks the other tabs for the pair of `generation`; true once this tab holds it. */
  #askTabs(sessionId, generation) {
    const tabs = this.tabs;
    if (!tabs) return Promise.resolve(false);
    const has = () => {
      const mine = this.#readTabRecord();
      return mine !== null && mine.sessionId === sessionId && !isNewer(generation, mine.generation);
    };
    if (has()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (result) => {
        clearTimeout(timer);
        off();
        resolve(result);
      };
      const off = tabs.onMessage(() => {
        if (has()) done(true);
      });
      const timer = setTimeout(() => done(false), ASK_TIMEOUT_MS);
      tabs.post({ type: "ask", sessionId, generation });
    });
  }
  /** What another tab of this browser says about a session. */
  #onTabMessage(m) {
    const mine = this.#readTabRecord();
    if (!mine || mine.sessionId !== m.sessionId) return;
    switch (m.type) {
      case "rotated":
        if (isNewer(m.generation, mine.generation)) this.#accept(m.pair, m.generation);
        return;
      case "ask": {
        const access = this.#access;
        if (m.generation !== mine.generation || !access || !this.#pair) return;
        const expiresIn = Math.floor((access.expiresAt - Date.now()) / 1e3);
        const pair = { ...this.#pair, accessToken: access.token, refreshToken: this.#readRefreshToken() ?? "", expiresIn };
        if (pair.refreshToken) this.tabs?.post({ type: "rotated", sessionId: mine.sessionId, generation: mine.generation, pair });
        return;
      }
      case "ended":
        this.#end(this.#state.state === "signedOut" ? { state: "signedOut" } : { state: "ended", code: "session_ended_elsewhere" }, false);
        return;
    }
  }
  /** Refreshes unless `token` was replaced meanwhile (then the newer token is used as it is). */
  async refreshIfCurrent(token) {
    if (!this.#access) throw notSignedIn();
    if (token !== null && this.#access.token !== token) return;
    await this.refresh();
  }
  /** A valid access token, refreshed first if it is due. */
  async token() {
    const access = this.#access;
    if (!access) throw notSignedIn();
    if (Date.now() < access.refreshAt) return access.token;
    try {
      await this.refresh();
    } catch (err) {
      if (this.#access === access && Date.now() < access.expiresAt - 1e3) return access.token;
      throw err;
    }
    if (!this.#access) throw notSignedIn();
    return this.#access.token;
  }
  /** A request with the access token; answered 401, it refreshes (once) and is retried (once). */
  async authorized(method, url, opts = {}) {
    const token = await this.token();
    try {
      return await this.http.request(method, url, { ...opts, token });
    } catch (err) {
      if (!(err instanceof WarrenProblem) || err.status !== 401 || !this.#access) throw err;
    }
    await this.refreshIfCurrent(token);
    return this.http.request(method, url, { ...opts, token: await this.token() });
  }
  async logout() {
    const token = this.#access?.token;
    this.#end({ state: "signedOut" }, true);
    if (!token) return;
    try {
      await this.http.request("POST", `${this.mainBackendUrl}/auth/logout`, { token });
    } catch {
    }
  }
  /** Signs out here (and in the other tabs of the session) after the server ended the session: no request is made. */
  forget() {
    this.#end({ state: "signedOut" }, true);
  }
  #accept(pair, generation) {
    const now = Date.now();
    const ttlMs = Math.max(1, pair.expiresIn) * 1e3;
    this.#access = { token: pair.accessToken, expiresAt: now + ttlMs, refreshAt: now + ttlMs - Math.min(6e4, ttlMs / 4) };
    this.#pair = pair;
    this.#writeRefreshToken(pair.refreshToken);
    if (this.tabs) this.#writeTabRecord({ sessionId: pair.session.id, generation });
    const previous = this.#state;
    const next = { state: "signedIn", user: pair.user, permissions: pair.permissions, sessionId: pair.session.id };
    this.#state = next;
    if (previous.state !== "signedIn" || JSON.stringify(previous) !== JSON.stringify(next)) this.#emitSession();
    for (const listener of [...this.#tokenListeners]) listener(pair.accessToken);
  }
  /** Forgets the tokens; `announce`: also tells the other tabs of this session (which then end too). */
  #end(state, announce) {
    const wasSignedIn = this.#state.state === "signedIn";
    const record = this.tabs ? this.#readTabRecord() : null;
    if (record && announce) {
      void this.tabs?.forget(record.sessionId);
      this.tabs?.post({ type: "ended", sessionId: record.sessionId });
    }
    this.#access = null;
    this.#pair = null;
    this.#removeRefreshToken();
    this.#removeTabRecord();
    this.#state = state;
    if (wasSignedIn || state.state === "ended") this.#emitSession();
  }
  #emitSession() {
    const state = this.#state;
    for (const listener of [...this.#sessionListeners]) listener(state);
  }
  #readRefreshToken() {
    if (!this.storage) return this.#refreshToken;
    try {
      return this.storage.getItem(this.storageKey) ?? this.#refreshToken;
    } catch {
      return this.#refreshToken;
    }
  }
  #writeRefreshToken(token) {
    this.#refreshToken = token;
    try {
      this.storage?.setItem(this.storageKey, token);
    } catch {
    }
  }
  get #tabRecordKey() {
    return `${this.storageKey}:generation`;
  }
  #readTabRecord() {
    let raw = null;
    try {
      raw = this.storage?.getItem(this.#tabRecordKey) ?? null;
    } catch {
    }
    if (raw === null) return this.#tabRecord;
    try {
      const r = JSON.parse(raw);
      if (typeof r.sessionId === "string" && typeof r.generation === "string") return { sessionId: r.sessionId, generation: r.generation };
    } catch {
    }
    return this.#tabRecord;
  }
  #writeTabRecord(record) {
    this.#tabRecord = record;
    try {
      this.storage?.setItem(this.#tabRecordKey, JSON.stringify(record));
    } catch {
    }
  }
  #removeTabRecord() {
    this.#tabRecord = null;
    try {
      this.storage?.removeItem(this.#tabRecordKey);
    } catch {
    }
  }
  #removeRefreshToken() {
    this.#refreshToken = null;
    try {
      this.storage?.removeItem(this.storageKey);
    } catch {
    }
  }
};

// src/client.ts
var DEFAULT_TIMEOUT_MS = 3e4;
var DEFAULT_KEEPALIVE_MS = 25e3;
function createWarrenClient(options) {
  const mainUrl = trimSlash(options.mainBackendUrl);
  const notificationUrl = trimSlash(options.notificationUrl);
  const webSocketUrl = options.webSocketUrl ?? defaultWebSocketUrl(notificationUrl);
  const fetchImpl = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const http = new Http(fetchImpl, options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS);
  const storage = options.storage ?? null;
  const storageKey = options.storageKey ?? "warren:refreshToken";
  const crossTab = options.crossTab ?? true;
  const tabs = typeof crossTab === "object" ? crossTab : storage && crossTab ? browserTabCoordinator(storageKey) : null;
  const session = new Session(http, mainUrl, storage, storageKey, tabs);
  const backoff = { ...DEFAULT_BACKOFF, ...options.reconnect };
  const inbox = {
    list({ limit, before } = {}) {
      const query = new URLSearchParams();
      if (limit !== void 0) query.set("limit", String(limit));
      if (before !== void 0) query.set("before", before);
      const qs = query.toString();
      return session.authorized("GET", `${notificationUrl}/inbox${qs ? `?${qs}` : ""}`);
    },
    async unreadCount() {
      return (await session.authorized("GET", `${notificationUrl}/inbox/unread-count`)).count;
    },
    async markRead(id) {
      await session.authorized("POST", `${notificationUrl}/inbox/${encodeURIComponent(id)}/read`);
    },
    async markUnread(id) {
      await session.authorized("POST", `${notificationUrl}/inbox/${encodeURIComponent(id)}/unread`);
    },
    async markAllRead() {
      await session.authorized("POST", `${notificationUrl}/inbox/read-all`);
    }
  };
  const account = {
    async register(body) {
      await http.request("POST", `${mainUrl}/auth/register`, { body });
    },
    async verifyEmail(body) {
      await http.request("POST", `${mainUrl}/auth/verify-email`, { body });
    },
    async forgotPassword(email) {
      await http.request("POST", `${mainUrl}/auth/password/forgot`, { body: { email } });
    },
    async resetPassword(body) {
      await http.request("POST", `${mainUrl}/auth/password/reset`, { body });
    }
  };
  const sessions = {
    list: () => session.authorized("GET", `${mainUrl}/auth/sessions`),
    async revoke(id) {
      const current = session.state.state === "signedIn" && session.state.sessionId === id;
      await session.authorized("DELETE", `${mainUrl}/auth/sessions/${encodeURIComponent(id)}`);
      if (current) session.forget();
    },
    async logoutAll() {
      await session.authorized("POST", `${mainUrl}/auth/logout-all`);
      session.forget();
    }
  };
  const users = {
    search({ q, limit, after } = {}) {
      const query = new URLSearchParams();
      if (q) query.set("q", q);
      if (limit !== void 0) query.set("limit", String(limit));
      if (after) query.set("after", after);
      const qs = query.toString();
      return session.authorized("GET", `${mainUrl}/users${qs ? `?${qs}` : ""}`);
    },
    changeRole: (id, role) => session.authorized("PATCH", `${mainUrl}/users/${encodeURIComponent(id)}`, { body: { role } })
  };
  async function sendWithKey(path, body, opts) {
    const key = opts?.idempotencyKey ?? randomKey();
    try {
      return await session.authorized("POST", `${mainUrl}${path}`, { body, headers: { "idempotency-key": key } });
    } catch (err) {
      throw err instanceof WarrenProblem ? err.withIdempotencyKey(key) : err;
    }
  }
  return {
    login: (credentials) => session.login(credentials),
    restore: () => session.restore(),
    refresh: () => session.refresh(),
    logout: () => session.logout(),
    me: () => session.authorized("GET", `${mainUrl}/auth/me`),
    accessToken: () => session.token(),
    get session() {
      return session.state;
    },
    onSession: (listener) => session.onSession(listener),
    inbox,
    account,
    sessions,
    users,
    notifications: {
      status: (id) => session.authorized("GET", `${notificationUrl}/notifications/${encodeURIComponent(id)}`),
      send: (body, opts) => sendWithKey("/notifications", body, opts),
      sendBatch: (bodies, opts) => sendWithKey("/notifications/batch", { notifications: bodies }, opts)
    },
    live: {
      subscribe(onNotification, subscribeOptions) {
        const WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
        if (!WebSocketImpl) throw new TypeError("No WebSocket here: pass one (for Node 20: the `ws` package) as the WebSocket option.");
        return new LiveSubscription(
          {
            session,
            WebSocket: WebSocketImpl,
            webSocketUrl,
            backoff,
            keepaliveMs: options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS,
            newestId: async () => (await inbox.list({ limit: 1 })).items[0]?.id ?? null,
            unreadCount: () => inbox.unreadCount()
          },
          onNotification,
          subscribeOptions
        );
      }
    }
  };
}
function trimSlash(url) {
  return String(url).replace(/\/+$/, "");
}
function defaultWebSocketUrl(notificationUrl) {
  const url = new URL(notificationUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/ws`;
  url.search = "";
  url.hash = "";
  return url.href;
}
function randomKey() {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === "function") return c.randomUUID();
  const bytes = c.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
export {
  WarrenProblem,
  createWarrenClient
};
