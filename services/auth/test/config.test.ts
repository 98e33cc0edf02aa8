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

  it('When NODE_ENV=production and AUTH_KEY_ENCRYPTION_KEY is unset or empty, then start is refused naming it', () => {
    for (const value of [undefined, '']) {
      assert.throws(
        () => loadAuthConfig({ NODE_ENV: 'production', AUTH_KEY_ENCRYPTION_KEY: value }),
        (err: unknown) =>
          err instanceof ConfigError && err.issues.some((i) => i.variable === 'AUTH_KEY_ENCRYPTION_KEY' && /production/.test(i.message)),
      );
    }
    const key = Buffer.alloc(32, 1).toString('base64');
    assert.equal(loadAuthConfig({ NODE_ENV: 'production', AUTH_KEY_ENCRYPTION_KEY: key }).keyEncryptionKey?.length, 32);
    assert.equal(loadAuthConfig({ NODE_ENV: 'development' }).keyEncryptionKey, undefined, 'outside production it stays optional');
  });

  it('When nothing is set, then the contract defaults apply', () => {
    const c = loadAuthConfig({});
    assert.equal(c.accessTokenTtlSeconds, 900);
    assert.equal(c.refreshTokenTtlSeconds, 2_592_000);
    assert.deepEqual(c.lockout, { threshold: 5, seconds: 900, alertWindowSeconds: 3600 });
    assert.equal(c.bootstrapAdmin, undefined);
    assert.equal(c.auditRetentionDays, 90);
  });

  it('When AUDIT_RETENTION_DAYS is not a whole number of days from 1 to 3650, then start is refused naming it', () => {
    for (const value of ['0', '-1', '3651', '1.5', 'forever']) {
      assert.throws(
        () => loadAuthConfig({ AUDIT_RETENTION_DAYS: value }),
        (err: unknown) => err instanceof ConfigError && err.issues.some((i) => i.variable === 'AUDIT_RETENTION_DAYS'),
        value,
      );
    }
    assert.equal(loadAuthConfig({ AUDIT_RETENTION_DAYS: '365' }).auditRetentionDays, 365);
  });
});
