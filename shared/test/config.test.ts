import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, loadConfig, loadVariables, brokerVariables, portFrom, type Env, type ServiceIdentity } from '@warren/shared/config';

/** A made-up service: the kit knows no real one. */
const svc: ServiceIdentity = {
  service: 'svc',
  port: { variable: 'SVC_PORT', defaults: { dev: 5000, qa: 6000 } },
  database: { variable: 'SVC_DATABASE_URL', name: (appEnv) => `svc_${appEnv}` },
  brokerNamespace: (appEnv) => `team.${appEnv}`,
};

/** loadConfig with no variables of the service's own. */
function load(env: Env) {
  return loadConfig({ ...svc, variables: () => z.object({}), build: () => ({}) }, env);
}

function configError(attempt: () => unknown): ConfigError {
  try {
    attempt();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  it('When APP_ENV is unset, then the dev defaults the service names apply (port, database, namespace)', () => {
    // Act
    const config = load({});

    // Assert
    assert.equal(config.service, 'svc');
    assert.equal(config.appEnv, 'dev');
    assert.equal(config.port, 5000);
    assert.equal(config.databaseUrl, 'postgres://postgres@127.0.0.1:5432/svc_dev');
    assert.equal(config.brokerNamespace, 'team.dev');
    assert.deepEqual(config.rabbitmqUrls, ['amqp://guest:guest@127.0.0.1:5672']);
    assert.deepEqual(config.corsOrigins, []);
    assert.equal(config.httpBodyLimit, '100kb');
    assert.equal(config.shutdownTimeoutMs, 10_000);
    assert.deepEqual(config.lookalikes, []);
  });

  it('When APP_ENV is qa, then the qa defaults apply', () => {
    // Act
    const config = load({ APP_ENV: 'qa' });

    // Assert
    assert.equal(config.appEnv, 'qa');
    assert.equal(config.port, 6000);
    assert.equal(config.databaseUrl, 'postgres://postgres@127.0.0.1:5432/svc_qa');
    assert.equal(config.brokerNamespace, 'team.qa');
  });

  it('When variables are set, then they override the defaults, typed', () => {
    // Act
    const config = load({ APP_ENV: 'qa', SVC_PORT: '5555', SVC_DATABASE_URL: 'postgresql://u@db:5432/custom', BROKER_NAMESPACE: 'team-a.qa', DATABASE_POOL_MAX: '3' });

    // Assert
    assert.equal(config.port, 5555);
    assert.equal(config.databaseUrl, 'postgresql://u@db:5432/custom');
    assert.equal(config.brokerNamespace, 'team-a.qa');
    assert.equal(config.databasePoolMax, 3);
  });

  it('When RABBITMQ_URL is not a URL and the port is bad, then ONE ConfigError names both variables', () => {
    // Act
    const err = configError(() => load({ RABBITMQ_URL: 'not-a-url', SVC_PORT: 'not-a-port' }));

    // Assert
    assert.match(err.message, /RABBITMQ_URL/);
    assert.match(err.message, /SVC_PORT/);
    assert.deepEqual(err.issues.map((i) => i.variable).sort(), ['RABBITMQ_URL', 'SVC_PORT']);
  });

  it('When a port is out of range or a URL has the wrong protocol, then each is reported', () => {
    // Act
    const err = configError(() => load({ SVC_PORT: '70000', RABBITMQ_URL: 'http://127.0.0.1:5672', SVC_DATABASE_URL: 'mysql://db/x' }));

    // Assert
    assert.deepEqual(err.issues.map((i) => i.variable).sort(), ['RABBITMQ_URL', 'SVC_DATABASE_URL', 'SVC_PORT']);
  });

  it('When RABBITMQ_URL lists the nodes of a cluster, with spaces around them, then each becomes one clean URL in order', () => {
    const config = load({ RABBITMQ_URL: ' amqp://u:p@rabbit-a:5672 ,amqps://u:p@rabbit-b:5671/vh,amqp://u:p@rabbit-c ' });
    assert.deepEqual(config.rabbitmqUrls, ['amqp://u:p@rabbit-a:5672', 'amqps://u:p@rabbit-b:5671/vh', 'amqp://u:p@rabbit-c']);
  });

  it('When one entry of the RABBITMQ_URL list is bad, then ONE message names that entry by position, never with its password', () => {
    const err = configError(() => load({ RABBITMQ_URL: 'amqp://u:s3cret@a:5672,http://u:s3cret@b:5672,amqp://u:s3cret@c' }));
    assert.deepEqual(err.issues.map((i) => i.variable), ['RABBITMQ_URL']);
    assert.match(err.message, /entry 2 of 3 "http:\/\/\*\*\*@b:5672" must be a URL starting with amqp:\/\/ or amqps:\/\//);
    assert.doesNotMatch(err.message, /s3cret/);
  });

  it('When an unparseable entry holds credentials, then the message leaves out everything before the "@"', () => {
    for (const bad of ['amqp//u:s3cret@host:5672', 'u:s3cret@host', 'amqp://u:s3cret@[::1:5672']) {
      const err = configError(() => load({ RABBITMQ_URL: `amqp://a:5672,${bad}` }));
      assert.match(err.message, /entry 2 of 2 "(amqp:\/\/)?\*\*\*@/, bad);
      assert.doesNotMatch(err.message, /s3cret/, bad);
    }
  });

  it('When the RABBITMQ_URL list has an empty entry or the same node twice, then it is refused with a reason', () => {
    assert.match(configError(() => load({ RABBITMQ_URL: 'amqp://a,,amqp://b' })).message, /RABBITMQ_URL: entry 2 of 3 is empty/);
    assert.match(configError(() => load({ RABBITMQ_URL: 'amqp://a,' })).message, /entry 2 of 2 is empty/);
    assert.match(configError(() => load({ RABBITMQ_URL: 'amqp://a:5672,amqp://a:5672' })).message, /RABBITMQ_URL: lists a node twice/);
  });

  it('When RABBITMQ_URL is one huge list, then parsing stays quick and every bad entry is named', () => {
    const list = Array.from({ length: 5000 }, (_, i) => (i % 1000 === 999 ? `ftp://n${i}` : `amqp://n${i}:5672`)).join(',');
    const started = Date.now();
    const err = configError(() => load({ RABBITMQ_URL: list }));
    assert.ok(Date.now() - started < 2000);
    assert.equal(err.issues.length, 5);
  });

  it('When APP_ENV is not dev or qa, then the error names APP_ENV', () => {
    assert.ok(configError(() => load({ APP_ENV: 'production' })).issues.some((i) => i.variable === 'APP_ENV'));
  });

  it('When BROKER_NAMESPACE holds characters a queue name should not, then it is refused', () => {
    for (const bad of ['Upper', '../x', 'a b', `a${'x'.repeat(63)}`, '.leading']) {
      assert.ok(configError(() => load({ BROKER_NAMESPACE: bad })).issues.some((i) => i.variable === 'BROKER_NAMESPACE'), bad);
    }
  });

  it('When a variable is an empty string, then it counts as unset and the default applies', () => {
    // Act
    const config = load({ APP_ENV: '', RABBITMQ_URL: '', SVC_PORT: '', CORS_ORIGINS: '', BROKER_NAMESPACE: '' });

    // Assert
    assert.equal(config.appEnv, 'dev');
    assert.deepEqual(config.rabbitmqUrls, ['amqp://guest:guest@127.0.0.1:5672']);
    assert.equal(config.port, 5000);
    assert.deepEqual(config.corsOrigins, []);
    assert.equal(config.brokerNamespace, 'team.dev');
  });

  it('When CORS_ORIGINS is a comma-separated list with spaces and blanks, then it becomes a clean array', () => {
    assert.deepEqual(load({ CORS_ORIGINS: ' https://a.example.com , http://localhost:5173,, ' }).corsOrigins, ['https://a.example.com', 'http://localhost:5173']);
  });

  it('When a service adds its own variables, then their defaults may depend on APP_ENV and bad values join the same error', () => {
    // Act
    const config = loadConfig(
      { ...svc, variables: (appEnv) => z.object({ ISSUER: z.string().default(`issuer-${appEnv}`) }), build: (v) => ({ issuer: v.ISSUER }) },
      { APP_ENV: 'qa' },
    );
    const err = configError(() =>
      loadConfig({ ...svc, variables: () => z.object({ SECRET_LEN: z.coerce.number().int().min(32) }), build: () => ({}) }, { SECRET_LEN: '3', SVC_PORT: 'x' }),
    );

    // Assert
    assert.equal(config.issuer, 'issuer-qa');
    assert.equal(config.port, 6000);
    assert.deepEqual(err.issues.map((i) => i.variable).sort(), ['SECRET_LEN', 'SVC_PORT']);
  });

  it('When a service schema has a cross-field rule, then its violation is reported with the other bad variables', () => {
    // Arrange: a rule over two variables, as the auth service has for the bootstrap admin
    const variables = () =>
      z.object({ A_EMAIL: z.string().optional(), A_PASSWORD: z.string().optional() }).superRefine((v, ctx) => {
        if (Boolean(v.A_EMAIL) !== Boolean(v.A_PASSWORD)) ctx.addIssue({ code: 'custom', path: ['A_PASSWORD'], message: 'set both or neither' });
      });

    // Act
    const err = configError(() => loadConfig({ ...svc, variables, build: (v) => v }, { A_EMAIL: 'a@example.com', RABBITMQ_URL: 'nope' }));

    // Assert
    assert.deepEqual(err.issues.map((i) => i.variable).sort(), ['A_PASSWORD', 'RABBITMQ_URL']);
  });

  it('When a variable set looks like one the service reads, then the config lists it, and the start is not refused', () => {
    // Act
    const config = loadConfig(
      { ...svc, variables: () => z.object({ SVC_BATCH_SIZE: z.coerce.number().default(1) }), build: () => ({}) },
      { SVC_PROT: '1', SVC_BATCH_SIZ: '9', RABBITMQ_URI: 'amqp://x', PATH: '/bin', OTHER_SERVICE_PORT: '1' },
    );

    // Assert: the kit's variables count as read too; PATH and another service's port are not lookalikes
    assert.deepEqual(config.lookalikes, [
      { variable: 'SVC_PROT', didYouMean: 'SVC_PORT' },
      { variable: 'SVC_BATCH_SIZ', didYouMean: 'SVC_BATCH_SIZE' },
      { variable: 'RABBITMQ_URI', didYouMean: 'RABBITMQ_URL' },
    ]);
  });
});

describe('portFrom', () => {
  it('When the port variable is set, unset or empty, then it reads it as loadConfig does', () => {
    assert.equal(portFrom({ SVC_PORT: '8080' }, svc.port), 8080);
    assert.equal(portFrom({}, svc.port), 5000);
    assert.equal(portFrom({ APP_ENV: 'qa', SVC_PORT: '' }, svc.port), 6000);
    assert.equal(portFrom({ APP_ENV: 'nonsense' }, svc.port), 5000);
  });

  it('When the port variable is not a port, then it throws rather than probe a wrong port', () => {
    assert.throws(() => portFrom({ SVC_PORT: '99999' }, svc.port));
    assert.throws(() => portFrom({ SVC_PORT: 'eighty' }, svc.port));
  });
});

describe('loadVariables', () => {
  it('When an operator command reads the broker variables alone, then they get the same defaults and errors', () => {
    // Act
    const vars = loadVariables({ APP_ENV: 'qa' }, (appEnv) => z.object(brokerVariables(`team.${appEnv}`)));
    const err = configError(() => loadVariables({ APP_ENV: 'prod', RABBITMQ_URL: 'x' }, () => z.object(brokerVariables('team'))));

    // Assert
    assert.equal(vars.BROKER_NAMESPACE, 'team.qa');
    assert.equal(vars.APP_ENV, 'qa');
    assert.deepEqual(err.issues.map((i) => i.variable).sort(), ['APP_ENV', 'RABBITMQ_URL']);
  });
});
