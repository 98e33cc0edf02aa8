/**
 * One-time codes tried as an attacker would, through the main backend's HTTP API with the codes
 * read from a real SMTP server: guessing on by re-issuing codes, older codes, a burst of
 * concurrent guesses, flooding an address with codes, and pre-hijacking an account by
 * registering someone else's address before they do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { call } from '../support/http.js';
import { codeIn, type ReceivedEmail, type TestSmtpServer } from '../support/smtp.js';
import { startMailStack, type MailStack } from '../support/mail-stack.js';
import type { Stack } from '../support/stack.js';

describe('one-time codes under attack', () => {
  let stack: Stack;
  let smtp: TestSmtpServer;
  let db: pg.Client;

  let fixture: MailStack;

  before(async () => {
    fixture = await startMailStack();
    ({ stack, smtp, authDb: db } = fixture);
  });
  after(async () => {
    await fixture?.stop();
  });

  const api = (path: string, body: unknown) => call(`${stack.mainUrl}${path}`, { body });
  const to = (email: string, subject: RegExp) => (m: ReceivedEmail) => m.envelope.to.includes(email) && subject.test(m.subject);
  /** The n-th (1-based) email to `email` with a matching subject, waiting for it if needed. */
  async function nthEmail(email: string, subject: RegExp, n: number): Promise<ReceivedEmail> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = smtp.messages.filter(to(email, subject));
      if (found.length >= n) return found[n - 1] as ReceivedEmail;
      if (Date.now() > deadline) throw new Error(`email #${n} to ${email} did not arrive (${found.length} so far)`);
      await smtp.waitForMessage((m) => to(email, subject)(m) && !found.includes(m), deadline - Date.now());
    }
  }
  const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');

  async function registeredUser(email: string, password: string) {
    assert.equal((await api('/auth/register', { email, password, name: 'Victim' })).status, 202);
    const code = codeIn(await nthEmail(email, /confirm/i, 1));
    assert.equal((await api('/auth/verify-email', { email, code })).status, 200);
  }

  it('When new codes are requested between wrong guesses, then the wrong tries still add up to a 429 that even the right code gets', async () => {
    const email = 'reissue-victim@warren.test';
    await registeredUser(email, 'a sturdy passphrase 41');
    const statuses: number[] = [];
    // The attack: 2 guesses per code, then ask for a new code, and again.
    let code = '';
    for (let round = 1; round <= 3; round++) {
      assert.equal((await api('/auth/password/forgot', { email })).status, 202);
      code = codeIn(await nthEmail(email, /reset/i, round));
      for (let i = 0; i < 2; i++) {
        statuses.push((await api('/auth/password/reset', { email, code: wrongFor(code), newPassword: 'attacker chose this 1' })).status);
      }
    }
    assert.deepEqual(statuses, [400, 400, 400, 400, 429, 429], 'five wrong tries per address, whatever was re-issued');

    const right = await api('/auth/password/reset', { email, code, newPassword: 'attacker chose this 1' });
    assert.equal(right.status, 429, 'the newest, right code is refused while the address cools down');
    assert.equal(right.body.code, 'too_many_attempts');
    const retryAfter = Number(right.headers.get('retry-after'));
    assert.ok(retryAfter > 3000 && retryAfter <= 3600, `Retry-After ${retryAfter}: the rest of the hour`);
    assert.equal((await api('/login', { email, password: 'a sturdy passphrase 41' })).status, 200, 'the password did not change');
  });

  it('When an older code is presented after a newer one was issued, then it is refused; the newest works', async () => {
    const email = 'older-code@warren.test';
    await registeredUser(email, 'an older passphrase 42');
    await api('/auth/password/forgot', { email });
    const first = codeIn(await nthEmail(email, /reset/i, 1));
    await api('/auth/password/forgot', { email });
    const second = codeIn(await nthEmail(email, /reset/i, 2));
    if (first !== second) {
      const old = await api('/auth/password/reset', { email, code: first, newPassword: 'a newer passphrase 43' });
      assert.equal(old.status, 400, 'only the newest code is compared');
      assert.equal(old.body.code, 'invalid_code');
    }
    assert.equal((await api('/auth/password/reset', { email, code: second, newPassword: 'a newer passphrase 43' })).status, 200);
    assert.equal((await api('/login', { email, password: 'a newer passphrase 43' })).status, 200);
  });

  it('When 30 wrong codes arrive at once, then at most five are evaluated and the rest get 429', async () => {
    const email = 'burst-victim@warren.test';
    await api('/auth/register', { email, password: 'a burst passphrase 44', name: 'Burst' });
    const code = codeIn(await nthEmail(email, /confirm/i, 1));
    const guesses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => api('/auth/verify-email', { email, code: String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0') })),
    );
    const count = (s: number) => guesses.filter((g) => g.status === s).length;
    assert.equal(count(400), 4, 'four wrong answers');
    assert.equal(count(429), 26, 'the fifth wrong try and every one past it: 429');
    assert.equal((await api('/auth/verify-email', { email, code })).status, 429, 'the right code too, until the window ends');
  });

  it('When codes are requested past the hourly cap, then every answer is the same 202 and nothing more is issued or sent', async () => {
    const email = 'flooded@warren.test';
    await registeredUser(email, 'a flooded passphrase 45');
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await api('/auth/password/forgot', { email }));
    for (const a of answers) {
      assert.equal(a.status, 202);
      assert.deepEqual(a.body, answers[0]?.body);
    }
    await nthEmail(email, /reset/i, 5);
    const { rows } = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM one_time_codes WHERE purpose = 'password_reset' AND email_lower = $1",
      [email],
    );
    assert.equal(rows[0]?.n, 5, 'five codes an hour, not eight');
    // Each request is in the audit log; those past the cap, which anyone may repeat, are counted in one row (decision 0031, amendment).
    const recorded = async (event: string) =>
      (
        await db.query<{ emailed: boolean; times: number }>(
          `SELECT (a.details->>'emailed')::boolean AS emailed, COALESCE((a.details->>'repeats')::int, 1) AS times
             FROM audit_log a JOIN users u ON u.id = a.user_id WHERE a.event = $1 AND u.email = $2 ORDER BY a.id`,
          [event, email],
        )
      ).rows.map((r) => `${r.emailed ? 'emailed' : 'not emailed'} ×${r.times}`);
    assert.deepEqual(await recorded('password_reset_requested'), [...Array(5).fill('emailed ×1'), 'not emailed ×3']);
    // Registration of the address counts against its own cap too: the owner is not flooded with notices.
    for (let i = 0; i < 7; i++) assert.equal((await api('/auth/register', { email, password: 'another passphrase 46', name: 'X' })).status, 202);
    // The owner's own registration used the first of the five.
    assert.deepEqual(await recorded('registration_existing_email'), [...Array(4).fill('emailed ×1'), 'not emailed ×3'], 'five registration emails an hour at most');
    assert.equal(smtp.messages.filter(to(email, /reset/i)).length, 5);
  });

  it('When someone registers an address and its owner registers it after them, then the first registration can never be completed', async () => {
    const email = 'prehijack@warren.test';
    const attacker = 'the attacker knows 47';
    const owner = 'the owner chose this 48';
    assert.equal((await api('/auth/register', { email, password: attacker, name: 'Owner' })).status, 202);
    const attackerCode = codeIn(await nthEmail(email, /confirm/i, 1));
    assert.equal((await api('/auth/register', { email, password: owner, name: 'Owner' })).status, 202);
    const ownerCode = codeIn(await nthEmail(email, /confirm/i, 2));

    if (attackerCode !== ownerCode) {
      const stale = await api('/auth/verify-email', { email, code: attackerCode });
      assert.equal(stale.status, 400, "the first registration's code is void");
    }
    assert.equal((await api('/login', { email, password: attacker })).status, 401, 'the first password is not even pending');
    assert.equal((await api('/login', { email, password: owner })).status, 403, "the owner's registration is the pending one");
    assert.equal((await api('/auth/verify-email', { email, code: ownerCode })).status, 200);
    assert.equal((await api('/login', { email, password: owner })).status, 200);
    assert.equal((await api('/login', { email, password: attacker })).status, 401, 'the first password never became the account’s');
  });
});
