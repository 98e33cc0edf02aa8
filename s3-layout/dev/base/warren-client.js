// @warren/client, built from packages/client/src by `npm run build -w packages/client`. Do not edit:
// change the sources and rebuild (test/s3-layout.test.ts fails while this copy is stale).

// src/audit.ts
function auditEventsOf(session, mainUrl) {
  return ({ userId, event, limit, before } = {}) => {
    const query = new URLSearchParams();
    if (userId) query.set("userId", userId);
    const events = typeof event === "string" ? [event] : event ?? [];
    if (events.length > 0) query.set("event", events.join(","));
    if (limit !== void 0) query.set("limit", String(limit));
    if (before) query.set("before", before);
    const qs = query.toString();
    return session.authorized("GET", `${mainUrl}/audit-events${qs ? `?${qs}` : ""}`);
  };
}

// src/backoff.ts
var DEFAULT_BACKOFF = { baseMs: 500, capMs: 3e4, busyMinMs: 15e3 };
function backoffDelay(attempt, opts, random = Math.random) {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(random() * ceiling);
}

// src/tab-crypto.ts
var SECRET_BYTES = 32;
var NONCE_BYTES = 12;
var encoder = new TextEncoder();
var decoder = new TextDecoder();
function subtle() {
  const c = globalThis.crypto;
  return c?.subtle && typeof c.subtle.deriveKey === "function" ? c.subtle : null;
}
function canSeal() {
  return subtle() !== null;
}
function newSecret() {
  return toHex(globalThis.crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}
async function tabKeys(secret) {
  const s = subtle();
  const raw = fromHex(secret);
  if (!s || !raw || raw.length !== SECRET_BYTES) return null;
  try {
    const base = await s.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
    const hkdf = (info) => ({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(info) });
    const aead = await s.deriveKey(hkdf("warren-client tabs: messages v1"), base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    const mac = await s.deriveKey(hkdf("warren-client tabs: record names v1"), base, { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign"]);
    const aad = (kind, sessionId) => encoder.encode(JSON.stringify(["warren-client", 1, kind, sessionId]));
    return {
      async seal(kind, sessionId, body) {
        const iv = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
        const data = await s.encrypt({ name: "AES-GCM", iv, additionalData: aad(kind, sessionId) }, aead, encoder.encode(JSON.stringify(body)));
        return { v: 1, kind, iv, data };
      },
      async open(sealed, sessionId, kind) {
        if (!isSealed(sealed) || kind !== void 0 && sealed.kind !== kind) return void 0;
        try {
          const plain = await s.decrypt({ name: "AES-GCM", iv: sealed.iv, additionalData: aad(sealed.kind, sessionId) }, aead, sealed.data);
          return { kind: sealed.kind, body: JSON.parse(decoder.decode(plain)) };
        } catch {
          return void 0;
        }
      },
      async recordId(sessionId) {
        return toHex(new Uint8Array(await s.sign("HMAC", mac, encoder.encode(sessionId))));
      }
    };
  } catch {
    return null;
  }
}
function isSealed(x) {
  if (typeof x !== "object" || x === null) return false;
  const m = x;
  return m.v === 1 && typeof m.kind === "string" && m.iv instanceof Uint8Array && m.iv.length === NONCE_BYTES && (m.data instanceof ArrayBuffer || m.data instanceof Uint8Array);
}
function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
function fromHex(hex) {
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
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
var DB_VERSION = 2;
var STORE = "records";
var OLD_STORES = ["generations"];
var RECORD_TTL_MS = 31 * 24 * 3600 * 1e3;
function browserTabCoordinator(key) {
  const g = globalThis;
  const locks = g.navigator?.locks;
  if (typeof locks?.request !== "function" || typeof g.BroadcastChannel !== "function" || !g.indexedDB || !canSeal()) return null;
  let channel;
  try {
    channel = new g.BroadcastChannel(`warren-client:${key}`);
  } catch {
    return null;
  }
  const idb = g.indexedDB;
  const listeners = /* @__PURE__ */ new Set();
  channel.onmessage = (event) => {
    for (const listener of [...listeners]) listener(event.data);
  };
  let db = null;
  const open = () => db ??= new Promise((resolve) => {
    let request;
    try {
      request = idb.open(DB_NAME, DB_VERSION);
    } catch {
      return resolve(null);
    }
    request.onupgradeneeded = () => {
      const database = request.result;
      for (const old of OLD_STORES) if (database.objectStoreNames.contains(old)) database.deleteObjectStore(old);
      if (!database.objectStoreNames.contains(STORE)) database.createObjectStore(STORE);
    };
    request.onsuccess = () => {
      const database = request.result;
      database.onversionchange = () => {
        database.close();
        db = null;
      };
      resolve(database);
    };
    request.onerror = () => resolve(null);
    request.onblocked = () => resolve(null);
  });
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
    async read(id) {
      const record = await transact("readonly", (store) => store.get(id));
      return typeof record === "object" && record !== null ? record.value : void 0;
    },
    async write(id, value) {
      const now = Date.now();
      await transact("readwrite", (store) => {
        store.put({ value, at: now }, id);
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
    async remove(id) {
      await transact("readwrite", (store) => store.delete(id));
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
    tabs?.onMessage((sealed) => {
      this.#inbound = this.#inbound.then(() => this.#receive(sealed)).catch(() => void 0);
    });
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
  /** The keys of the last secret used (deriving them is asynchronous work worth keeping). */
  #keys = null;
  /** Messages from other tabs are handled one at a time, in the order they came. */
  #inbound = Promise.resolve();
  /** Called after each message from another tab was handled (a tab waiting for a pair). */
  #handled = /* @__PURE__ */ new Set();
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
        const latest = await this.#recordedGeneration(mine);
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
    await this.#acceptNew(pair, this.#readTabRecord());
  }
  /**
   * A pair fresh from the server: accepted, and with tabs, its generation recorded (committed
   * before the lock is released) and the other tabs of the session told, which then ask for it.
   * A login starts a new secret; a refresh keeps the session's.
   */
  async #acceptNew(pair, previous) {
    const same = previous !== null && previous.sessionId === pair.session.id;
    const record = { sessionId: pair.session.id, generation: nextGeneration(same ? previous.generation : null), secret: same ? previous.secret : newSecret() };
    this.#accept(pair, record);
    if (!this.tabs) return;
    await this.#recordGeneration(record);
    await this.#post(record, { type: "refreshed", sessionId: record.sessionId, generation: record.generation });
  }
  #keysOf(secret) {
    if (this.#keys?.secret !== secret) this.#keys = { secret, keys: tabKeys(secret) };
    return this.#keys.keys;
  }
  /** The generation the last refresh of the session recorded; null if none (or none this session sealed). */
  async #recordedGeneration(record) {
    const keys = await this.#keysOf(record.secret);
    if (!keys || !this.tabs) return null;
    const opened = await keys.open(await this.tabs.read(await keys.recordId(record.sessionId)), record.sessionId, "generation");
    const generation = opened?.body?.generation;
    return typeof generation === "string" ? generation : null;
  }
  async #recordGeneration(record) {
    const keys = await this.#keysOf(record.secret);
    if (!keys || !this.tabs) return;
    await this.tabs.write(await keys.recordId(record.sessionId), await keys.seal("generation", record.sessionId, { generation: record.generation }));
  }
  /** Seals `message` for the session's tabs and sends it. */
  async #post(record, message) {
    const keys = await this.#keysOf(record.secret);
    if (!keys || !this.tabs) return;
    this.tabs.post(await keys.seal(message.type, record.sessionId, message));
  }
  /** Asks the other tabs for the pair of `generation`; true once this tab holds it. */
  #askTabs(sessionId, generation) {
    const asking = this.#readTabRecord();
    if (!this.tabs || !asking) return Promise.resolve(false);
    const has = () => {
      const mine = this.#readTabRecord();
      return mine !== null && mine.sessionId === sessionId && !isNewer(generation, mine.generation);
    };
    if (has()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (result) => {
        clearTimeout(timer);
        this.#handled.delete(check);
        resolve(result);
      };
      const check = () => {
        if (has()) done(true);
      };
      this.#handled.add(check);
      const timer = setTimeout(() => done(false), ASK_TIMEOUT_MS);
      void this.#post(asking, { type: "ask", sessionId, generation });
    });
  }
  /** Something on the channel: used only if it opens with this tab's secret as a message of its session. */
  async #receive(sealed) {
    const before = this.#readTabRecord();
    if (!before) return;
    const keys = await this.#keysOf(before.secret);
    const opened = await keys?.open(sealed, before.sessionId);
    const mine = this.#readTabRecord();
    if (!opened || !mine || mine.sessionId !== before.sessionId || mine.secret !== before.secret) return;
    const m = checkedMessage(opened.kind, opened.body, mine.sessionId);
    if (m) this.#onTabMessage(m, mine);
    for (const check of [...this.#handled]) check();
  }
  /** What another tab of this session says (opened and checked). */
  #onTabMessage(m, mine) {
    switch (m.type) {
      case "refreshed":
        if (isNewer(m.generation, mine.generation)) void this.#post(mine, { type: "ask", sessionId: mine.sessionId, generation: m.generation });
        return;
      case "rotated":
        if (isNewer(m.generation, mine.generation)) this.#accept(m.pair, { ...mine, generation: m.generation });
        return;
      case "ask": {
        const access = this.#access;
        if (m.generation !== mine.generation || !access || !this.#pair) return;
        const expiresIn = Math.floor((access.expiresAt - Date.now()) / 1e3);
        const pair = { ...this.#pair, accessToken: access.token, refreshToken: this.#readRefreshToken() ?? "", expiresIn };
        if (pair.refreshToken) void this.#post(mine, { type: "rotated", sessionId: mine.sessionId, generation: mine.generation, pair });
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
  /** `record`: this tab's record for the pair (with tabs). */
  #accept(pair, record) {
    const now = Date.now();
    const ttlMs = Math.max(1, pair.expiresIn) * 1e3;
    this.#access = { token: pair.accessToken, expiresAt: now + ttlMs, refreshAt: now + ttlMs - Math.min(6e4, ttlMs / 4) };
    this.#pair = pair;
    this.#writeRefreshToken(pair.refreshToken);
    if (this.tabs) this.#writeTabRecord(record);
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
    if (record && announce) void this.#announceEnd(record);
    this.#access = null;
    this.#pair = null;
    this.#removeRefreshToken();
    this.#removeTabRecord();
    this.#state = state;
    if (wasSignedIn || state.state === "ended") this.#emitSession();
  }
  /** Forgets the session's generation record and tells its other tabs (with the secret, read before it is removed). */
  async #announceEnd(record) {
    const keys = await this.#keysOf(record.secret);
    if (!keys || !this.tabs) return;
    await this.tabs.remove(await keys.recordId(record.sessionId));
    await this.#post(record, { type: "ended", sessionId: record.sessionId });
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
    return `${this.storageKey}:tab`;
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
      if (typeof r.sessionId === "string" && typeof r.generation === "string" && typeof r.secret === "string") {
        return { sessionId: r.sessionId, generation: r.generation, secret: r.secret };
      }
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
function checkedMessage(kind, body, sessionId) {
  if (typeof body !== "object" || body === null) return void 0;
  const m = body;
  if (m.type !== kind || m.sessionId !== sessionId) return void 0;
  switch (m.type) {
    case "refreshed":
    case "ask":
      return typeof m.generation === "string" ? m : void 0;
    case "rotated": {
      const pair = m.pair;
      const valid = typeof m.generation === "string" && typeof pair?.accessToken === "string" && typeof pair.refreshToken === "string" && typeof pair.expiresIn === "number" && typeof pair.user === "object" && pair.user !== null && Array.isArray(pair.permissions) && pair.session?.id === sessionId;
      return valid ? m : void 0;
    }
    case "ended":
      return m;
    default:
      return void 0;
  }
}

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
    auditEvents: auditEventsOf(session, mainUrl),
    notifications: {
      status: (id) => session.authorized("GET", `${notificationUrl}/notifications/${encodeURIComponent(id)}`),
      send: (body, opts) => sendWithKey("/notifications", body, opts),
      sendBatch: (bodies, opts) => sendWithKey("/notifications/batch", { notifications: bodies }, opts),
      sent({ limit, before } = {}) {
        const query = new URLSearchParams();
        if (limit !== void 0) query.set("limit", String(limit));
        if (before !== void 0) query.set("before", before);
        const qs = query.toString();
        return session.authorized("GET", `${notificationUrl}/notifications/sent${qs ? `?${qs}` : ""}`);
      }
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
