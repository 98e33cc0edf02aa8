/** The pieces behind "limits on what is accepted" and "a database that is down is a 503", on their own. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonObject, text } from '../src/contracts/text.js';
import { notificationRequestedSchema } from '../src/contracts/notifications.js';
import { emailRequestedSchema } from '../src/contracts/email.js';
import { authRpc } from '../src/contracts/auth-rpc.js';
import { databaseUnavailable, isDatabaseUnavailable } from '../src/db/unavailable.js';
import { bodyLimitError, MAX_BODY_DEPTH } from '../src/http/body-limits.js';
import { findJsonViolation } from '../src/json-limits.js';
import { toAppError } from '../src/http/problem.js';

function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

describe('JSON limits', () => {
  it('When a document nests 100 000 levels, then the walk reports it without overflowing the stack', () => {
    let v: unknown = [];
    for (let i = 1; i < 100_000; i++) v = [v];
    assert.deepEqual(findJsonViolation(v, 32), { kind: 'depth', path: Array.from({ length: 32 }, () => '0').join('.') });
  });

  it('When U+0000 is in a key or a value at any depth, then the walk names its path', () => {
    assert.deepEqual(findJsonViolation({ a: [1, { b: 'x\u0000' }] }, 32), { kind: 'nul', path: 'a.1.b' });
    assert.deepEqual(findJsonViolation({ a: { 'k\u0000': 1 } }, 32), { kind: 'nul', path: 'a.k\u0000' });
    assert.equal(findJsonViolation({ a: 'fine', b: [1, null, true] }, 32), undefined);
  });

  it('When an unpaired surrogate is in a key or a value, then the walk names it like U+0000; a pair passes', () => {
    assert.deepEqual(findJsonViolation({ a: 'x\ud800' }, 32), { kind: 'nul', path: 'a' });
    assert.deepEqual(findJsonViolation({ a: ['\udc00y'] }, 32), { kind: 'nul', path: 'a.0' });
    assert.deepEqual(findJsonViolation({ ['\udbff']: 1 }, 32), { kind: 'nul', path: '\udbff' });
    assert.equal(findJsonViolation({ a: '\ud83d\ude00', ['\ud83c\udf89']: 'ok' }, 32), undefined);
    assert.equal(bodyLimitError('{"a":"\\ud800"}', { a: '\ud800' })?.code, 'invalid_text');
    assert.equal(bodyLimitError('{"a":"\\ud83d\\ude00"}', { a: '\ud83d\ude00' }), undefined);
  });

  it('When data nests 32 levels, then the schema accepts it; 33, then it refuses it with a path inside data', () => {
    assert.equal(jsonObject().safeParse(nested(32)).success, true);
    const deeper = jsonObject().safeParse(nested(33));
    assert.equal(deeper.success, false);
    assert.equal(deeper.error?.issues[0]?.path.length, 32, 'the 33rd level, 32 keys down');
  });

  it('When a message carries U+0000 in any text, then its schema refuses it', () => {
    const ok = {
      notificationId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
      recipients: { roles: ['employee'] },
      title: 't',
      body: 'b',
      requestedAt: new Date().toISOString(),
    };
    assert.equal(notificationRequestedSchema.safeParse(ok).success, true);
    for (const bad of [{ title: '\u0000' }, { body: 'a\u0000' }, { data: { x: '\u0000' } }, { data: { ['\u0000']: 1 } }, { data: nested(33) }]) {
      assert.equal(notificationRequestedSchema.safeParse({ ...ok, ...bad }).success, false, JSON.stringify(Object.keys(bad)));
    }
    assert.equal(
      emailRequestedSchema.safeParse({ to: 'a@b.test', template: 'account_exists', variables: { name: 'E\u0000' }, requestedAt: new Date().toISOString() }).success,
      false,
    );
    assert.equal(authRpc.login.request.safeParse({ email: 'a@b.test', password: 'p\u0000' }).success, false);
    assert.equal(text().max(3).safeParse('ab').success, true);
  });

  it('When a body is deeper than the edge allows or holds U+0000, then the edge answers 400; an ordinary body passes without a walk', () => {
    const deep = nested(MAX_BODY_DEPTH + 1);
    assert.equal(bodyLimitError(JSON.stringify(deep), deep)?.code, 'body_too_deep');
    assert.equal(bodyLimitError('{"a":"\\u0000"}', { a: '\u0000' })?.code, 'invalid_text');
    // an escaped backslash followed by u0000 is not U+0000
    assert.equal(bodyLimitError('{"a":"\\\\u0000"}', { a: '\\u0000' }), undefined);
    assert.equal(bodyLimitError('{"title":"t"}', { title: 't' }), undefined);
  });
});

describe('Database unavailable', () => {
  it('When an error says the database cannot be reached, then it is classified unavailable and maps to 503 with Retry-After', () => {
    const unreachable = [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', syscall: 'connect' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated unexpectedly') }),
      new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'connect failed'),
      Object.assign(new Error('connect ENOENT /var/run/postgresql/.s.PGSQL.5432'), { code: 'ENOENT', syscall: 'connect' }),
    ];
    for (const err of unreachable) {
      assert.equal(isDatabaseUnavailable(err), true, err.message);
      const mapped = toAppError(err);
      assert.equal(mapped.status, 503);
      assert.equal(mapped.headers?.['Retry-After'], String(Number(databaseUnavailable().headers?.['Retry-After'])));
    }
  });

  it('When an error is any other failure, then it stays a 500', () => {
    const others = [
      Object.assign(new Error('duplicate key'), { code: '23505' }),
      Object.assign(new Error('syntax error'), { code: '42601' }),
      Object.assign(new Error('no such file'), { code: 'ENOENT', syscall: 'open' }),
      new Error('boom'),
      undefined,
      'a string',
    ];
    for (const err of others) {
      assert.equal(isDatabaseUnavailable(err), false, String(err));
      assert.equal(toAppError(err).status, 500);
    }
  });
});
