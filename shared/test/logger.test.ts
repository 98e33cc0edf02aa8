import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { chooseLogFormat, createLogger, maskUrl, redact, REDACTED, type LoggerOptions } from '@warren/shared/logger';
import { currentRequestId, runWithRequestId } from '@warren/shared/request-context';
import { captureLogs } from '../../test/support/logs.js';
import { waitFor } from './helpers.js';

describe('redact', () => {
  it('When secret-looking keys sit at any depth, then their values are redacted and the rest kept', () => {
    // Arrange
    const input = {
      email: 'a@example.com',
      password: 'hunter2',
      user: { token: 't0k', profile: { refreshToken: 'r1', name: 'Ann' } },
      headers: { authorization: 'Bearer abc', Authorization: 'Bearer def', accept: 'json' },
      list: [{ code: '123456', count: 2 }, { nested: [{ password: 'deep' }] }],
    };

    // Act
    const out = redact(input) as typeof input;

    // Assert
    assert.equal(out.email, 'a@example.com');
    assert.equal(out.password, REDACTED);
    assert.equal(out.user.token, REDACTED);
    assert.equal(out.user.profile.refreshToken, REDACTED);
    assert.equal(out.user.profile.name, 'Ann');
    assert.equal(out.headers.authorization, REDACTED);
    assert.equal(out.headers.Authorization, REDACTED);
    assert.equal(out.headers.accept, 'json');
    assert.equal(out.list[0]?.code, REDACTED);
    assert.equal(out.list[0]?.count, 2);
    assert.deepEqual(out.list[1], { nested: [{ password: REDACTED }] });
    assert.equal(input.password, 'hunter2', 'the input object is not mutated');
  });

  it('When a key merely contains "code", then it is not redacted (only an exact "code" key is)', () => {
    // Act
    const out = redact({ errorCode: 'E1', code: '999' }) as Record<string, unknown>;

    // Assert
    assert.equal(out.errorCode, 'E1');
    assert.equal(out.code, REDACTED);
  });

  it('When the value is an Error, then name and message are kept and its secret fields redacted', () => {
    // Arrange
    const err = Object.assign(new Error('login failed'), { password: 'pw', status: 401 });

    // Act
    const out = redact(err) as Record<string, unknown>;

    // Assert
    assert.deepEqual(out, { name: 'Error', message: 'login failed', password: REDACTED, status: 401 });
  });

  it('When a URL carries a password, then maskUrl hides it', () => {
    // Act + Assert
    assert.equal(maskUrl('amqp://guest:guest@127.0.0.1:5672'), 'amqp://guest:***@127.0.0.1:5672');
    assert.equal(maskUrl('not a url'), '[unparseable url]');
  });
});

describe('createLogger', () => {
  it('When logging inside runWithRequestId, then the JSON line has service, env, level and requestId, and no secret', async () => {
    // Arrange
    const logs = captureLogs('auth');

    // Act
    runWithRequestId('req-123', () => {
      assert.equal(currentRequestId(), 'req-123');
      logs.logger.info('user logged in', { userId: 'u1', password: 'hunter2', session: { refreshToken: 'r-secret' } });
    });
    await waitFor(() => logs.lines.length === 1, 'the log line');

    // Assert
    const line = logs.lines[0];
    assert.equal(line?.service, 'auth');
    assert.equal(line?.env, 'test');
    assert.equal(line?.level, 'info');
    assert.equal(line?.message, 'user logged in');
    assert.equal(line?.requestId, 'req-123');
    assert.equal(line?.userId, 'u1');
    assert.equal(line?.password, REDACTED);
    assert.ok(typeof line?.timestamp === 'string');
    assert.ok(!logs.text().includes('hunter2'));
    assert.ok(!logs.text().includes('r-secret'));
  });

  it('When logging outside any request context, then the line has no requestId', async () => {
    // Arrange
    const logs = captureLogs('notification');

    // Act
    logs.logger.warn('startup');
    await waitFor(() => logs.lines.length === 1, 'the log line');

    // Assert
    assert.equal(logs.lines[0]?.level, 'warn');
    assert.equal(logs.lines[0]?.service, 'notification');
    assert.equal('requestId' in (logs.lines[0] ?? {}), false);
  });

  it('When the context survives awaits, then a line logged after an await still carries the requestId', async () => {
    // Arrange
    const logs = captureLogs();

    // Act
    await runWithRequestId('req-async', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      logs.logger.error('after await', { err: new Error('boom') });
    });
    await waitFor(() => logs.lines.length === 1, 'the log line');

    // Assert
    assert.equal(logs.lines[0]?.requestId, 'req-async');
    assert.equal(logs.lines[0]?.level, 'error');
    assert.deepEqual(logs.lines[0]?.err, { name: 'Error', message: 'boom' });
  });

  it('When a message is below the level, then it is not written', async () => {
    // Arrange
    const logs = captureLogs('test', 'info');

    // Act
    logs.logger.debug('too chatty');
    logs.logger.info('kept');
    await waitFor(() => logs.lines.length >= 1, 'the log line');

    // Assert
    assert.deepEqual(
      logs.lines.map((l) => l.message),
      ['kept'],
    );
  });
});

/** A pretty logger writing into memory; returns its raw lines. */
function prettyLogs(opts: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: createLogger({ service: 'auth', env: 'dev', level: 'debug', format: 'pretty', colors: false, stream, ...opts }), lines };
}

describe('chooseLogFormat', () => {
  it('When LOG_FORMAT is unset, then a terminal outside production gets pretty lines and anything else JSON', () => {
    assert.equal(chooseLogFormat({ nodeEnv: 'development', isTTY: true }), 'pretty');
    assert.equal(chooseLogFormat({ nodeEnv: 'test', isTTY: true }), 'pretty');
    assert.equal(chooseLogFormat({ nodeEnv: 'production', isTTY: true }), 'json');
    assert.equal(chooseLogFormat({ nodeEnv: 'development', isTTY: false }), 'json');
    assert.equal(chooseLogFormat({ nodeEnv: 'development', isTTY: undefined }), 'json');
  });

  it('When LOG_FORMAT is set, then it wins either way', () => {
    assert.equal(chooseLogFormat({ logFormat: 'json', nodeEnv: 'development', isTTY: true }), 'json');
    assert.equal(chooseLogFormat({ logFormat: 'pretty', nodeEnv: 'production', isTTY: false }), 'pretty');
  });
});

describe('pretty lines', () => {
  it('When an event is logged, then it is one line: time, level, service, message, then the other fields as key=value, secrets redacted', async () => {
    // Arrange
    const { logger, lines } = prettyLogs();

    // Act
    runWithRequestId('req-7', () =>
      logger.info('login succeeded', { userId: 'u-1', note: 'two words', nested: { a: 1 }, password: 'hunter2' }),
    );
    await waitFor(() => lines.length === 1, 'the line');

    // Assert
    assert.match(lines[0] as string, /^\d\d:\d\d:\d\d\.\d{3} info  auth: login succeeded userId=u-1 note="two words" nested=\{"a":1\} password=\[redacted\] requestId=req-7$/);
    assert.ok(!lines.join('\n').includes('hunter2'));
    assert.ok(!lines.join('\n').includes('env='), 'env is the same on every line: left out');
  });

  it('When colours are on, then only the level is coloured; below the level nothing is written', async () => {
    // Arrange
    const { logger, lines } = prettyLogs({ colors: true, level: 'info' });

    // Act
    logger.debug('GET /healthz');
    logger.warn('broker disconnected', { err: 'ECONNREFUSED' });
    await waitFor(() => lines.length >= 1, 'the line');

    // Assert
    assert.equal(lines.length, 1);
    assert.match(lines[0] as string, / \u001b\[33mwarn\u001b\[39m  auth: broker disconnected err=ECONNREFUSED$/);
  });

  it('When no format is given, then the lines are JSON (what tests and log shippers parse)', async () => {
    // Arrange
    const logs = captureLogs('auth');

    // Act
    logs.logger.info('hello', { a: 1 });
    await waitFor(() => logs.lines.length === 1, 'the line');

    // Assert
    assert.deepEqual({ ...logs.lines[0], timestamp: undefined }, { level: 'info', message: 'hello', a: 1, service: 'auth', env: 'test', timestamp: undefined });
  });
});
