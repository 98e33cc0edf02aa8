/**
 * Idempotency-Key misuse and races on POST /notifications: a key reused with another body is
 * refused (422 `idempotency_key_reused`, as the README documents) and sends nothing more;
 * many concurrent sends with one key answer one id and store exactly one notification, even
 * when their bodies differ. "Nothing more" is proven without a fixed wait: a sentinel sent
 * after the race must be stored, and only then are the rows counted.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { call, sleep, type JsonResponse } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';

interface Item {
  id: string;
  title: string;
  body: string;
}

describe('idempotency keys under misuse and races', () => {
  let stack: Stack;
  let admin: Awaited<ReturnType<typeof login>>;

  before(async () => {
    stack = await startStack();
    admin = await login(stack);
  });
  after(async () => {
    await stack?.stop();
  });

  /** A send to the admin's own inbox (a user the directory knows). */
  const send = (title: string, body: string, key?: string): Promise<JsonResponse> =>
    call(`${stack.mainUrl}/notifications`, {
      token: admin.accessToken,
      headers: key ? { 'idempotency-key': key } : {},
      body: { recipients: { userIds: [admin.user.id] }, title, body },
    });

  /** The admin's inbox rows whose title starts with `prefix`. */
  async function rowsTitled(prefix: string): Promise<Item[]> {
    const out: Item[] = [];
    let before: string | null = null;
    do {
      const page: JsonResponse<{ items: Item[]; nextCursor: string | null }> = await call(
        `${stack.notificationUrl}/inbox?limit=100${before ? `&before=${before}` : ''}`,
        { token: admin.accessToken },
      );
      assert.equal(page.status, 200);
      out.push(...page.body.items.filter((i) => i.title.startsWith(prefix)));
      before = page.body.nextCursor;
    } while (before);
    return out;
  }

  /**
   * Sends a sentinel (no key) and waits until it is stored: every message the sends before it
   * put on the queue has been consumed by then, so what is stored is final.
   */
  async function settle(prefix: string): Promise<void> {
    const title = `${prefix} sentinel ${randomUUID()}`;
    assert.equal((await send(title, 'sentinel')).status, 202);
    const deadline = Date.now() + 15_000;
    while ((await rowsTitled(title)).length === 0) {
      assert.ok(Date.now() < deadline, 'the sentinel was never stored');
      await sleep(50);
    }
  }

  it('When a retry carries the same body with its keys in another order, then it is the same request: 202 with the same id', async () => {
    const key = `order-${randomUUID()}`;
    const title = `order ${randomUUID()}`;
    const sendWith = (body: Record<string, unknown>) =>
      call(`${stack.mainUrl}/notifications`, { token: admin.accessToken, headers: { 'idempotency-key': key }, body });
    const first = await sendWith({ recipients: { userIds: [admin.user.id] }, title, body: 'b', data: { a: 1, z: { y: 2, x: 3 } } });
    const reordered = await sendWith({ data: { z: { x: 3, y: 2 }, a: 1 }, body: 'b', title, recipients: { userIds: [admin.user.id] } });
    assert.equal(first.status, 202);
    assert.equal(reordered.status, 202, JSON.stringify(reordered.body));
    assert.equal(reordered.body.id, first.body.id);
  });

  it('When a key is reused with a different body, then 422 idempotency_key_reused and only the first is stored', async () => {
    // Arrange
    const prefix = `reuse ${randomUUID()}`;
    const key = `reuse-${randomUUID()}`;
    const first = await send(`${prefix} a`, 'the first body', key);
    assert.equal(first.status, 202);

    // Act
    const other = await send(`${prefix} a`, 'another body', key);
    const otherTitle = await send(`${prefix} b`, 'the first body', key);
    const again = await send(`${prefix} a`, 'the first body', key);

    // Assert
    for (const res of [other, otherTitle]) {
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.equal(res.body.code, 'idempotency_key_reused');
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.ok(!JSON.stringify(res.body).includes(first.body.id), 'the refusal does not reveal the earlier id');
    }
    assert.equal(again.status, 202);
    assert.equal(again.body.id, first.body.id, 'the same key and body answer the same id');
    await settle(prefix);
    const stored = (await rowsTitled(prefix)).filter((i) => !i.title.includes('sentinel'));
    assert.equal(stored.length, 1, `stored: ${JSON.stringify(stored.map((s) => s.title))}`);
    assert.equal(stored[0]?.body, 'the first body');
  });

  it('When 20 identical sends with one key race, then every one answers the same id and one notification is stored', async () => {
    // Arrange
    const prefix = `race ${randomUUID()}`;
    const key = `race-${randomUUID()}`;

    // Act
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(prefix, 'raced', key)));

    // Assert
    for (const a of answers) assert.equal(a.status, 202, JSON.stringify(a.body));
    const ids = new Set(answers.map((a) => a.body.id as string));
    assert.equal(ids.size, 1, `answered ids: ${[...ids].join(', ')}`);
    await settle(prefix);
    const stored = (await rowsTitled(prefix)).filter((i) => !i.title.includes('sentinel'));
    assert.equal(stored.length, 1, `${stored.length} notifications stored for one key`);
  });

  it('When concurrent sends with one key carry different bodies, then exactly one wins, the rest get 422, and only the winner is stored', async () => {
    // Arrange
    const prefix = `contest ${randomUUID()}`;
    const key = `contest-${randomUUID()}`;

    // Act
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => send(`${prefix} ${i}`, `body ${i}`, key)));

    // Assert
    const won = answers.map((a, i) => ({ a, i })).filter(({ a }) => a.status === 202);
    const lost = answers.filter((a) => a.status !== 202);
    assert.equal(won.length, 1, `statuses: ${answers.map((a) => a.status).join(', ')}`);
    for (const a of lost) {
      assert.equal(a.status, 422);
      assert.equal(a.body.code, 'idempotency_key_reused');
    }
    await settle(prefix);
    const stored = (await rowsTitled(prefix)).filter((i) => !i.title.includes('sentinel'));
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.title, `${prefix} ${won[0]?.i}`, 'what is stored is the winning body');
  });

  it('When the Idempotency-Key header is malformed, then 400 naming it, and nothing is sent', async () => {
    const prefix = `badkey ${randomUUID()}`;
    for (const key of ['x'.repeat(129), 'has space', 'tab\there']) {
      const res = await send(prefix, 'b', key);
      assert.equal(res.status, 400, `${JSON.stringify(key)}: ${res.status}`);
      assert.ok(res.body.errors.some((e: { path: string }) => e.path === 'Idempotency-Key'));
    }
    await settle(prefix);
    assert.equal((await rowsTitled(prefix)).filter((i) => !i.title.includes('sentinel')).length, 0);
  });
});
