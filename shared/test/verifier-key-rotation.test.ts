/**
 * The verifier across a key rotation, with the clock faked and the JWKS served by a function
 * the test controls (as the auth service's RPC would serve it): a token signed by a key the
 * verifier has not seen makes it fetch the key set again at once, well inside the cache's TTL;
 * a burst of unknown kids (forgeries) shares one fetch and cannot make more than one a second;
 * a key that left the key set (retired) stops verifying once the stale set is refreshed. (The
 * key cache under fetch failures is tested in access-token-verifier.test.ts.)
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import jwt from 'jsonwebtoken';
import { AccessTokenVerifier } from '@warren/shared/auth/access-token-verifier';
import type { Jwks } from '@warren/shared/contracts/auth-rpc';
import { AppError } from '@warren/shared/errors';

const ISSUER = 'urn:warren:test:auth';
const AUDIENCE = 'urn:warren:test';
const CACHE_TTL_MS = 60_000;
const MIN_REFETCH_MS = 1000;

interface TestKey {
  kid: string;
  privateKey: KeyObject;
  jwk: Jwks['keys'][number];
}

function newKey(kid: string): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' } as Jwks['keys'][number] };
}

function sign(key: TestKey, ttlSeconds = 900): string {
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign(
    { sub: randomUUID(), sid: randomUUID(), role: 'employee', iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + ttlSeconds, jti: randomUUID() },
    key.privateKey,
    { algorithm: 'ES256', header: { alg: 'ES256', typ: 'at+jwt', kid: key.kid } as jwt.JwtHeader },
  );
}

/** A verifier over a key set the test changes, counting how often it is fetched. */
function verifierOver(initial: TestKey[]) {
  let served: TestKey[] = initial;
  let fetches = 0;
  const verifier = new AccessTokenVerifier({
    fetchJwks: async () => {
      fetches += 1;
      return { keys: served.map((k) => k.jwk) };
    },
    issuer: ISSUER,
    audience: AUDIENCE,
    cacheTtlMs: CACHE_TTL_MS,
    minRefetchIntervalMs: MIN_REFETCH_MS,
  });
  return {
    verifier,
    fetches: () => fetches,
    serve: (keys: TestKey[]) => {
      served = keys;
    },
  };
}

/** Lets a background refresh (a resolved fetch and its bookkeeping) finish. */
async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function refusedWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof AppError && err.status === 401 && err.code === code);
}

describe('access-token verifier across key rotation', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date', 'setTimeout'], now: Date.now() }));
  afterEach(() => mock.timers.reset());

  it('When a token names a kid the verifier has not seen, then it fetches the key set again and accepts the rotated-in key', async () => {
    // Arrange: the verifier knows key A; the auth service then rotates to B
    const a = newKey('key-a');
    const b = newKey('key-b');
    const v = verifierOver([a]);
    await v.verifier.verify(sign(a));
    assert.equal(v.fetches(), 1);
    v.serve([a, b]);
    mock.timers.tick(MIN_REFETCH_MS + 1);

    // Act + Assert: well inside the 60 s cache, yet B's token verifies (one refetch)
    const claims = await v.verifier.verify(sign(b));
    assert.equal(claims.iss, ISSUER);
    assert.equal(v.fetches(), 2);
    await v.verifier.verify(sign(a));
    assert.equal(v.fetches(), 2, 'a known kid fetches nothing');
  });

  it('When many tokens with unknown kids arrive at once, then they share one fetch, and further unknown kids fetch at most once per interval', async () => {
    // Arrange
    const a = newKey('key-a');
    const v = verifierOver([a]);
    await v.verifier.verify(sign(a));
    mock.timers.tick(MIN_REFETCH_MS + 1);

    // Act: 50 forged kids at once, then 50 more within the interval
    const forger = newKey('forger');
    const forged = Array.from({ length: 50 }, (_, i) => sign({ ...forger, kid: `forged-${i}` }));
    await Promise.all(forged.map((t) => refusedWith(v.verifier.verify(t), 'invalid_token')));
    const afterBurst = v.fetches();
    const second = Promise.all(forged.map((t) => refusedWith(v.verifier.verify(t), 'invalid_token')));
    await settled();
    const withinInterval = v.fetches();
    mock.timers.tick(MIN_REFETCH_MS + 1);
    await second;

    // Assert: an attacker cannot turn unknown kids into a stream of JWKS requests
    assert.equal(afterBurst, 2, 'one shared refetch for the burst');
    assert.equal(withinInterval, 2, 'no refetch within the interval');
    assert.equal(v.fetches(), 3, 'the second burst shares one fetch once the interval has passed');
  });

  it('When a key is rotated in just after a fetch, then its token waits for the next allowed fetch and is accepted, not refused', async () => {
    // Arrange: the verifier fetched just now; then auth rotates to B
    const a = newKey('key-a');
    const b = newKey('key-b');
    const v = verifierOver([a]);
    await v.verifier.verify(sign(a));
    v.serve([a, b]);

    // Act: a token signed by B arrives within the refetch interval
    const verifying = v.verifier.verify(sign(b));
    await settled();
    mock.timers.tick(MIN_REFETCH_MS + 1);

    // Assert
    assert.equal((await verifying).iss, ISSUER);
    assert.equal(v.fetches(), 2);
  });

  it('When a key is retired (gone from the key set), then a token it signed is refused once the key set is fetched again, though not expired', async () => {
    // Arrange: A signs a long-lived token; rotation to B; later A is retired
    const a = newKey('key-a');
    const b = newKey('key-b');
    const v = verifierOver([a, b]);
    await v.verifier.verify(sign(b));
    const signedByA = sign(a, 3600);
    v.serve([b]);

    // Act: the cached key set goes stale; the next verification refreshes it (in the background)
    mock.timers.tick(CACHE_TTL_MS + 1);
    await v.verifier.verify(sign(b));
    await settled();

    // Assert
    assert.equal(v.fetches(), 2, 'the stale set was fetched again');
    // Met just after that fetch, A's kid waits for the next allowed one (it might be a new key).
    const refused = refusedWith(v.verifier.verify(signedByA), 'invalid_token');
    await settled();
    mock.timers.tick(MIN_REFETCH_MS + 1);
    await refused;
    await v.verifier.verify(sign(b));
  });
});
