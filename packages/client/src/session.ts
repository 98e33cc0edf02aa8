/**
 * The session: the token pair, its refresh, and authenticated requests.
 *
 * - The access token lives in memory only. The refresh token goes to `storage` (if given) and
 *   nowhere else, so that a reload can resume the session.
 * - A token is due for refresh from 75 % of its life, at most a minute before it expires. A
 *   request made with a due token refreshes it first; a request answered 401 refreshes once and
 *   is retried once.
 * - Refreshes are single-flight: concurrent callers (many requests answered 401 at once, the
 *   socket's renewal) share one `POST /auth/refresh`. A caller whose 401 came with a token
 *   that has since been replaced retries with the new one instead of refreshing again. Both
 *   matter because refresh tokens rotate: presenting a rotated token ends the whole session.
 * - A refresh refused with 401 (expired, revoked, reused) ends the session: state `ended` with
 *   the server's code, tokens forgotten. Any other failure (offline, 503) keeps the session:
 *   the same refresh token is still good for the next try.
 * - Across the tabs of a browser (a `TabCoordinator`, cross-tab.ts): tabs holding the same
 *   session (a duplicated tab) refresh one at a time, hand each new pair to the others, and
 *   never present a token another tab has rotated; a logout or an ended session ends them all.
 *   What they say and record is sealed with the session's secret (tab-crypto.ts), which a login
 *   makes and `storage` keeps beside the refresh token: only tabs holding that `storage` (the
 *   tab itself and its duplicates) can read or forge it.
 */
import { isNewer, nextGeneration } from './cross-tab.js';
import { newSecret, tabKeys, type TabKeys } from './tab-crypto.js';
import { Http, type RequestOptions } from './http.js';
import { notSignedIn, WarrenProblem } from './problem.js';
import { singleFlight } from './single-flight.js';
import type { Me, SessionState, TabCoordinator, TabMessage, TokenPair, TokenStorage } from './types.js';

interface AccessToken {
  token: string;
  expiresAt: number;
  refreshAt: number;
}

/** Which session this tab's refresh token belongs to, how new it is, and the secret of its tabs (cross-tab only). */
interface TabRecord {
  sessionId: string;
  generation: string;
  secret: string;
}

/** How long a tab whose token was rotated elsewhere waits for the current pair from the tab that has it. */
const ASK_TIMEOUT_MS = 3000;

export class Session {
  #access: AccessToken | null = null;
  /** The refresh token, when there is no storage to keep it. */
  #refreshToken: string | null = null;
  #state: SessionState = { state: 'signedOut' };
  /** The last pair accepted, to hand to another tab of this session. */
  #pair: TokenPair | null = null;
  /** The tab record, when there is no storage to keep it. */
  #tabRecord: TabRecord | null = null;
  readonly #sessionListeners = new Set<(s: SessionState) => void>();
  readonly #tokenListeners = new Set<(token: string) => void>();
  readonly refresh: () => Promise<void> = singleFlight(() => this.#refresh());
  /** The keys of the last secret used (deriving them is asynchronous work worth keeping). */
  #keys: { secret: string; keys: Promise<TabKeys | null> } | null = null;
  /** Messages from other tabs are handled one at a time, in the order they came. */
  #inbound: Promise<void> = Promise.resolve();
  /** Called after each message from another tab was handled (a tab waiting for a pair). */
  readonly #handled = new Set<() => void>();

  constructor(
    private readonly http: Http,
    private readonly mainBackendUrl: string,
    private readonly storage: TokenStorage | null,
    private readonly storageKey: string,
    private readonly tabs: TabCoordinator | null = null,
  ) {
    tabs?.onMessage((sealed) => {
      this.#inbound = this.#inbound.then(() => this.#receive(sealed)).catch(() => undefined);
    });
  }

  get state(): SessionState {
    return this.#state;
  }

  onSession(listener: (s: SessionState) => void): () => void {
    this.#sessionListeners.add(listener);
    return () => this.#sessionListeners.delete(listener);
  }

  /** Called with every new access token (after a login or a refresh). */
  onToken(listener: (token: string) => void): () => void {
    this.#tokenListeners.add(listener);
    return () => this.#tokenListeners.delete(listener);
  }

  /** The access token held now, as it is (due or not); null when signed out. */
  get currentToken(): string | null {
    return this.#access?.token ?? null;
  }

  /** When the current access token becomes due for refresh (ms since the epoch), or null. */
  get refreshAt(): number | null {
    return this.#access?.refreshAt ?? null;
  }

  async login(credentials: { email: string; password: string }): Promise<Me> {
    const pair = await this.http.request<TokenPair>('POST', `${this.mainBackendUrl}/login`, {
      body: { email: credentials.email, password: credentials.password },
    });
    await this.#acceptNew(pair, null);
    return { user: pair.user, permissions: pair.permissions };
  }

  async restore(): Promise<boolean> {
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

  async #refresh(): Promise<void> {
    const tabs = this.tabs;
    if (!tabs) return this.#refreshNow();
    const seen = this.#access?.token ?? null;
    await tabs.exclusive(async () => {
      // Another tab of this session refreshed while this one waited, and handed the pair over.
      if ((this.#access?.token ?? null) !== seen) return;
      const mine = this.#readTabRecord();
      if (mine) {
        const latest = await this.#recordedGeneration(mine);
        // This tab's token was rotated by another: presenting it would end the session for all.
        if (latest !== null && isNewer(latest, mine.generation) && (await this.#askTabs(mine.sessionId, latest))) return;
      }
      await this.#refreshNow();
    });
  }

  async #refreshNow(): Promise<void> {
    const refreshToken = this.#readRefreshToken();
    if (!refreshToken) throw notSignedIn();
    let pair: TokenPair;
    try {
      pair = await this.http.request<TokenPair>('POST', `${this.mainBackendUrl}/auth/refresh`, { body: { refreshToken } });
    } catch (err) {
      if (err instanceof WarrenProblem && err.status === 401) this.#end(this.#access ? { state: 'ended', code: err.code } : { state: 'signedOut' }, true);
      throw err;
    }
    // Logged out while the refresh was on its way: the new pair belongs to nobody.
    if (this.#readRefreshToken() !== refreshToken) throw notSignedIn();
    await this.#acceptNew(pair, this.#readTabRecord());
  }

  /**
   * A pair fresh from the server: accepted, and with tabs, its generation recorded (committed
   * before the lock is released) and the other tabs of the session told, which then ask for it.
   * A login starts a new secret; a refresh keeps the session's.
   */
  async #acceptNew(pair: TokenPair, previous: TabRecord | null): Promise<void> {
    const same = previous !== null && previous.sessionId === pair.session.id;
    const record: TabRecord = { sessionId: pair.session.id, generation: nextGeneration(same ? previous.generation : null), secret: same ? previous.secret : newSecret() };
    this.#accept(pair, record);
    if (!this.tabs) return;
    await this.#recordGeneration(record);
    await this.#post(record, { type: 'refreshed', sessionId: record.sessionId, generation: record.generation });
  }

  #keysOf(secret: string): Promise<TabKeys | null> {
    if (this.#keys?.secret !== secret) this.#keys = { secret, keys: tabKeys(secret) };
    return this.#keys.keys;
  }

  /** The generation the last refresh of the session recorded; null if none (or none this session sealed). */
  async #recordedGeneration(record: TabRecord): Promise<string | null> {
    const keys = await this.#keysOf(record.secret);
    if (!keys || !this.tabs) return null;
    const opened = await keys.open(await this.tabs.read(await keys.recordId(record.sessionId)), record.sessionId, 'generation');
    const generation = (opened?.body as { generation?: unknown } | undefined)?.generation;
    return typeof generation === 'string' ? generation : null;
  }

  async #recordGeneration(record: TabRecord): Promise<void> {
    const keys = await this.#keysOf(record.secret);
    if (!keys || !this.tabs) return;
    await this.tabs.write(await keys.recordId(record.sessionId), await keys.seal('generation', record.sessionId, { generation: record.generation }));
  }

  /** Seals `message` for the session's tabs and sends it. */
  async #post(record: TabRecord, message: TabMessage): Promise<void> {
    const keys = await this.#keysOf(record.secret);
    if (!keys || !this.tabs) return;
    this.tabs.post(await keys.seal(message.type, record.sessionId, message));
  }

  /** Asks the other tabs for the pair of `generation`; true once this tab holds it. */
  #askTabs(sessionId: string, generation: string): Promise<boolean> {
    const asking = this.#readTabRecord();
    if (!this.tabs || !asking) return Promise.resolve(false);
    const has = () => {
      const mine = this.#readTabRecord();
      return mine !== null && mine.sessionId === sessionId && !isNewer(generation, mine.generation);
    };
    if (has()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (result: boolean) => {
        clearTimeout(timer);
        this.#handled.delete(check);
        resolve(result);
      };
      const check = () => {
        if (has()) done(true);
      };
      this.#handled.add(check);
      const timer = setTimeout(() => done(false), ASK_TIMEOUT_MS);
      void this.#post(asking, { type: 'ask', sessionId, generation });
    });
  }

  /** Something on the channel: used only if it opens with this tab's secret as a message of its session. */
  async #receive(sealed: unknown): Promise<void> {
    const before = this.#readTabRecord();
    if (!before) return;
    const keys = await this.#keysOf(before.secret);
    const opened = await keys?.open(sealed, before.sessionId);
    const mine = this.#readTabRecord();
    // Signed out, or into another session, while it was being opened: it is not for this tab.
    if (!opened || !mine || mine.sessionId !== before.sessionId || mine.secret !== before.secret) return;
    const m = checkedMessage(opened.kind, opened.body, mine.sessionId);
    if (m) this.#onTabMessage(m, mine);
    for (const check of [...this.#handled]) check();
  }

  /** What another tab of this session says (opened and checked). */
  #onTabMessage(m: TabMessage, mine: TabRecord): void {
    switch (m.type) {
      case 'refreshed':
        // Another tab rotated the token: ask for the pair now, so that this tab never presents the old one.
        if (isNewer(m.generation, mine.generation)) void this.#post(mine, { type: 'ask', sessionId: mine.sessionId, generation: m.generation });
        return;
      case 'rotated':
        if (isNewer(m.generation, mine.generation)) this.#accept(m.pair, { ...mine, generation: m.generation });
        return;
      case 'ask': {
        const access = this.#access;
        if (m.generation !== mine.generation || !access || !this.#pair) return;
        const expiresIn = Math.floor((access.expiresAt - Date.now()) / 1000);
        const pair = { ...this.#pair, accessToken: access.token, refreshToken: this.#readRefreshToken() ?? '', expiresIn };
        if (pair.refreshToken) void this.#post(mine, { type: 'rotated', sessionId: mine.sessionId, generation: mine.generation, pair });
        return;
      }
      case 'ended':
        // Logged out, or refused, in another tab: the server ended this session for every tab.
        this.#end(this.#state.state === 'signedOut' ? { state: 'signedOut' } : { state: 'ended', code: 'session_ended_elsewhere' }, false);
        return;
    }
  }

  /** Refreshes unless `token` was replaced meanwhile (then the newer token is used as it is). */
  async refreshIfCurrent(token: string | null): Promise<void> {
    if (!this.#access) throw notSignedIn();
    if (token !== null && this.#access.token !== token) return;
    await this.refresh();
  }

  /** A valid access token, refreshed first if it is due. */
  async token(): Promise<string> {
    const access = this.#access;
    if (!access) throw notSignedIn();
    if (Date.now() < access.refreshAt) return access.token;
    try {
      await this.refresh();
    } catch (err) {
      // Offline at refresh time: the old token still works until it expires.
      if (this.#access === access && Date.now() < access.expiresAt - 1000) return access.token;
      throw err;
    }
    if (!this.#access) throw notSignedIn();
    return this.#access.token;
  }

  /** A request with the access token; answered 401, it refreshes (once) and is retried (once). */
  async authorized<T>(method: string, url: string, opts: Omit<RequestOptions, 'token'> = {}): Promise<T> {
    const token = await this.token();
    try {
      return await this.http.request<T>(method, url, { ...opts, token });
    } catch (err) {
      if (!(err instanceof WarrenProblem) || err.status !== 401 || !this.#access) throw err;
    }
    await this.refreshIfCurrent(token);
    return this.http.request<T>(method, url, { ...opts, token: await this.token() });
  }

  async logout(): Promise<void> {
    const token = this.#access?.token;
    this.#end({ state: 'signedOut' }, true);
    if (!token) return;
    try {
      await this.http.request('POST', `${this.mainBackendUrl}/auth/logout`, { token });
    } catch {
      // Signed out here anyway: the refresh token is forgotten, the access token expires soon.
    }
  }

  /** Signs out here (and in the other tabs of the session) after the server ended the session: no request is made. */
  forget(): void {
    this.#end({ state: 'signedOut' }, true);
  }

  /** `record`: this tab's record for the pair (with tabs). */
  #accept(pair: TokenPair, record: TabRecord): void {
    const now = Date.now();
    const ttlMs = Math.max(1, pair.expiresIn) * 1000;
    this.#access = { token: pair.accessToken, expiresAt: now + ttlMs, refreshAt: now + ttlMs - Math.min(60_000, ttlMs / 4) };
    this.#pair = pair;
    this.#writeRefreshToken(pair.refreshToken);
    if (this.tabs) this.#writeTabRecord(record);
    const previous = this.#state;
    const next: SessionState = { state: 'signedIn', user: pair.user, permissions: pair.permissions, sessionId: pair.session.id };
    this.#state = next;
    // A refresh that changes nothing the application shows is no session change.
    if (previous.state !== 'signedIn' || JSON.stringify(previous) !== JSON.stringify(next)) this.#emitSession();
    for (const listener of [...this.#tokenListeners]) listener(pair.accessToken);
  }

  /** Forgets the tokens; `announce`: also tells the other tabs of this session (which then end too). */
  #end(state: SessionState, announce: boolean): void {
    const wasSignedIn = this.#state.state === 'signedIn';
    const record = this.tabs ? this.#readTabRecord() : null;
    if (record && announce) void this.#announceEnd(record);
    this.#access = null;
    this.#pair = null;
    this.#removeRefreshToken();
    this.#removeTabRecord();
    this.#state = state;
    if (wasSignedIn || state.state === 'ended') this.#emitSession();
  }

  /** Forgets the session's generation record and tells its other tabs (with the secret, read before it is removed). */
  async #announceEnd(record: TabRecord): Promise<void> {
    const keys = await this.#keysOf(record.secret);
    if (!keys || !this.tabs) return;
    await this.tabs.remove(await keys.recordId(record.sessionId));
    await this.#post(record, { type: 'ended', sessionId: record.sessionId });
  }

  #emitSession(): void {
    const state = this.#state;
    for (const listener of [...this.#sessionListeners]) listener(state);
  }

  #readRefreshToken(): string | null {
    if (!this.storage) return this.#refreshToken;
    try {
      return this.storage.getItem(this.storageKey) ?? this.#refreshToken;
    } catch {
      return this.#refreshToken; // storage blocked (privacy settings): memory only
    }
  }

  #writeRefreshToken(token: string): void {
    this.#refreshToken = token;
    try {
      this.storage?.setItem(this.storageKey, token);
    } catch {
      // Full or blocked: the session just does not survive a reload.
    }
  }

  get #tabRecordKey(): string {
    return `${this.storageKey}:tab`;
  }

  #readTabRecord(): TabRecord | null {
    let raw: string | null = null;
    try {
      raw = this.storage?.getItem(this.#tabRecordKey) ?? null;
    } catch {
      // blocked: memory only
    }
    if (raw === null) return this.#tabRecord;
    try {
      const r = JSON.parse(raw) as Partial<TabRecord>;
      if (typeof r.sessionId === 'string' && typeof r.generation === 'string' && typeof r.secret === 'string') {
        return { sessionId: r.sessionId, generation: r.generation, secret: r.secret };
      }
    } catch {
      // written by something else: ignored
    }
    return this.#tabRecord;
  }

  #writeTabRecord(record: TabRecord): void {
    this.#tabRecord = record;
    try {
      this.storage?.setItem(this.#tabRecordKey, JSON.stringify(record));
    } catch {
      // Full or blocked: kept in memory.
    }
  }

  #removeTabRecord(): void {
    this.#tabRecord = null;
    try {
      this.storage?.removeItem(this.#tabRecordKey);
    } catch {
      // Nothing was stored.
    }
  }

  #removeRefreshToken(): void {
    this.#refreshToken = null;
    try {
      this.storage?.removeItem(this.storageKey);
    } catch {
      // Nothing was stored.
    }
  }
}

/**
 * An opened message, checked: its kind is the one it was sealed as, it names this tab's session,
 * and a pair belongs to that session. Anything else is ignored (undefined).
 */
function checkedMessage(kind: string, body: unknown, sessionId: string): TabMessage | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const m = body as Record<string, unknown>;
  if (m.type !== kind || m.sessionId !== sessionId) return undefined;
  switch (m.type) {
    case 'refreshed':
    case 'ask':
      return typeof m.generation === 'string' ? (m as TabMessage) : undefined;
    case 'rotated': {
      const pair = m.pair as Partial<TokenPair> | undefined;
      const valid = typeof m.generation === 'string' && typeof pair?.accessToken === 'string' && typeof pair.refreshToken === 'string'
        && typeof pair.expiresIn === 'number' && typeof pair.user === 'object' && pair.user !== null && Array.isArray(pair.permissions)
        && pair.session?.id === sessionId;
      return valid ? (m as TabMessage) : undefined;
    }
    case 'ended':
      return m as TabMessage;
    default:
      return undefined;
  }
}
