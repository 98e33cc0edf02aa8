/**
 * A signing key that was rotated out and retired must stop verifying at every verifier, even
 * for a token it signed that has not expired (a key leaked from a backup, say). The verifiers
 * cache the key set for 60 s, so the refusal comes within that: each probe is a freshly signed
 * token (its own jti), so the verified-token cache cannot hide the answer. Slow by design
 * (about a minute): it waits for the promised bound, polling, never a fixed sleep.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createPool } from '@warren/shared/db/database';
import { loadAuthConfig } from '../../services/auth/src/config.js';
import { SigningKeysRepository } from '../../services/auth/src/db/signing-keys-repository.js';
import { SigningKeys } from '../../services/auth/src/domain/signing-keys.js';
import { activeSigningKey, decodePayload, signWith, type RealKey } from '../support/forge.js';
import { call } from '../support/http.js';
import { captureLogs } from '../support/logs.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';
import { openSocket } from '../support/ws-client.js';

/** The verifiers' key-set cache (60 s) plus room for a loaded machine. */
const REFUSAL_DEADLINE_MS = 100_000;

describe('a retired signing key at the verifiers', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ SIGNING_KEYS_RELOAD_SECONDS: '1' });
  });
  after(async () => {
    await stack?.stop();
  });

  it('When a rotated-out key has retired, then main-backend and the notification service (REST and socket) refuse tokens it signs', { timeout: REFUSAL_DEADLINE_MS + 30_000 }, async () => {
    // Arrange: the old key's private half (as a leak would give it), verifiers warmed with it
    const session = await login(stack);
    const old: RealKey = await activeSigningKey(stack);
    const claims = decodePayload(session.accessToken);
    const signedByOld = () => {
      const now = Math.floor(Date.now() / 1000);
      return signWith(old, { ...claims, jti: randomUUID(), iat: now, exp: now + 900 });
    };
    const meStatus = async (token: string) => (await call(`${stack.mainUrl}/auth/me`, { token })).status;
    const inboxStatus = async (token: string) => (await call(`${stack.notificationUrl}/inbox`, { token })).status;
    const socketAnswer = async (token: string) => {
      const s = openSocket(`${stack.notificationWsUrl}?token=${encodeURIComponent(token)}`);
      const first = await Promise.race([s.next(10_000).then((f) => String(f.type)), s.closed.then((c) => `closed ${c.code}`)]);
      s.ws.terminate();
      return first;
    };
    assert.equal(await meStatus(signedByOld()), 200, 'the baseline: the old key verifies');
    assert.equal(await inboxStatus(signedByOld()), 200);
    assert.equal(await socketAnswer(signedByOld()), 'ready');

    // Act: rotate with a 1 s retirement (an operator would give ACCESS_TOKEN_TTL + reload)
    const { logger } = captureLogs('auth');
    const pool = createPool(loadAuthConfig(stack.env).databaseUrl, 1, logger);
    try {
      await new SigningKeys(new SigningKeysRepository(pool), loadAuthConfig(stack.env).keyEncryptionKey, logger).rotate(1);
    } finally {
      await pool.end();
    }

    // Assert: refused everywhere within the key-set cache's bound, each probe a fresh token
    await until(async () => (await meStatus(signedByOld())) === 401, 'main-backend to refuse the retired key', REFUSAL_DEADLINE_MS, 1000);
    await until(async () => (await inboxStatus(signedByOld())) === 401, 'the notification REST API to refuse it', REFUSAL_DEADLINE_MS, 1000);
    await until(async () => (await socketAnswer(signedByOld())) === 'closed 4001', 'the notification socket to refuse it', REFUSAL_DEADLINE_MS, 1000);
    // ... while the new key's tokens work everywhere
    const fresh = await login(stack);
    const freshKid = JSON.parse(Buffer.from(fresh.accessToken.split('.')[0] as string, 'base64url').toString()).kid;
    assert.notEqual(freshKid, old.kid, 'new tokens are signed by the new key');
    assert.equal(await meStatus(fresh.accessToken), 200);
    assert.equal(await inboxStatus(fresh.accessToken), 200);
    assert.equal(await socketAnswer(fresh.accessToken), 'ready');
  });
});
