/**
 * Verifies access tokens wherever they arrive (main-backend HTTP, notification HTTP and
 * WebSocket). Public keys come from the auth service's JWKS (over RPC), cached by kid; an
 * unknown kid triggers one refetch (rate-limited, and shared by concurrent callers) so a
 * newly rotated key is picked up without a restart. The algorithm list, issuer, audience
 * and token type are pinned, so neither `alg: none`, nor an HS256 token signed with the
 * public key, nor any other kind of token passes.
 *
 * The key set is only ever replaced by a successful fetch. Past its TTL it is refreshed in the
 * background while the known keys keep verifying, so a broker or auth outage longer than the
 * TTL does not turn valid tokens away (clients would log their users out). `keepFresh()` also
 * fetches it at start and every TTL with no traffic needed: a replica that has served nothing
 * yet still has the keys when auth becomes unreachable. A key the fresh set
 * no longer lists (retired) stops verifying at once, cached verifications included. A token
 * whose kid is unknown while the keys cannot be fetched is not called invalid: the caller gets
 * the fetch's 503/504, and only a token that is really bad gets 401.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ACCESS_TOKEN_TYPE, accessTokenClaimsSchema, type AccessTokenClaims, type Jwks } from '../contracts/auth-rpc.js';
import { AppError } from '../errors.js';

export const ACCESS_TOKEN_ALGORITHMS: jwt.Algorithm[] = ['ES256'];

export interface VerifiedAccessToken extends AccessTokenClaims {
  scope: string[];
}

export interface VerifierOptions {
  fetchJwks: () => Promise<Jwks>;
  issuer: string;
  audience: string;
  /** How long a fetched key set is used before it is refreshed in the background (default 60 s). */
  cacheTtlMs?: number;
  /** Minimum time between fetch attempts caused by unknown kids or a stale set (default 1 s: one cheap RPC a second at most). */
  minRefetchIntervalMs?: number;
  /** Told when a background refresh fails (the known keys stay in use). */
  onRefreshFailed?: (err: Error) => void;
}

/** Verified tokens kept, so a client's next requests skip the signature check (bounded). */
const VERIFIED_CACHE_MAX = 10_000;
const VERIFIED_CACHE_MS = 60_000;

export class AccessTokenVerifier {
  private keys = new Map<string, KeyObject>();
  /** token → its claims and key, until min(exp, 60 s after verification); only successes are kept. */
  private readonly verified = new Map<string, { claims: VerifiedAccessToken; kid: string; until: number }>();
  private jwks: Jwks | undefined;
  /** When the key set was last fetched successfully, and when a fetch was last tried. */
  private fetchedAt = 0;
  private attemptedAt = 0;
  private lastAttemptFailed = false;
  private inflight: Promise<void> | undefined;
  /** A fetch waiting for the refetch interval to pass (an unknown kid met just after a fetch). */
  private scheduled: Promise<void> | undefined;
  private readonly ttl: number;
  private readonly minInterval: number;
  /** The next keepFresh() round, and whether stop() was called. */
  private refresher: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: VerifierOptions) {
    this.ttl = opts.cacheTtlMs ?? 60_000;
    this.minInterval = opts.minRefetchIntervalMs ?? 1000;
  }

  /**
   * Fetches the key set now, then every TTL, in the background until stop(). A failed round is
   * told to onRefreshFailed and the known keys (if any) stay in use; the next round is a TTL
   * later, and meanwhile a token's verification tries again at most every minRefetchIntervalMs.
   */
  keepFresh(): this {
    this.stopped = false;
    const round = () => {
      if (this.stopped) return;
      this.refresh()
        .catch((err: Error) => {
          if (!this.stopped) this.opts.onRefreshFailed?.(err);
        })
        .finally(() => {
          if (this.stopped) return;
          this.refresher = setTimeout(round, this.ttl);
          this.refresher.unref();
        });
    };
    round();
    return this;
  }

  /** Ends keepFresh()'s rounds (a fetch under way finishes, and is not reported). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.refresher);
  }

  /** Whether a key set was ever fetched. */
  hasKeys(): boolean {
    return this.jwks !== undefined;
  }

  /** The key set as last fetched (fetching it if there is none yet): main-backend serves it as JWKS. */
  async publicJwks(): Promise<Jwks> {
    if (!this.jwks) await this.refresh();
    else this.refreshIfStale();
    return this.jwks as Jwks;
  }

  async verify(token: string): Promise<VerifiedAccessToken> {
    this.refreshIfStale();
    const cached = this.verified.get(token);
    if (cached && cached.until > Date.now()) return cached.claims;
    if (cached) this.verified.delete(token);
    const { claims, kid } = await this.verifyUncached(token);
    this.remember(token, claims, kid);
    return claims;
  }

  /**
   * The key set changes rarely and a token's claims never do, so a verified token stays
   * valid until its expiry; the cache is capped at 60 s and bounded in size (oldest first out).
   * A refresh that drops a key drops the tokens it verified too.
   */
  private remember(token: string, claims: VerifiedAccessToken, kid: string): void {
    this.verified.set(token, { claims, kid, until: Math.min(claims.exp * 1000, Date.now() + VERIFIED_CACHE_MS) });
    while (this.verified.size > VERIFIED_CACHE_MAX) this.verified.delete(this.verified.keys().next().value as string);
  }

  private async verifyUncached(token: string): Promise<{ claims: VerifiedAccessToken; kid: string }> {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') throw invalid();
    const { kid, typ, alg } = decoded.header;
    if (!kid || typ !== ACCESS_TOKEN_TYPE || !ACCESS_TOKEN_ALGORITHMS.includes(alg as jwt.Algorithm)) throw invalid();
    const key = await this.keyFor(kid);
    if (!key) throw invalid();
    let payload: jwt.JwtPayload;
    try {
      payload = jwt.verify(token, key, {
        algorithms: ACCESS_TOKEN_ALGORITHMS,
        issuer: this.opts.issuer,
        audience: this.opts.audience,
      }) as jwt.JwtPayload;
    } catch (err) {
      if (err instanceof jwt.TokenExpiredError) throw AppError.unauthorized('token_expired', 'The access token has expired.');
      throw invalid();
    }
    const claims = accessTokenClaimsSchema.safeParse(payload);
    if (!claims.success) throw invalid();
    const scope = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
    return { claims: { ...claims.data, scope }, kid };
  }

  /**
   * A known key is used at once. An unknown kid waits for a fetch (the one under way, or a new
   * one at most every `minRefetchIntervalMs`): after a successful one it is simply not a key of
   * ours; when the fetch fails, or failed just before, the token cannot be judged and the caller
   * gets 503/504.
   */
  private async keyFor(kid: string): Promise<KeyObject | undefined> {
    const known = this.keys.get(kid);
    if (known) return known;
    const sinceAttempt = Date.now() - this.attemptedAt;
    if (this.inflight || !this.jwks || sinceAttempt >= this.minInterval) await this.refresh();
    else if (this.lastAttemptFailed) throw AppError.unavailable('keys_unavailable', 'The token cannot be checked right now; try again.');
    // A key rotated in just after our last fetch: wait for the next allowed fetch (under a
    // second, one for all callers) rather than refuse a valid token and log its user out.
    else await this.refreshAfter(this.minInterval - sinceAttempt);
    return this.keys.get(kid);
  }

  private refreshAfter(delayMs: number): Promise<void> {
    this.scheduled ??= new Promise<void>((resolve) => setTimeout(resolve, delayMs))
      .then(() => this.refresh())
      .finally(() => {
        this.scheduled = undefined;
      });
    return this.scheduled;
  }

  /** Starts a background refresh when the set is past its TTL (the known keys stay in use meanwhile). */
  private refreshIfStale(): void {
    const now = Date.now();
    if (!this.jwks || now - this.fetchedAt <= this.ttl || this.inflight || now - this.attemptedAt < this.minInterval) return;
    this.refresh().catch((err: Error) => {
      if (!this.stopped) this.opts.onRefreshFailed?.(err);
    });
  }

  private refresh(): Promise<void> {
    this.inflight ??= (async () => {
      this.attemptedAt = Date.now();
      try {
        const jwks = await this.opts.fetchJwks();
        const keys = new Map<string, KeyObject>();
        for (const jwk of jwks.keys) {
          keys.set(jwk.kid, createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }));
        }
        this.keys = keys;
        this.jwks = jwks;
        this.fetchedAt = Date.now();
        this.lastAttemptFailed = false;
        for (const [token, entry] of this.verified) if (!keys.has(entry.kid)) this.verified.delete(token);
      } catch (err) {
        this.lastAttemptFailed = true;
        throw err;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}

function invalid() {
  return AppError.unauthorized('invalid_token', 'The access token is not valid.');
}

/** The token from `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header?.match(/^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i);
  return m?.[1];
}
