/**
 * The verifier's key cache on its own, with real ES256 keys and a key source the test controls
 * (it stands for the auth service's JWKS RPC; the fault test runs the same through a real broker
 * outage): known keys survive failed refreshes, a retired key dies with a successful one, an
 * unknown kid is "try again" while keys cannot be fetched and 401 once they can.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { AccessTokenVerifier } from '../src/auth/access-token-verifier.js';
import type { Jwks, PublicJwk } from '../src/contracts/auth-rpc.js';
import { AppError } from '../src/errors.js';
import { waitFor } from './helpers.js';

const ISSUER = 'urn:test:auth';
const AUDIENCE = 'urn:test';

function newKey(kid: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk: PublicJwk = { ...publicKey.export({ format: 'jwk' }), kty: 'EC', kid, alg: 'ES256', use: 'sig' };
  return { kid, privateKey, jwk };
}

function tokenOf(key: { kid: string; privateKey: KeyObject }): string {
  return jwt.sign({ sub: randomUUID(), sid: randomUUID(), role: 'employee' }, key.privateKey, {
    algorithm: 'ES256',
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: 900,
    header: { alg: 'ES256', typ: 'at+jwt', kid: key.kid },
  });
}

/** A key source whose answer the test sets: a key set, or an outage. */
function keySource(initial: Jwks) {
  const source = { jwks: initial as Jwks | undefined, fetches: 0 };
  const fetchJwks = async () => {
    source.fetches += 1;
    if (!source.jwks) throw AppError.timeout('upstream_timeout', 'no answer');
    return source.jwks;
  };
  return { source, fetchJwks };
}

const statusOf = (err: unknown) => (err instanceof AppError ? err.status : undefined);

describe('access-token verifier key cache', () => {
  it('When refreshes fail past the cache TTL, then the known keys keep verifying new tokens', async () => {
    const key = newKey('k1');
    const { source, fetchJwks } = keySource({ keys: [key.jwk] });
    const verifier = new AccessTokenVerifier({ fetchJwks, issuer: ISSUER, audience: AUDIENCE, cacheTtlMs: 20, minRefetchIntervalMs: 10 });
    await verifier.verify(tokenOf(key));
    source.jwks = undefined; // the outage starts

    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 30)); // past the TTL each time
      await verifier.verify(tokenOf(key)); // a token never seen before: the signature is checked
    }
    assert.ok(source.fetches > 1, 'refreshes were tried in the background');
    await assert.rejects(verifier.verify(tokenOf(key).slice(0, -3) + 'abc'), (err) => statusOf(err) === 401, 'a bad signature is still 401');
  });

  it('When a kid is unknown while the keys cannot be fetched, then it is 5xx, and 401 once a fetch succeeds', async () => {
    const key = newKey('k1');
    const stranger = newKey('stranger');
    const { source, fetchJwks } = keySource({ keys: [key.jwk] });
    const verifier = new AccessTokenVerifier({ fetchJwks, issuer: ISSUER, audience: AUDIENCE, minRefetchIntervalMs: 0 });
    await verifier.verify(tokenOf(key));
    source.jwks = undefined;
    await assert.rejects(verifier.verify(tokenOf(stranger)), (err) => statusOf(err) === 504);
    source.jwks = { keys: [key.jwk] };
    await assert.rejects(verifier.verify(tokenOf(stranger)), (err) => statusOf(err) === 401);
  });

  it('When a successful refresh no longer lists a key, then its tokens are refused, already verified ones too', async () => {
    const old = newKey('old');
    const next = newKey('next');
    const { source, fetchJwks } = keySource({ keys: [old.jwk, next.jwk] });
    const verifier = new AccessTokenVerifier({ fetchJwks, issuer: ISSUER, audience: AUDIENCE, cacheTtlMs: 20, minRefetchIntervalMs: 10 });
    const token = tokenOf(old);
    await verifier.verify(token);
    source.jwks = { keys: [next.jwk] }; // the old key retired

    await waitFor(
      () => verifier.verify(token).then(() => false, (err) => statusOf(err) === 401),
      "the retired key's cached token to be refused",
      2000,
      15,
    );
    await verifier.verify(tokenOf(next));
  });
});
