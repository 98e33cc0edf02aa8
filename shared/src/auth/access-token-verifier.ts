/**
 * Verifies access tokens wherever they arrive (main-backend HTTP, notification HTTP and
 * WebSocket). Public keys come from the auth service's JWKS (over RPC), cached by kid; an
 * unknown kid triggers one refetch (rate-limited, and shared by concurrent callers) so a
 * newly rotated key is picked up without a restart. The algorithm list, issuer, audience
 * and token type are pinned, so neither `alg: none`, nor an HS256 token signed with the
 * public key, nor any other kind of token passes.
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
  /** How long a fetched key set is trusted before it is fetched again (default 60 s). */
  cacheTtlMs?: number;
  /** Minimum time between refetches caused by unknown kids (default 1 s: one cheap RPC a second at most). */
  minRefetchIntervalMs?: number;
}

/** Verified tokens kept, so a client's next requests skip the signature check (bounded). */
const VERIFIED_CACHE_MAX = 10_000;
const VERIFIED_CACHE_MS = 60_000;

export class AccessTokenVerifier {
  private keys = new Map<string, KeyObject>();
  /** token → its claims, until min(exp, 60 s after verification); only successes are kept. */
  private readonly verified = new Map<string, { claims: VerifiedAccessToken; until: number }>();
  private jwks: Jwks | undefined;
  private fetchedAt = 0;
  private inflight: Promise<void> | undefined;
  private readonly ttl: number;
  private readonly minInterval: number;

  constructor(private readonly opts: VerifierOptions) {
    this.ttl = opts.cacheTtlMs ?? 60_000;
    this.minInterval = opts.minRefetchIntervalMs ?? 1000;
  }

  /** The key set as last fetched (fetching it if needed): main-backend serves it as JWKS. */
  async publicJwks(): Promise<Jwks> {
    if (!this.jwks || Date.now() - this.fetchedAt > this.ttl) await this.refresh();
    return this.jwks as Jwks;
  }

  async verify(token: string): Promise<VerifiedAccessToken> {
    const cached = this.verified.get(token);
    if (cached && cached.until > Date.now()) return cached.claims;
    if (cached) this.verified.delete(token);
    const claims = await this.verifyUncached(token);
    this.remember(token, claims);
    return claims;
  }

  /**
   * The key set changes rarely and a token's claims never do, so a verified token stays
   * valid until its expiry; the cache is capped at 60 s so a retired key stops counting soon
   * after, and bounded in size (oldest first out).
   */
  private remember(token: string, claims: VerifiedAccessToken): void {
    this.verified.set(token, { claims, until: Math.min(claims.exp * 1000, Date.now() + VERIFIED_CACHE_MS) });
    while (this.verified.size > VERIFIED_CACHE_MAX) this.verified.delete(this.verified.keys().next().value as string);
  }

  private async verifyUncached(token: string): Promise<VerifiedAccessToken> {
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
    return { ...claims.data, scope };
  }

  private async keyFor(kid: string): Promise<KeyObject | undefined> {
    const stale = Date.now() - this.fetchedAt > this.ttl;
    const unknownAndMayRefetch = !this.keys.has(kid) && Date.now() - this.fetchedAt > this.minInterval;
    if (stale || unknownAndMayRefetch) await this.refresh();
    return this.keys.get(kid);
  }

  private refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const jwks = await this.opts.fetchJwks();
        const keys = new Map<string, KeyObject>();
        for (const jwk of jwks.keys) {
          keys.set(jwk.kid, createPublicKey({ key: jwk as import("node:crypto").JsonWebKey, format: 'jwk' }));
        }
        this.keys = keys;
        this.jwks = jwks;
        this.fetchedAt = Date.now();
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
