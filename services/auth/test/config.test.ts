import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@warren/shared/config';
import { loadAuthConfig } from '../src/config.js';

describe('auth configuration', () => {
  it('When only one of the bootstrap admin variables is set, then start is refused naming the missing one', () => {
    assert.throws(
      () => loadAuthConfig({ BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com' }),
      (err: unknown) => err instanceof ConfigError && err.issues.some((i) => i.variable === 'BOOTSTRAP_ADMIN_PASSWORD'),
    );
  });

  it('When the key encryption key is not 32 bytes of base64, then start is refused naming it', () => {
    assert.throws(
      () => loadAuthConfig({ AUTH_KEY_ENCRYPTION_KEY: 'c2hvcnQ=' }),
      (err: unknown) => err instanceof ConfigError && err.issues.some((i) => i.variable === 'AUTH_KEY_ENCRYPTION_KEY'),
    );
  });

  it('When nothing is set, then the contract defaults apply', () => {
    const c = loadAuthConfig({});
    assert.equal(c.accessTokenTtlSeconds, 900);
    assert.equal(c.refreshTokenTtlSeconds, 2_592_000);
    assert.deepEqual(c.lockout, { threshold: 5, seconds: 900 });
    assert.equal(c.bootstrapAdmin, undefined);
  });
});
