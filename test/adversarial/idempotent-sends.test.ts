/**
 * Idempotent sends under concurrency: many requests with one Idempotency-Key at the same
 * moment (a client retrying eagerly, or an attacker) make exactly one notification; the same key
 * with another body is a 422, whichever request came first.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { call, sleep } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';

describe('Concurrent sends with one Idempotency-Key', () => {
  let stack: Stack;
  let admin: Awaited<ReturnType<typeof login>>;

  before(async () => {
    stack = await startStack();
    admin = await login(stack);
  });
  after(async () => {
    await stack?.stop();
  });

  const send = (key: string, title: string) =>
    call<{ id: string; code?: string }>(`${stack.mainUrl}/notifications`, {
      token: admin.accessToken,
      headers: { 'idempotency-key': key },
      body: { recipients: { userIds: [admin.user.id] }, title, body: 'concurrent' },
    });

  /** The admin's inbox titles once `sentinel` has been stored (sent after everything else). */
  async function titlesAfter(sentinel: string): Promise<string[]> {
    assert.equal((await send(randomUUID(), sentinel)).status, 202);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await call(`${stack.notificationUrl}/inbox?limit=100`, { token: admin.accessToken });
      const titles = (res.body.items as { title: string }[]).map((n) => n.title);
      if (titles.includes(sentinel)) return titles;
      assert.ok(Date.now() < deadline, `${sentinel} not stored within 15 s`);
      await sleep(100);
    }
  }

  it('When 25 identical sends with one key arrive at once, then all answer 202 with one id and exactly one notification is stored', async () => {
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 25 }, () => send(key, 'same key, same body')));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([202]));
    assert.equal(new Set(answers.map((a) => a.body.id)).size, 1, 'one notification id for the key');
    const titles = await titlesAfter('sentinel 1');
    assert.equal(titles.filter((t) => t === 'same key, same body').length, 1);
  });

  it('When sends with one key but different bodies race, then one wins with 202, every other body gets 422, and one notification is stored', async () => {
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => send(key, `racing body ${i}`)));
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 422);
    assert.equal(accepted.length + refused.length, answers.length, `only 202 and 422: ${answers.map((a) => a.status)}`);
    assert.equal(accepted.length, 1, 'one body wins the key');
    assert.ok(refused.every((a) => a.body.code === 'idempotency_key_reused'));
    const titles = await titlesAfter('sentinel 2');
    assert.equal(titles.filter((t) => t.startsWith('racing body')).length, 1);
  });
});
