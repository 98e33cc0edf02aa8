import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, loadConfig, type ServiceName } from '@warren/shared/config';

/** loadConfig with no service-specific variables. */
function load(service: ServiceName, env: Record<string, string | undefined>) {
  return loadConfig(service, env, () => z.object({}), () => ({}));
}

describe('loadConfig', () => {
  it('When APP_ENV is unset, then the dev defaults apply (ports 3000/3001/3002, dev database and namespace)', () => {
    // Arrange
    const env = {};

    // Act
    const main = load('main-backend', env);
    const auth = load('auth', env);
    const notification = load('notification', env);

    // Assert
    assert.equal(main.appEnv, 'dev');
    assert.deepEqual([main.port, auth.port, notification.port], [3000, 3001, 3002]);
    assert.equal(main.databaseUrl, 'postgres://postgres@127.0.0.1:5432/warren_main_backend_dev');
    assert.equal(auth.databaseUrl, 'postgres://postgres@127.0.0.1:5432/warren_auth_dev');
    assert.equal(notification.databaseUrl, 'postgres://postgres@127.0.0.1:5432/warren_notification_dev');
    assert.equal(main.brokerNamespace, 'warren.dev');
    assert.equal(main.rabbitmqUrl, 'amqp://guest:guest@127.0.0.1:5672');
    assert.deepEqual(main.corsOrigins, []);
    assert.equal(main.httpBodyLimit, '100kb');
    assert.equal(main.rpcTimeoutMs, 5000);
  });

  it('When APP_ENV is qa, then the qa defaults apply (ports 4000/4001/4002, qa database and namespace)', () => {
    // Arrange
    const env = { APP_ENV: 'qa' };

    // Act
    const main = load('main-backend', env);
    const auth = load('auth', env);
    const notification = load('notification', env);

    // Assert
    assert.equal(main.appEnv, 'qa');
    assert.deepEqual([main.port, auth.port, notification.port], [4000, 4001, 4002]);
    assert.equal(main.databaseUrl, 'postgres://postgres@127.0.0.1:5432/warren_main_backend_qa');
    assert.equal(auth.databaseUrl, 'postgres://postgres@127.0.0.1:5432/warren_auth_qa');
    assert.equal(notification.databaseUrl, 'postgres://postgres@127.0.0.1:5432/warren_notification_qa');
    assert.equal(auth.brokerNamespace, 'warren.qa');
  });

  it('When variables are set, then they override the defaults, typed', () => {
    // Arrange
    const env = {
      APP_ENV: 'qa',
      AUTH_PORT: '5555',
      AUTH_DATABASE_URL: 'postgresql://u@db:5432/custom',
      BROKER_NAMESPACE: 'team-a.qa',
      RPC_TIMEOUT_MS: '1200',
    };

    // Act
    const config = load('auth', env);

    // Assert
    assert.equal(config.port, 5555);
    assert.equal(config.databaseUrl, 'postgresql://u@db:5432/custom');
    assert.equal(config.brokerNamespace, 'team-a.qa');
    assert.equal(config.rpcTimeoutMs, 1200);
  });

  it('When RABBITMQ_URL is not a URL and the port is bad, then ONE ConfigError names both variables', () => {
    // Arrange
    const env = { RABBITMQ_URL: 'not-a-url', AUTH_PORT: 'not-a-port' };

    // Act
    let caught: unknown;
    try {
      load('auth', env);
    } catch (err) {
      caught = err;
    }

    // Assert
    assert.ok(caught instanceof ConfigError, 'expected a ConfigError');
    assert.match(caught.message, /RABBITMQ_URL/);
    assert.match(caught.message, /AUTH_PORT/);
    assert.deepEqual(caught.issues.map((i) => i.variable).sort(), ['AUTH_PORT', 'RABBITMQ_URL']);
  });

  it('When a port is out of range or the URL has the wrong protocol, then both are reported', () => {
    // Arrange
    const env = { MAIN_BACKEND_PORT: '70000', RABBITMQ_URL: 'http://127.0.0.1:5672' };

    // Act + Assert
    assert.throws(
      () => load('main-backend', env),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.issues.length === 2 &&
        err.message.includes('MAIN_BACKEND_PORT') &&
        err.message.includes('RABBITMQ_URL'),
    );
  });

  it('When APP_ENV is not dev or qa, then the error names APP_ENV', () => {
    // Arrange
    const env = { APP_ENV: 'production' };

    // Act + Assert
    assert.throws(
      () => load('auth', env),
      (err: unknown) => err instanceof ConfigError && err.issues.some((i) => i.variable === 'APP_ENV'),
    );
  });

  it('When a variable is an empty string, then it counts as unset and the default applies', () => {
    // Arrange
    const env = { APP_ENV: '', RABBITMQ_URL: '', NOTIFICATION_PORT: '', CORS_ORIGINS: '', BROKER_NAMESPACE: '' };

    // Act
    const config = load('notification', env);

    // Assert
    assert.equal(config.appEnv, 'dev');
    assert.equal(config.rabbitmqUrl, 'amqp://guest:guest@127.0.0.1:5672');
    assert.equal(config.port, 3002);
    assert.deepEqual(config.corsOrigins, []);
    assert.equal(config.brokerNamespace, 'warren.dev');
  });

  it('When CORS_ORIGINS is a comma-separated list with spaces and blanks, then it becomes a clean array', () => {
    // Arrange
    const env = { CORS_ORIGINS: ' https://a.example.com , http://localhost:5173,, ' };

    // Act
    const config = load('main-backend', env);

    // Assert
    assert.deepEqual(config.corsOrigins, ['https://a.example.com', 'http://localhost:5173']);
  });

  it('When a service adds its own schema, then its defaults may depend on APP_ENV and bad values join the same error', () => {
    // Arrange
    const extra = (appEnv: 'dev' | 'qa') => z.object({ JWT_ISSUER: z.string().default(`warren-auth-${appEnv}`) });
    const build = (v: { JWT_ISSUER: string }) => ({ issuer: v.JWT_ISSUER });

    // Act
    const config = loadConfig('auth', { APP_ENV: 'qa' }, extra, build);
    const strictExtra = () => z.object({ SECRET_LEN: z.coerce.number().int().min(32) });

    // Assert
    assert.equal(config.issuer, 'warren-auth-qa');
    assert.equal(config.port, 4001);
    assert.throws(
      () => loadConfig('auth', { SECRET_LEN: '3', AUTH_PORT: 'x' }, strictExtra, () => ({})),
      (err: unknown) =>
        err instanceof ConfigError && err.message.includes('SECRET_LEN') && err.message.includes('AUTH_PORT'),
    );
  });

  it('When a service schema has a cross-field rule, then its violation is reported with the other bad variables', () => {
    // Arrange: a rule over two variables, as the auth service has for the bootstrap admin
    const extra = () =>
      z
        .object({ A_EMAIL: z.string().optional(), A_PASSWORD: z.string().optional() })
        .superRefine((v, ctx) => {
          if (Boolean(v.A_EMAIL) !== Boolean(v.A_PASSWORD)) {
            ctx.addIssue({ code: 'custom', path: ['A_PASSWORD'], message: 'set both or neither' });
          }
        });

    // Act
    const attempt = () => loadConfig('auth', { A_EMAIL: 'a@example.com', RABBITMQ_URL: 'nope' }, extra, (v) => v);

    // Assert
    assert.throws(attempt, (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.issues.map((i) => i.variable).sort(), ['A_PASSWORD', 'RABBITMQ_URL']);
      return true;
    });
  });
});
