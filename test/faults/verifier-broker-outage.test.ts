/**
 * The notification service verifies access tokens with the auth service's public keys, fetched
 * over the broker and cached for JWKS_CACHE_SECONDS. With the broker down for longer than that,
 * valid tokens must still open sockets (`ready`) and read the inbox (its database is fine):
 * the known keys stay in use until fresh ones arrive. A really bad token is still refused
 * (401 / 4001); a token whose key cannot be looked up now is "try again" (503/504 / 1013), not
 * "log out". Once the broker is back and the auth service retires a key, a successful refresh
 * makes that key's tokens 401 (cached verifications included). Runs on a private broker node.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createPool } from '@warren/shared/db/database';
import { loadAuthConfig } from '../../services/auth/src/config.js';
import { SigningKeysRepository } from '../../services/auth/src/db/signing-keys-repository.js';
import { SigningKeys } from '../../services/auth/src/domain/signing-keys.js';
import { decodePayload, signWith } from '../support/forge.js';
import { call, sleep } from '../support/http.js';
import { captureLogs } from '../support/logs.js';
import { startPrivateRabbit, type PrivateRabbit } from '../support/private-rabbitmq.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { openSocket, type TestSocket } from '../support/ws-client.js';

const KEY_CACHE_SECONDS = 1;
const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid as string;

describe('token verification while the broker is down', () => {
  let rabbit: PrivateRabbit;
  let stack: Stack;

  before(async () => {
    rabbit = await startPrivateRabbit();
    stack = await startStack({
      RABBITMQ_URL: rabbit.url,
      JWKS_CACHE_SECONDS: String(KEY_CACHE_SECONDS),
      SIGNING_KEYS_RELOAD_SECONDS: '1',
      RPC_TIMEOUT_MS: '1500',
    });
  });
  after(async () => {
    await stack?.stop();
    await rabbit?.remove();
  });

  const inbox = (token: string) => call(`${stack.notificationUrl}/inbox`, { token });

  async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await sleep(100);
    }
    assert.fail(`timed out waiting for ${what}`);
  }

  const allReady = async () => {
    const urls = [stack.mainUrl, stack.notificationUrl, `http://127.0.0.1:${stack.auth.port()}`];
    const answers = await Promise.all(urls.map((u) => fetch(`${u}/readyz`).then((r) => r.status, () => 0)));
    return answers.every((s) => s === 200);
  };

  /** The first frame, or the close if the socket is closed before sending one. */
  async function firstOf(socket: TestSocket) {
    return Promise.race([socket.next(10_000).then((frame) => ({ frame })), socket.closed.then((closed) => ({ closed }))]);
  }

  it('When the broker is down longer than the key cache, then valid tokens still work and bad ones are still refused', async () => {
    // Arrange: the service knows the keys (one token verified), and holds tokens it has not seen yet.
    const warm = await login(stack);
    assert.equal((await inbox(warm.accessToken)).status, 200);
    const [forRest, forSocket, forTamper] = [await login(stack), await login(stack), await login(stack)];
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const unknownKid = signWith({ kid: 'not-a-key-of-ours', privateKey: stranger, publicPem: '' }, { ...decodePayload(forRest.accessToken) });

    // Act: the broker goes away for several key-cache lifetimes.
    await rabbit.stop('SIGTERM');
    try {
      await duringOutage(warm.accessToken, forRest.accessToken, forSocket.accessToken, forTamper.accessToken, unknownKid);
    } finally {
      // The broker comes back (also if an assertion failed, so the next test has one).
      await rabbit.start();
    }
    await until(allReady, 'every service to be ready again');
    assert.equal((await inbox(forSocket.accessToken)).status, 200);
    await until(async () => (await inbox(unknownKid)).status === 401, 'an unknown kid to be refused once the keys can be fetched');
  });

  async function duringOutage(warm: string, forRest: string, forSocket: string, forTamper: string, unknownKid: string) {
    await until(async () => (await fetch(`${stack.notificationUrl}/readyz`)).status === 503, 'the service to notice the broker is gone');
    await sleep(3 * KEY_CACHE_SECONDS * 1000); // the fault lasting: past the cache TTL
    assert.equal((await inbox(warm)).status, 200, 'a token already verified (and the stale-key refresh it starts)');

    // Assert: valid tokens are served from the database with the known keys.
    const res = await inbox(forRest);
    assert.equal(res.status, 200, `inbox answered ${res.status} ${JSON.stringify(res.body)}`);
    const socket = openSocket(`${stack.notificationWsUrl}?token=${forSocket}`);
    const first = await firstOf(socket);
    assert.ok('frame' in first && first.frame.type === 'ready', `the socket got ${JSON.stringify(first)}`);
    socket.close();
    // (The stale keys were in use: refreshing them was tried, and failed, meanwhile.)
    await until(
      async () => stack.logs.notification.lines.some((l) => String(l.message).includes('refreshing the public keys failed')),
      'a background refresh to fail while the broker is down',
    );

    // A really bad token is still refused as such.
    const tampered = `${forTamper.slice(0, -4)}${forTamper.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const bad = await inbox(tampered);
    assert.equal(bad.status, 401);
    assert.equal(bad.body.code, 'invalid_token');
    assert.equal((await openSocket(`${stack.notificationWsUrl}?token=${tampered}`).closed).code, 4001);

    // A key nobody can look up now is "try again", never "log out".
    const unknown = await inbox(unknownKid);
    assert.ok(unknown.status === 503 || unknown.status === 504, `unknown kid during the outage answered ${unknown.status}`);
    assert.equal((await openSocket(`${stack.notificationWsUrl}?token=${unknownKid}`).closed).code, 1013);
  }

  it('When a key is retired, then a successful refresh makes its tokens 401, cached ones included', async () => {
    // Arrange: a token of the current key, verified (and cached) by the service.
    await until(allReady, 'every service to be ready');
    const old = await login(stack);
    assert.equal((await inbox(old.accessToken)).status, 200);
    const oldKid = kidOf(old.accessToken);

    // Act: the operator rotates the key with a short retirement.
    const { logger } = captureLogs('auth');
    const config = loadAuthConfig(stack.env);
    const pool = createPool(config.databaseUrl, 1, logger);
    try {
      await new SigningKeys(new SigningKeysRepository(pool), config.keyEncryptionKey, logger).rotate(2);
    } finally {
      await pool.end();
    }

    // Assert: after the retirement and a refresh, the old key's token is refused; new tokens work.
    await until(async () => (await inbox(old.accessToken)).status === 401, "the retired key's token to be refused");
    const fresh = await login(stack);
    assert.notEqual(kidOf(fresh.accessToken), oldKid);
    assert.equal((await inbox(fresh.accessToken)).status, 200);
  });
});
