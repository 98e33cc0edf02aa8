/**
 * The lockout used as a weapon, tried through the main backend's HTTP API behind one trusted
 * proxy (TRUST_PROXY=1, so X-Forwarded-For names the client): a stranger's wrong passwords
 * must slow and then lock the stranger's address only, never the owner signing in from
 * elsewhere; the owner is emailed (once per window) about the burst; and thirty guesses sent
 * at once must not all be checked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { call, sleep, type JsonResponse } from '../support/http.js';
import type { TestSmtpServer } from '../support/smtp.js';
import { startMailStack, type MailStack } from '../support/mail-stack.js';
import { ADMIN, type Stack } from '../support/stack.js';

const THRESHOLD = 5;
const LOCK_SECONDS = 900;

describe('lockout as a weapon', () => {
  let stack: Stack;
  let smtp: TestSmtpServer;
  let db: pg.Client;

  let fixture: MailStack;

  before(async () => {
    fixture = await startMailStack({
      TRUST_PROXY: '1',
      LOGIN_LOCKOUT_THRESHOLD: String(THRESHOLD),
      LOGIN_LOCKOUT_SECONDS: String(LOCK_SECONDS),
    });
    ({ stack, smtp, authDb: db } = fixture);
  });
  after(async () => {
    await fixture?.stop();
  });

  const login = (from: string, password: string) =>
    call(`${stack.mainUrl}/login`, { body: { email: ADMIN.email, password }, headers: { 'x-forwarded-for': from } });
  /** Repeats an attempt while the address is told to wait (429 login_throttled), up to a deadline; keeps those answers. */
  async function afterTheDelay(attempt: () => Promise<JsonResponse>, throttles: JsonResponse[] = []): Promise<JsonResponse> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await attempt();
      if (res.status !== 429) return res;
      assert.equal(res.body.code, 'login_throttled');
      throttles.push(res);
      assert.ok(Date.now() < deadline, 'the delay ended in time');
      await sleep(250);
    }
  }
  const failuresFrom = async (ip: string) =>
    (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE event = 'login_failed' AND ip = $1", [ip])).rows[0]?.n;

  it("When a stranger's address fails again and again, then it is slowed, then locked (423), while the owner signs in from another address", async () => {
    const stranger = '203.0.113.7';
    const throttles: JsonResponse[] = [];
    const answers: JsonResponse[] = [];
    for (let i = 1; i <= THRESHOLD; i++) answers.push(await afterTheDelay(() => login(stranger, `guess-${i}`), throttles));
    assert.deepEqual(answers.map((a) => a.status), [401, 401, 401, 401, 423], 'the fifth failure locks this address out');
    // After the third failure in a row the address waits 1 s, after the fourth 2 s: asked at once, 429.
    assert.ok(throttles.length >= 1, 'the address was slowed down before the lock');
    for (const t of throttles) assert.ok(Number(t.headers.get('retry-after')) >= 1);
    const locked = answers[THRESHOLD - 1] as JsonResponse;
    assert.equal(locked.body.code, 'account_locked');
    const retryAfter = Number(locked.headers.get('retry-after'));
    assert.ok(retryAfter > LOCK_SECONDS - 60 && retryAfter <= LOCK_SECONDS, `Retry-After ${retryAfter}: LOGIN_LOCKOUT_SECONDS`);
    assert.equal((await login(stranger, ADMIN.password)).status, 423, 'even the right password, from the locked address');

    const owner = await login('198.51.100.20', ADMIN.password);
    assert.equal(owner.status, 200, 'the owner, from another address, signs in');
    assert.equal(owner.body.user.email, ADMIN.email);
    assert.equal(await failuresFrom(stranger), 5, 'the auth service saw the client address, not the proxy');
  });

  it('When the account sees a burst of failures, then its owner is emailed once in the window, however many follow', async () => {
    const alert = await smtp.waitForMessage((m) => m.envelope.to.includes(ADMIN.email) && /failed sign-in/i.test(m.subject), 10_000);
    assert.match(alert.text, /5 failed sign-in attempts/);
    assert.doesNotMatch(alert.text, /guess-/, 'no password tried is repeated');

    // Another burst from elsewhere, inside the same window.
    const other = '203.0.113.99';
    for (let i = 0; i < THRESHOLD; i++) await afterTheDelay(() => login(other, `other-guess-${i}`));
    assert.equal(await failuresFrom(other), THRESHOLD);
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE routing_key = 'email.requested'");
    assert.equal(rows[0]?.n, 1, 'one alert for the window');
    const { rows: audit } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE event = 'login_failures_alerted'");
    assert.equal(audit[0]?.n, 1);
    assert.equal(smtp.messages.filter((m) => /failed sign-in/i.test(m.subject)).length, 1);
  });

  it('When 30 wrong passwords arrive at once from one address, then at most the threshold are checked and the owner still signs in', async () => {
    const burst = '192.0.2.50';
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => login(burst, `burst-guess-${i}`)));
    const statuses = answers.map((a) => a.status);
    assert.ok(statuses.every((s) => [401, 423, 429].includes(s)), `only refusals: ${statuses.join(',')}`);
    const checked = await failuresFrom(burst);
    assert.ok(checked !== undefined && checked >= 1 && checked <= THRESHOLD, `${checked} of 30 guesses were checked`);
    assert.equal((await login(burst, ADMIN.password)).status === 200, false, 'the guessing address is held off');
    assert.equal((await login('198.51.100.21', ADMIN.password)).status, 200, 'the owner signs in from elsewhere');
  });
});

describe('a guessing run spread over many addresses', () => {
  const threshold = 2;
  let stack: Stack;
  let fixture: MailStack;

  before(async () => {
    fixture = await startMailStack({ TRUST_PROXY: '1', LOGIN_LOCKOUT_THRESHOLD: String(threshold), LOGIN_ALERT_WINDOW_SECONDS: '3600' });
    stack = fixture.stack;
  });
  after(async () => {
    await fixture?.stop();
  });

  const login = (from: string, password: string) =>
    call(`${stack.mainUrl}/login`, { body: { email: ADMIN.email, password }, headers: { 'x-forwarded-for': from } });

  it('When 20 × the threshold failures come from many addresses, then new addresses are held off unchecked, and the owner’s usual address still signs in', async () => {
    const usual = '198.51.100.30';
    assert.equal((await login(usual, ADMIN.password)).status, 200, 'the owner has signed in from here before');

    // Each address stays under its own lock; together they reach the account-wide cap (2 × 20).
    for (let a = 0; a < 20; a++) {
      for (let i = 0; i < threshold; i++) assert.ok([401, 423].includes((await login(`203.0.113.${a + 1}`, `spread-${a}-${i}`)).status));
    }
    const fresh = '203.0.113.200';
    const heldOff = await login(fresh, 'spread-fresh');
    assert.equal(heldOff.status, 429);
    assert.equal(heldOff.body.code, 'login_throttled');
    const retryAfter = Number(heldOff.headers.get('retry-after'));
    assert.ok(retryAfter > 3000 && retryAfter <= 3600, `Retry-After ${retryAfter}: until the window ends`);
    assert.equal((await login(fresh, ADMIN.password)).status, 429, 'not even checked from a new address');
    const { rows } = await fixture.authDb.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE event = 'login_failed' AND ip = $1", [fresh]);
    assert.equal(rows[0]?.n, 0, 'nothing from the new address was checked');

    assert.equal((await login(usual, ADMIN.password)).status, 200, 'the owner, from an address it used before, signs in');
  });
});
