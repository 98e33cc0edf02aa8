/**
 * Telling taken addresses from free ones, tried through the main backend's HTTP API: odd input
 * (U+0000, control characters in the name) must get the same answer for both, and both paths
 * must do the same work (counted in argon2 hashes, the cost that dominates; wall-clock medians
 * only compared with a generous ratio); login's delays and locks must treat an unknown email
 * like a taken one. Also: the registrant's name never reaches the mailbox being registered, whose
 * owner may not be the registrant.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import argon2 from 'argon2';
import pg from 'pg';
import { call, sleep } from '../support/http.js';
import type { TestSmtpServer } from '../support/smtp.js';
import { startMailStack, type MailStack } from '../support/mail-stack.js';
import { ADMIN, type Stack } from '../support/stack.js';

/** Counts the argon2 calls of the in-process auth service (it calls through this same module). */
function countArgon2() {
  const counts = { hash: 0, verify: 0 };
  const original = { hash: argon2.hash, verify: argon2.verify };
  argon2.hash = ((...args: Parameters<typeof argon2.hash>) => {
    counts.hash++;
    return original.hash(...args);
  }) as typeof argon2.hash;
  argon2.verify = ((...args: Parameters<typeof argon2.verify>) => {
    counts.verify++;
    return original.verify(...args);
  }) as typeof argon2.verify;
  return {
    counts,
    restore() {
      argon2.hash = original.hash;
      argon2.verify = original.verify;
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

describe('registration does not tell taken addresses from free ones', () => {
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

  const register = (email: string, name = 'Someone', password = 'a decent passphrase 50') =>
    call(`${stack.mainUrl}/auth/register`, { body: { email, password, name } });

  it('When the name holds U+0000 or another control character, then a taken and a free address get the same 400', async () => {
    for (const name of ['Mallory\u0000', 'a\u0000b', 'Line\nbreak', 'Esc\u001b[31m']) {
      const taken = await register(ADMIN.email, name);
      const free = await register(`free-${Math.random().toString(36).slice(2)}@warren.test`, name);
      assert.equal(taken.status, 400, JSON.stringify(name));
      assert.equal(free.status, 400, JSON.stringify(name));
      assert.deepEqual(
        { ...taken.body, instance: undefined },
        { ...free.body, instance: undefined },
        `${JSON.stringify(name)}: the same problem details`,
      );
      assert.equal(taken.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    }
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM one_time_codes');
    assert.equal(rows[0]?.n, 0, 'nothing was stored for the free addresses');
  });

  it('When a new and a taken address register, then the answers are identical and both cost the same argon2 work', async () => {
    const spy = countArgon2();
    const times = { fresh: [] as number[], taken: [] as number[] };
    const hashes = { fresh: new Set<number>(), taken: new Set<number>() };
    const bodies = new Set<string>();
    try {
      // Interleaved, so a busy machine slows both kinds alike.
      for (let i = 0; i < 9; i++) {
        for (const kind of ['fresh', 'taken'] as const) {
          const email = kind === 'taken' ? ADMIN.email : `timing-${i}-${Math.random().toString(36).slice(2)}@warren.test`;
          const before = { ...spy.counts };
          const started = performance.now();
          const res = await register(email);
          times[kind].push(performance.now() - started);
          assert.equal(res.status, 202);
          bodies.add(JSON.stringify(res.body));
          hashes[kind].add(spy.counts.hash - before.hash + 100 * (spy.counts.verify - before.verify));
        }
      }
    } finally {
      spy.restore();
    }
    assert.equal(bodies.size, 1, 'one answer for both');
    assert.deepEqual([...hashes.fresh], [2], 'a new address: the password and the code are hashed');
    assert.deepEqual([...hashes.taken], [2], 'a taken address: the same two hashes');
    const ratio = Math.max(median(times.fresh), median(times.taken)) / Math.min(median(times.fresh), median(times.taken));
    assert.ok(ratio < 1.5, `median times within 1.5× (fresh ${median(times.fresh).toFixed(0)} ms, taken ${median(times.taken).toFixed(0)} ms)`);
  });

  it('When a password reset is asked for a known and an unknown address, then both cost one hash and answer the same', async () => {
    const spy = countArgon2();
    const answers = [];
    const hashes: number[] = [];
    try {
      for (const email of [ADMIN.email, 'nobody-home@warren.test']) {
        const before = spy.counts.hash;
        answers.push(await call(`${stack.mainUrl}/auth/password/forgot`, { body: { email } }));
        hashes.push(spy.counts.hash - before);
      }
    } finally {
      spy.restore();
    }
    assert.deepEqual(hashes, [1, 1]);
    assert.deepEqual(answers[0]?.body, answers[1]?.body);
    assert.equal(answers[0]?.status, 202);
  });

  it("When someone registers an address with a name that carries a message, then the verification email does not show it", async () => {
    const email = 'greeting-target@warren.test';
    const name = 'URGENT call +1 555 0100 or visit https://evil.example/claim';
    assert.equal((await register(email, name)).status, 202);
    const mail = await smtp.waitForMessage((m) => m.envelope.to.includes(email), 10_000);
    for (const body of [mail.subject, mail.text, mail.html]) {
      assert.doesNotMatch(body, /URGENT|555|evil/);
    }
    assert.match(mail.text, /^Hello,\n/);
  });

  it('When wrong passwords are tried on a taken and on an unknown email, then both are delayed and locked alike', async () => {
    const sequences: Record<string, { status: number; code: string }[]> = {};
    for (const email of [ADMIN.email, 'nobody-at-all@warren.test']) {
      const seen: { status: number; code: string }[] = [];
      const deadline = Date.now() + 30_000;
      while (seen.filter((s) => s.status !== 429).length < 6) {
        assert.ok(Date.now() < deadline, `${email}: the delays ended in time`);
        const res = await call(`${stack.mainUrl}/login`, { body: { email, password: 'not the password 1' } });
        seen.push({ status: res.status, code: res.body.code });
        if (res.status === 429) await sleep(250);
      }
      sequences[email] = seen;
    }
    const evaluated = (email: string) => sequences[email]?.filter((s) => s.status !== 429).map((s) => `${s.status} ${s.code}`);
    assert.deepEqual(evaluated(ADMIN.email), [...Array(4).fill('401 invalid_credentials'), '423 account_locked', '423 account_locked']);
    assert.deepEqual(evaluated('nobody-at-all@warren.test'), evaluated(ADMIN.email), 'an unknown email answers exactly the same');
    for (const email of Object.keys(sequences)) {
      assert.ok(sequences[email]?.some((s) => s.status === 429 && s.code === 'login_throttled'), `${email}: delayed too`);
    }
  });
});
