/**
 * Signing-key rotation as an operator runs it: the new key signs new tokens, tokens signed by
 * the old key keep working until it retires, the JWKS shows both meanwhile, and a retired key
 * leaves the key set.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createPool } from '@warren/shared/db/database';
import { loadAuthConfig } from '../../services/auth/src/config.js';
import { SigningKeysRepository } from '../../services/auth/src/db/signing-keys-repository.js';
import { SigningKeys } from '../../services/auth/src/domain/signing-keys.js';
import { call } from '../support/http.js';
import { captureLogs } from '../support/logs.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';
import { openSocket } from '../support/ws-client.js';

const authDir = join(fileURLToPath(import.meta.url), '..', '..', '..', 'services', 'auth');
const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid as string;

describe('signing key rotation', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ SIGNING_KEYS_RELOAD_SECONDS: '1' });
  });
  after(async () => {
    await stack?.stop();
  });

  it('When the key is rotated, then old tokens still verify, new tokens use the new key and every verifier accepts it at once', async () => {
    // Arrange: both verifiers (main-backend, notification) have fetched and cached the key set
    const before = await login(stack);
    const oldKid = kidOf(before.accessToken);
    assert.equal((await call(`${stack.mainUrl}/auth/me`, { token: before.accessToken })).status, 200);
    assert.equal((await call(`${stack.notificationUrl}/inbox`, { token: before.accessToken })).status, 200);
    const warmedAt = Date.now();

    // Act: the operator command, with the service's own variables
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/rotate-signing-key.ts'], {
      cwd: authDir,
      env: { PATH: process.env.PATH ?? '', ...stack.env, LOG_LEVEL: 'error' },
    });
    const newKid = /new signing key (\S+) is active/.exec(stdout)?.[1];
    assert.ok(newKid && newKid !== oldKid, stdout);
    // Every auth replica re-reads the key set within SIGNING_KEYS_RELOAD_SECONDS (1 s here).
    let afterRotation = await login(stack);
    await until(async () => kidOf((afterRotation = await login(stack)).accessToken) === newKid, 'new tokens to be signed with the new key');

    // Assert: the verifiers' cached key sets (60 s) lack the new kid: they fetch it on sight.
    // (An unknown kid refetches at most once a second, and within that second a fresh valid
    // token is refused: reported as a finding. Here the fetch-on-sight is what is tested, so
    // the check comes after that second, on the clock, not as synchronisation.)
    await until(() => Date.now() - warmedAt > 1100, 'the refetch interval since the warm-up fetch', 5000, 20);
    const me = await call(`${stack.mainUrl}/auth/me`, { token: afterRotation.accessToken });
    assert.equal(me.status, 200, `the new key verifies: ${JSON.stringify(me.body)}`);
    assert.equal((await call(`${stack.notificationUrl}/inbox`, { token: afterRotation.accessToken })).status, 200, 'and at the notification service');
    const socket = openSocket(`${stack.notificationWsUrl}?token=${afterRotation.accessToken}`);
    assert.equal((await socket.next()).type, 'ready', 'and on a new socket');
    socket.close();
    assert.equal((await call(`${stack.mainUrl}/auth/me`, { token: before.accessToken })).status, 200, 'the old key still verifies');
    const jwks = await call(`${stack.mainUrl}/.well-known/jwks.json`);
    const kids = jwks.body.keys.map((k: { kid: string }) => k.kid);
    assert.ok(kids.includes(oldKid) && kids.includes(newKid), `JWKS kids: ${kids}`);
  });

  it('When a rotated-out key reaches its retirement time, then it leaves the key set', async () => {
    // Arrange: a key set over the same database, retiring the current key after 3 s
    const { logger } = captureLogs('auth');
    const config = loadAuthConfig(stack.env);
    const pool = createPool(config.databaseUrl, 1, logger);
    try {
      const keys = new SigningKeys(new SigningKeysRepository(pool), config.keyEncryptionKey, logger);
      await keys.reload();
      const retiring = (await keys.signingKey()).kid;

      // Act
      const rotatedAt = Date.now();
      const fresh = await keys.rotate(3);
      const during = (await keys.publicJwks()).keys.map((k) => k.kid);
      let afterRetirement = during;
      await until(async () => !(afterRetirement = (await keys.reload(), await keys.publicJwks()).keys.map((k) => k.kid)).includes(retiring), 'the retired key to leave', 15_000);

      // Assert: it stayed its 3 s, then left (a lower bound only: load can delay, never hasten it);
      // the new one stays
      assert.ok(during.includes(retiring) && during.includes(fresh));
      assert.ok(Date.now() - rotatedAt >= 2900, `the key left ${Date.now() - rotatedAt} ms after the rotation, before its time`);
      assert.ok(afterRetirement.includes(fresh));
    } finally {
      await pool.end();
    }
  });
});
