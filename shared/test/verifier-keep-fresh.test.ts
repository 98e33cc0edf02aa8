/**
 * The verifier's background refresh (keepFresh): the key set is fetched at once and every TTL
 * with no token needed, so a replica that served nothing yet has the keys when auth becomes
 * unreachable; a failed round keeps the known keys and is reported; stop() ends the rounds.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { AccessTokenVerifier } from '../src/auth/access-token-verifier.js';
import type { Jwks, PublicJwk } from '../src/contracts/auth-rpc.js';
import { AppError } from '../src/errors.js';
import { sleep, waitFor } from './helpers.js';

const ISSUER = 'urn:test:auth';
const AUDIENCE = 'urn:test';

function newKey(kid: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk: PublicJwk = { ...publicKey.export({ format: 'jwk' }), kty: 'EC', kid, alg: 'ES256', use: 'sig' };
  const token = () =>
    jwt.sign({ sub: randomUUID(), sid: randomUUID(), role: 'employee' }, privateKey, {
      algorithm: 'ES256',
      issuer: ISSUER,
      audience: AUDIENCE,
      expiresIn: 900,
      header: { alg: 'ES256', typ: 'at+jwt', kid },
    });
  return { jwk, token };
}

/** A key source the test controls: a key set, or (undefined) an auth that does not answer. */
function keySource(initial: Jwks | undefined) {
  const source = { jwks: initial, fetches: 0, failures: [] as Error[] };
  const fetchJwks = async () => {
    source.fetches += 1;
    if (!source.jwks) throw AppError.timeout('upstream_timeout', 'no answer');
    return source.jwks;
  };
  return { source, fetchJwks };
}

describe('verifier keeping its keys fresh in the background', () => {
  it('When started, then the keys are fetched with no token, and again every TTL', async () => {
    const key = newKey('k1');
    const { source, fetchJwks } = keySource({ keys: [key.jwk] });
    const verifier = new AccessTokenVerifier({ fetchJwks, issuer: ISSUER, audience: AUDIENCE, cacheTtlMs: 30 }).keepFresh();
    try {
      await waitFor(() => verifier.hasKeys(), 'the first fetch');
      await waitFor(() => source.fetches >= 4, 'three more rounds', 2000, 10);
      // Auth goes away: a token that was never seen is still verified with the known key.
      source.jwks = undefined;
      const before = source.fetches;
      await waitFor(() => source.fetches > before + 1, 'rounds to go on failing', 2000, 10);
      assert.deepEqual(await verifier.publicJwks(), { keys: [key.jwk] });
      assert.equal((await verifier.verify(key.token())).role, 'employee');
    } finally {
      verifier.stop();
    }
  });

  it('When a round fails, then it is reported; when stopped, then no round runs and a failure under way is not reported', async () => {
    const { source, fetchJwks } = keySource(undefined);
    const verifier = new AccessTokenVerifier({
      fetchJwks,
      issuer: ISSUER,
      audience: AUDIENCE,
      cacheTtlMs: 20,
      onRefreshFailed: (err) => source.failures.push(err),
    }).keepFresh();
    await waitFor(() => source.failures.length >= 2, 'two failed rounds', 2000, 10);
    assert.equal(verifier.hasKeys(), false);
    verifier.stop();
    const [fetches, failures] = [source.fetches, source.failures.length];
    await sleep(100); // five TTLs
    assert.equal(source.fetches, fetches, 'no round after stop()');
    assert.equal(source.failures.length, failures);
  });

  it('When stopped while a fetch is under way, then its failure is not reported', async () => {
    let fail!: (err: Error) => void;
    const failures: Error[] = [];
    const verifier = new AccessTokenVerifier({
      fetchJwks: () => new Promise<Jwks>((_resolve, reject) => (fail = reject)),
      issuer: ISSUER,
      audience: AUDIENCE,
      onRefreshFailed: (err) => failures.push(err),
    }).keepFresh();
    verifier.stop();
    fail(AppError.unavailable('shutting_down'));
    await sleep(20);
    assert.deepEqual(failures, []);
  });
});
