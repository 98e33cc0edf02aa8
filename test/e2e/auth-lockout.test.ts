/**
 * Brute force is refused twice over: an account locks for the address the failures come from
 * (here always 127.0.0.1; other addresses: test/adversarial/auth-lockout-weapon.test.ts) after
 * LOGIN_LOCKOUT_THRESHOLD failures in a row (423 + Retry-After, even with the right password,
 * until the period passes), and an IP
 * is limited to AUTH_RATE_LIMIT_PER_MINUTE unauthenticated auth requests (429 + Retry-After).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, sleep } from '../support/http.js';
import { ADMIN, startStack, type Stack } from '../support/stack.js';

describe('account lockout', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ LOGIN_LOCKOUT_THRESHOLD: '3', LOGIN_LOCKOUT_SECONDS: '2' });
  });
  after(async () => {
    await stack?.stop();
  });
  const attempt = (password: string) => call(`${stack.mainUrl}/login`, { body: { email: ADMIN.email, password } });

  it('When a success comes between failures, then the count starts again', async () => {
    assert.equal((await attempt('wrong-1')).status, 401);
    assert.equal((await attempt('wrong-2')).status, 401);
    assert.equal((await attempt(ADMIN.password)).status, 200);
    assert.equal((await attempt('wrong-3')).status, 401);
    assert.equal((await attempt('wrong-4')).status, 401);
    assert.equal((await attempt(ADMIN.password)).status, 200);
  });

  it('When failures reach the threshold, then 423 with Retry-After, even for the right password, until the period ends', async () => {
    assert.equal((await attempt('wrong-a')).status, 401);
    assert.equal((await attempt('wrong-b')).status, 401);
    const locking = await attempt('wrong-c');
    assert.equal(locking.status, 423);
    assert.equal(locking.body.code, 'account_locked');
    const retryAfter = Number(locking.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 2, `Retry-After ${retryAfter}`);

    const right = await attempt(ADMIN.password);
    assert.equal(right.status, 423, 'the right password does not open a locked account');

    await sleep(2100);
    assert.equal((await attempt(ADMIN.password)).status, 200, 'unlocked after the period');
    assert.equal((await attempt('wrong-d')).status, 401, 'the count restarted: one failure does not re-lock');
  });

  it('Then the audit log holds the failures, the lock and the successes, without any password', async () => {
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: stack.env.AUTH_DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ event: string; details: object }>('SELECT event, details FROM audit_log ORDER BY id');
      const events = rows.map((r) => r.event);
      for (const e of ['login_failed', 'account_locked', 'login_refused_locked', 'login_succeeded']) assert.ok(events.includes(e), e);
      assert.doesNotMatch(JSON.stringify(rows), /wrong-|an admin passphrase/);
    } finally {
      await client.end();
    }
  });
});

describe('per-IP rate limit', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ AUTH_RATE_LIMIT_PER_MINUTE: '4' });
  });
  after(async () => {
    await stack?.stop();
  });

  it('When an IP exceeds the limit, then 429 with Retry-After; X-Forwarded-For does not get around it without TRUST_PROXY', async () => {
    const session = await call(`${stack.mainUrl}/login`, { body: { email: ADMIN.email, password: ADMIN.password } });
    assert.equal(session.status, 200);
    for (let i = 0; i < 3; i++) {
      const res = await call(`${stack.mainUrl}/auth/password/forgot`, { body: { email: `n${i}@warren.test` }, headers: { 'x-forwarded-for': `10.0.0.${i}` } });
      assert.equal(res.status, 202);
    }
    const limited = await call(`${stack.mainUrl}/auth/register`, {
      body: { email: 'x@warren.test', password: 'long enough password 1', name: 'X' },
      headers: { 'x-forwarded-for': '10.9.9.9' },
    });
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'rate_limited');
    assert.equal(limited.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);

    // Authenticated endpoints are not behind this limit.
    assert.equal((await call(`${stack.mainUrl}/auth/me`, { token: session.body.accessToken })).status, 200);
  });
});
