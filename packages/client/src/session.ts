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
 */
import { Http, type RequestOptions } from './http.js';
import { notSignedIn, WarrenProblem } from './problem.js';
import { singleFlight } from './single-flight.js';
import type { Me, SessionState, TokenPair, TokenStorage } from './types.js';

interface AccessToken {
  token: string;
  expiresAt: number;
  refreshAt: number;
}

export class Session {
  #access: AccessToken | null = null;
  /** The refresh token, when there is no storage to keep it. */
  #refreshToken: string | null = null;
  #state: SessionState = { state: 'signedOut' };
  readonly #sessionListeners = new Set<(s: SessionState) => void>();
  readonly #tokenListeners = new Set<(token: string) => void>();
  readonly refresh: () => Promise<void> = singleFlight(() => this.#refresh());

  constructor(
    private readonly http: Http,
    private readonly mainBackendUrl: string,
    private readonly storage: TokenStorage | null,
    private readonly storageKey: string,
  ) {}

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
    this.#accept(pair);
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
    const refreshToken = this.#readRefreshToken();
    if (!refreshToken) throw notSignedIn();
    let pair: TokenPair;
    try {
      pair = await this.http.request<TokenPair>('POST', `${this.mainBackendUrl}/auth/refresh`, { body: { refreshToken } });
    } catch (err) {
      if (err instanceof WarrenProblem && err.status === 401) this.#end(this.#access ? { state: 'ended', code: err.code } : { state: 'signedOut' });
      throw err;
    }
    // Logged out while the refresh was on its way: the new pair belongs to nobody.
    if (this.#readRefreshToken() !== refreshToken) throw notSignedIn();
    this.#accept(pair);
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
    this.#end({ state: 'signedOut' });
    if (!token) return;
    try {
      await this.http.request('POST', `${this.mainBackendUrl}/auth/logout`, { token });
    } catch {
      // Signed out here anyway: the refresh token is forgotten, the access token expires soon.
    }
  }

  #accept(pair: TokenPair): void {
    const now = Date.now();
    const ttlMs = Math.max(1, pair.expiresIn) * 1000;
    this.#access = { token: pair.accessToken, expiresAt: now + ttlMs, refreshAt: now + ttlMs - Math.min(60_000, ttlMs / 4) };
    this.#writeRefreshToken(pair.refreshToken);
    const previous = this.#state;
    const next: SessionState = { state: 'signedIn', user: pair.user, permissions: pair.permissions, sessionId: pair.session.id };
    this.#state = next;
    // A refresh that changes nothing the application shows is no session change.
    if (previous.state !== 'signedIn' || JSON.stringify(previous) !== JSON.stringify(next)) this.#emitSession();
    for (const listener of [...this.#tokenListeners]) listener(pair.accessToken);
  }

  #end(state: SessionState): void {
    const wasSignedIn = this.#state.state === 'signedIn';
    this.#access = null;
    this.#removeRefreshToken();
    this.#state = state;
    if (wasSignedIn || state.state === 'ended') this.#emitSession();
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

  #removeRefreshToken(): void {
    this.#refreshToken = null;
    try {
      this.storage?.removeItem(this.storageKey);
    } catch {
      // Nothing was stored.
    }
  }
}
