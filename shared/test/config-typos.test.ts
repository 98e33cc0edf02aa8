import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { loadConfig } from '@warren/shared/config';
import { lookalikes } from '@warren/shared/config-typos';
import { defineService } from '@warren/shared/service-kit';
import { captureLogs } from '../../test/support/logs.js';

const KNOWN = ['APP_ENV', 'NOTIFICATION_PORT', 'NOTIFICATION_DATABASE_URL', 'NOTIFICATION_BATCH_SIZE', 'RABBITMQ_URL', 'LOG_LEVEL', 'ACCESS_TOKEN_TTL'];

describe('lookalikes', () => {
  it('When a name is one or two letters off a known one, then it is reported with the known one', () => {
    // Act
    const found = lookalikes(['NOTIFCATION_PORT', 'NOTIFICATION_PROT', 'RABBITMQ_URI', 'LOG_LEVELS', 'ACESS_TOKEN_TL'], KNOWN);

    // Assert
    assert.deepEqual(found, [
      { variable: 'NOTIFCATION_PORT', didYouMean: 'NOTIFICATION_PORT' },
      { variable: 'NOTIFICATION_PROT', didYouMean: 'NOTIFICATION_PORT' },
      { variable: 'RABBITMQ_URI', didYouMean: 'RABBITMQ_URL' },
      { variable: 'LOG_LEVELS', didYouMean: 'LOG_LEVEL' },
      { variable: 'ACESS_TOKEN_TL', didYouMean: 'ACCESS_TOKEN_TTL' },
    ]);
  });

  it('When a name differs from a known one only in case, then it is reported (variables are case-sensitive)', () => {
    assert.deepEqual(lookalikes(['notification_port', 'App_Env'], KNOWN), [
      { variable: 'notification_port', didYouMean: 'NOTIFICATION_PORT' },
      { variable: 'App_Env', didYouMean: 'APP_ENV' },
    ]);
  });

  it('When a name has the first and last word of a known one, then it is reported however far apart the middle is', () => {
    assert.deepEqual(lookalikes(['NOTIFICATION_HTTP_PORT', 'NOTIFICATION_DB_URL', 'ACCESS_TTL'], KNOWN), [
      { variable: 'NOTIFICATION_HTTP_PORT', didYouMean: 'NOTIFICATION_PORT' },
      { variable: 'NOTIFICATION_DB_URL', didYouMean: 'NOTIFICATION_DATABASE_URL' },
      { variable: 'ACCESS_TTL', didYouMean: 'ACCESS_TOKEN_TTL' },
    ]);
  });

  it('When names are known, unrelated, or what a shell, Node image or CI sets, then nothing is reported', () => {
    // Arrange
    const present = [
      ...KNOWN,
      ...['PATH', 'HOME', 'HOSTNAME', 'PWD', 'OLDPWD', 'SHELL', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TERM', 'COLORTERM', 'TZ', 'CI', 'TMPDIR'],
      ...['NODE_OPTIONS', 'NODE_PATH', 'NODE_VERSION', 'YARN_VERSION', 'NODE_EXTRA_CA_CERTS', 'INIT_CWD', 'npm_config_cache', 'npm_lifecycle_event', 'npm_package_name'],
      ...['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'DEBIAN_FRONTEND', 'GITHUB_ACTIONS', 'RUNNER_OS', 'WARREN_SERVICE', 'TEST_POSTGRES_URL'],
      ...['AUTH_PORT', 'MAIN_BACKEND_PORT', 'AUTH_DATABASE_URL', 'MAIN_DATABASE_URL', 'REFRESH_TOKEN_TTL', 'EMAIL_MAX_ATTEMPTS'],
    ];

    // Act + Assert
    assert.deepEqual(lookalikes(present, KNOWN), []);
  });

  it('When names are hostile (huge, binary, punctuation, thousands of them), then they are skipped quickly and never match', () => {
    // Arrange
    const present = [
      'N'.repeat(100_000),
      `NOTIFICATION_PORT${'X'.repeat(70)}`,
      'NOTIFICATION_PORT\u0000',
      'NOTIFICATION-PORT',
      'NOTIFICATION PORT',
      '',
      '_',
      '__proto__',
      'constructor',
      '1NOTIFICATION_PORT',
      'NOTIFICATİON_PORT',
      ...Array.from({ length: 5_000 }, (_, i) => `UNRELATED_${i}_VARIABLE`),
    ];

    // Act
    const started = process.hrtime.bigint();
    const found = lookalikes(present, KNOWN);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;

    // Assert
    assert.deepEqual(found, []);
    assert.ok(ms < 2_000, `took ${ms} ms`);
  });

  it('When the same typo is present, then it is reported once, by name only', () => {
    assert.deepEqual(lookalikes(['NOTIFCATION_PORT'], [...KNOWN, ...KNOWN]), [{ variable: 'NOTIFCATION_PORT', didYouMean: 'NOTIFICATION_PORT' }]);
  });
});

describe('a service start with a mistyped variable', () => {
  it('When the service starts, then one warning per lookalike is logged, without its value, and the start goes on', async () => {
    // Arrange
    const config = loadConfig(
      {
        service: 'svc',
        port: { variable: 'SVC_PORT', defaults: { dev: 0, qa: 0 } },
        database: { variable: 'SVC_DATABASE_URL', name: () => 'svc' },
        brokerNamespace: () => 'svc',
        variables: () => z.object({}),
        build: () => ({}),
      },
      { SVC_PROT: 'secret-looking-value-1234', RABBITMQ_URI: 'amqp://user:hunter2@host' },
    );
    const logs = captureLogs('svc');
    let started = false;
    const service = defineService(config, { logger: logs.logger, name: 'svc' }, async () => {
      started = true;
    });

    // Act
    await service.start();
    await service.stop();

    // Assert
    const warnings = logs.lines.filter((l) => l.level === 'warn');
    assert.equal(started, true);
    assert.deepEqual(
      warnings.map((w) => [w.message, w.variable, w.didYouMean]),
      [
        ['environment variable not read by this service: a typo?', 'SVC_PROT', 'SVC_PORT'],
        ['environment variable not read by this service: a typo?', 'RABBITMQ_URI', 'RABBITMQ_URL'],
      ],
    );
    assert.doesNotMatch(logs.text(), /secret-looking-value|hunter2/);
  });
});
