/**
 * The three services' configurations side by side: the contract's defaults per APP_ENV
 * (ports, databases, namespace), one message naming every bad variable, and that one
 * environment for the whole stack (a shared `.env`, the image's ENV) makes no lookalike noise:
 * no variable of one service is taken for a typo by another.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError } from '@warren/shared/config';
import { loadAuthConfig } from '../services/auth/src/config.js';
import { loadMainConfig } from '../services/main-backend/src/config.js';
import { loadNotificationConfig } from '../services/notification/src/config.js';

const LOADERS = { auth: loadAuthConfig, 'main-backend': loadMainConfig, notification: loadNotificationConfig };

/**
 * Every variable an operator may set for the stack: those .env.example names (it lists every
 * variable of every service) and the one the image sets for its healthcheck.
 */
const STACK_VARIABLES = [
  ...readFileSync(new URL('../.env.example', import.meta.url), 'utf8').matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm),
].map((m) => m[1] as string).concat('WARREN_SERVICE');

describe('service configuration', () => {
  it('When APP_ENV is unset, then the dev defaults apply: ports 3000/3001/3002, warren_<service>_dev, warren.dev', () => {
    // Act
    const [main, auth, notification] = [loadMainConfig({}), loadAuthConfig({}), loadNotificationConfig({})];

    // Assert
    assert.deepEqual([main.port, auth.port, notification.port], [3000, 3001, 3002]);
    assert.equal(main.databaseUrl, 'postgres://postgres@127.0.0.1:5432/warren_main_backend_dev');
    assert.equal(auth.databaseUrl, 'postgres://postgres@127.0.0.1:5432/warren_auth_dev');
    assert.equal(notification.databaseUrl, 'postgres://postgres@127.0.0.1:5432/warren_notification_dev');
    assert.deepEqual([main.brokerNamespace, auth.brokerNamespace, notification.brokerNamespace], ['warren.dev', 'warren.dev', 'warren.dev']);
    assert.equal(main.authClient.rpcTimeoutMs, 5000);
    assert.equal(notification.authClient.jwksCacheSeconds, 60);
    assert.deepEqual([auth.jwtIssuer, main.authClient.jwtIssuer, notification.authClient.jwtAudience], ['urn:warren:dev:auth', 'urn:warren:dev:auth', 'urn:warren:dev']);
  });

  it('When APP_ENV is qa, then the qa defaults apply: ports 4000/4001/4002, warren_<service>_qa, warren.qa', () => {
    // Act
    const env = { APP_ENV: 'qa' };
    const [main, auth, notification] = [loadMainConfig(env), loadAuthConfig(env), loadNotificationConfig(env)];

    // Assert
    assert.deepEqual([main.port, auth.port, notification.port], [4000, 4001, 4002]);
    assert.equal(main.databaseUrl, 'postgres://postgres@127.0.0.1:5432/warren_main_backend_qa');
    assert.equal(auth.databaseUrl, 'postgres://postgres@127.0.0.1:5432/warren_auth_qa');
    assert.equal(notification.databaseUrl, 'postgres://postgres@127.0.0.1:5432/warren_notification_qa');
    assert.equal(auth.brokerNamespace, 'warren.qa');
    assert.equal(main.authClient.jwtAudience, 'urn:warren:qa');
  });

  it('When each service reads its own port and database variable, then another service\'s are ignored', () => {
    // Arrange
    const env = { AUTH_PORT: '5001', MAIN_BACKEND_PORT: '5000', NOTIFICATION_PORT: '5002', AUTH_DATABASE_URL: 'postgres://db/a', MAIN_DATABASE_URL: 'postgres://db/m', NOTIFICATION_DATABASE_URL: 'postgres://db/n' };

    // Act + Assert
    assert.deepEqual([loadMainConfig(env).port, loadAuthConfig(env).port, loadNotificationConfig(env).port], [5000, 5001, 5002]);
    assert.deepEqual(
      [loadMainConfig(env).databaseUrl, loadAuthConfig(env).databaseUrl, loadNotificationConfig(env).databaseUrl],
      ['postgres://db/m', 'postgres://db/a', 'postgres://db/n'],
    );
  });

  it('When several variables of one service are bad, then ONE ConfigError names every one of them', () => {
    // Act
    let caught: unknown;
    try {
      loadNotificationConfig({ RABBITMQ_URL: 'nope', NOTIFICATION_PORT: '-1', RPC_TIMEOUT_MS: '0', WS_MAX_CONNECTIONS: 'many', NODE_ENV: 'production' });
    } catch (err) {
      caught = err;
    }

    // Assert: SMTP_URL is required in production, reported with the rest
    assert.ok(caught instanceof ConfigError);
    assert.deepEqual(caught.issues.map((i) => i.variable).sort(), ['NOTIFICATION_PORT', 'RABBITMQ_URL', 'RPC_TIMEOUT_MS', 'SMTP_URL', 'WS_MAX_CONNECTIONS']);
  });

  it('When one environment sets every variable of the stack, then no service takes another\'s variable for a typo', () => {
    // Arrange: every variable set, as in one .env for `npm start` (empty: the defaults apply)
    const env = Object.fromEntries(STACK_VARIABLES.map((name) => [name, '']));

    // Act + Assert
    assert.ok(STACK_VARIABLES.length > 40, `only ${STACK_VARIABLES.length} variables found in .env.example`);
    for (const [service, load] of Object.entries(LOADERS)) {
      assert.deepEqual(load(env).lookalikes, [], `${service} reported a lookalike`);
    }
  });

  it('When a service\'s own variable is mistyped, then that service reports it, naming the right one', () => {
    // Arrange: one typo of a variable each service reads
    const typos = {
      auth: ['ACCES_TOKEN_TTL', 'ACCESS_TOKEN_TTL'],
      'main-backend': ['MAIN_BACKEND_PROT', 'MAIN_BACKEND_PORT'],
      notification: ['NOTIFCATION_PORT', 'NOTIFICATION_PORT'],
    } as const;

    // Act + Assert
    for (const [service, load] of Object.entries(LOADERS)) {
      const [typo, meant] = typos[service as keyof typeof typos];
      assert.deepEqual(load({ [typo]: '1' }).lookalikes, [{ variable: typo, didYouMean: meant }], service);
    }
  });
});
