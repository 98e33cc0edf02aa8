/**
 * Limits on what is accepted, tried as an attacker would through the public API: U+0000 in
 * every kind of text (titles, bodies, `data` keys and values, names, credentials, URLs), `data`
 * nested 32, 33 and 5 000 levels, numbers and ids out of range in queries, paths and the
 * socket's `?after=`. Each is a client error (400/404, close 1008), never a 5xx, and the
 * services stay ready. A message with U+0000 or too deep `data` published straight to the
 * broker (another team's service) is dead-lettered by its schema, and stores nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqplib from 'amqplib';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { waitUntilKnown } from '../support/directory.js';
import { RABBITMQ_URL } from '../support/env.js';
import { call, type JsonResponse } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { openSocket } from '../support/ws-client.js';

const NUL = '\u0000';

/** `{"a":{"a":…{}}}` nested `depth` levels (the outer object is level 1). */
function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

describe('Limits on what is accepted', () => {
  let stack: Stack;
  let token: string;
  /** The admin's own id: a user the directory knows, whose inbox the admin can read. */
  let userId: string;
  const answers: { what: string; status: number }[] = [];

  /** Every answer is recorded: none may be a 5xx. */
  async function request(what: string, url: string, opts: Parameters<typeof call>[1] = {}): Promise<JsonResponse> {
    const res = await call(url, opts);
    answers.push({ what, status: res.status });
    return res;
  }
  const send = (what: string, body: unknown) => request(what, `${stack.mainUrl}/notifications`, { token, body });

  before(async () => {
    stack = await startStack();
    const admin = await login(stack);
    token = admin.accessToken;
    userId = admin.user.id;
    await waitUntilKnown(stack.env, [userId]);
  });
  after(async () => {
    await stack?.stop();
  });

  it('When U+0000 is in any text of a body, then 400 invalid_text naming where, and nothing is sent', async () => {
    const base = { recipients: { userIds: [userId] }, title: 'ok', body: 'ok' };
    const cases: [string, unknown, string][] = [
      ['title', { ...base, title: `a${NUL}b` }, 'title'],
      ['body', { ...base, body: `x${NUL}` }, 'body'],
      ['data value', { ...base, data: { note: `v${NUL}` } }, 'data.note'],
      ['data key', { ...base, data: { [`k${NUL}`]: 1 } }, `data.k${NUL}`],
      ['nested data value', { ...base, data: { list: [1, { deep: NUL }] } }, 'data.list.1.deep'],
      ['type', { ...base, type: `t${NUL}` }, 'type'],
    ];
    for (const [what, body, path] of cases) {
      const res = await send(`NUL in ${what}`, body);
      assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'invalid_text', what);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(res.body.errors?.[0]?.path, path, what);
    }
    const batch = await request('NUL in a batch item', `${stack.mainUrl}/notifications/batch`, { token, body: { notifications: [base, { ...base, title: NUL }] } });
    assert.equal(batch.status, 400, `batch: ${batch.status}`);
    assert.equal(batch.body.code, 'invalid_text');
    assert.equal(batch.body.errors?.[0]?.path, 'notifications.1.title');

    const auth: [string, string, unknown][] = [
      ['register name', '/auth/register', { email: `n-${randomUUID()}@warren.test`, password: 'a long enough passphrase', name: `Eve${NUL}` }],
      ['register email', '/auth/register', { email: `n${NUL}@warren.test`, password: 'a long enough passphrase', name: 'Eve' }],
      ['login password', '/login', { email: 'admin@warren.test', password: `x${NUL}` }],
      ['login email', '/login', { email: `admin${NUL}@warren.test`, password: 'x' }],
      ['forgot email', '/auth/password/forgot', { email: `a${NUL}@warren.test` }],
      ['refresh token', '/auth/refresh', { refreshToken: `r${NUL}` }],
    ];
    for (const [what, path, body] of auth) {
      const res = await request(`NUL in ${what}`, `${stack.mainUrl}${path}`, { body });
      assert.equal(res.status, 400, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'invalid_text', what);
    }

    // Nothing reached the inbox.
    const inbox = await request('inbox', `${stack.notificationUrl}/inbox`, { token });
    assert.equal(inbox.status, 200);
    assert.deepEqual(inbox.body.items, []);
  });

  it('When a lone UTF-16 surrogate is in any text of a body, then 400 invalid_text (PostgreSQL could never store it); a paired one (emoji) is fine', async () => {
    const base = { recipients: { userIds: [userId] }, title: 'ok', body: 'ok' };
    const cases: [string, unknown, string][] = [
      ['high surrogate in title', { ...base, title: 'a\ud800b' }, 'title'],
      ['low surrogate in body', { ...base, body: '\udc00' }, 'body'],
      ['surrogate in a data value', { ...base, data: { note: 'x\udbff' } }, 'data.note'],
      ['surrogate in a data key', { ...base, data: { ['k\ud83d']: 1 } }, 'data.k\ud83d'],
    ];
    for (const [what, body, path] of cases) {
      const res = await send(what, body);
      assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'invalid_text', what);
      assert.equal(res.body.errors?.[0]?.path, path, what);
    }
    const register = await request('surrogate in a name', `${stack.mainUrl}/auth/register`, {
      body: { email: `s-${randomUUID()}@warren.test`, password: 'a long enough passphrase', name: 'Eve\ud800' },
    });
    assert.equal(register.status, 400);
    const emoji = await send('emoji', { ...base, title: 'party \ud83c\udf89', data: { 'k\ud83d\ude00': '\ud83d\ude00' } });
    assert.equal(emoji.status, 202, JSON.stringify(emoji.body));
  });

  it('When U+0000 is in a URL, then 400 invalid_text, on both services', async () => {
    for (const [what, url] of [
      ['inbox cursor', `${stack.notificationUrl}/inbox?before=%00`],
      ['inbox limit', `${stack.notificationUrl}/inbox?limit=1%00`],
      ['path id', `${stack.notificationUrl}/inbox/%00/read`],
      ['users cursor', `${stack.mainUrl}/users?after=%00`],
    ] as const) {
      const res = await request(`NUL in ${what}`, url, { token, method: what === 'path id' ? 'POST' : 'GET' });
      assert.equal(res.status, 400, `${what}: ${res.status}`);
      assert.equal(res.body.code, 'invalid_text', what);
    }
  });

  it('When data nests 32 levels, then 202; 33 levels, then 400 naming data; 5 000 levels, then 400', async () => {
    const base = { recipients: { userIds: [userId] }, title: 'deep', body: 'deep' };
    assert.equal((await send('data depth 32', { ...base, data: nested(32) })).status, 202);

    const tooDeep = await send('data depth 33', { ...base, data: nested(33) });
    assert.equal(tooDeep.status, 400, JSON.stringify(tooDeep.body));
    assert.equal(tooDeep.body.code, 'validation_failed');
    assert.match(tooDeep.body.errors?.[0]?.path ?? '', /^data(\.a)*$/);

    // Too deep even for JSON.stringify on a small stack: written as text.
    const hostileData = '{"a":'.repeat(4999) + '{}' + '}'.repeat(4999);
    const hostileBody = `{"recipients":{"userIds":["${userId}"]},"title":"deep","body":"deep","data":${hostileData}}`;
    for (const [what, url, body] of [
      ['data depth 5000', `${stack.mainUrl}/notifications`, hostileBody],
      ['arrays 20000 deep at login', `${stack.mainUrl}/login`, '['.repeat(20_000) + ']'.repeat(20_000)],
      ['arrays 20000 deep at the inbox', `${stack.notificationUrl}/inbox/read-all`, '['.repeat(20_000) + ']'.repeat(20_000)],
    ] as const) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
      answers.push({ what, status: res.status });
      assert.equal(res.status, 400, what);
      assert.equal(((await res.json()) as { code: string }).code, 'body_too_deep', what);
    }
  });

  it('When numbers, ids and cursors are out of range, then 400 (404 for a path id), never 5xx', async () => {
    const n = stack.notificationUrl;
    const m = stack.mainUrl;
    const badQueries = [
      `${n}/inbox?before=ffffffffffffffff`,
      `${n}/inbox?before=7fffffffffffffff`,
      `${n}/inbox?before=0020000000000000`,
      `${n}/inbox?before=-1`,
      `${n}/inbox?limit=99999999999999999999999`,
      `${n}/inbox?limit=1e400`,
      `${n}/inbox?limit=-1`,
      `${n}/inbox?before=a&before=b`,
      `${m}/users?limit=99999999999999999999999`,
      `${m}/users?after=ffffffffffffffff`,
      `${m}/users?after=${'f'.repeat(5000)}`,
    ];
    for (const url of badQueries) {
      const res = await request(url, url, { token });
      assert.equal(res.status, 400, `${url}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    for (const [method, url] of [
      ['POST', `${n}/inbox/ffffffffffffffff/read`],
      ['POST', `${n}/inbox/8000000000000000/read`],
      ['POST', `${n}/inbox/7fffffffffffffff/read`],
      ['POST', `${n}/inbox/0000000000000000/read`],
      ['PATCH', `${m}/users/ffffffffffffffff`],
      ['DELETE', `${m}/auth/sessions/ffffffffffffffff`],
      ['DELETE', `${m}/auth/sessions/${randomUUID()}`],
    ] as const) {
      const res = await request(`${method} ${url}`, url, { token, method, ...(method === 'PATCH' ? { body: { role: 'employee' } } : {}) });
      assert.equal(res.status, 404, `${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    // The largest id in range is a valid cursor: an empty page.
    const edge = await request('largest cursor', `${n}/inbox?before=001fffffffffffff`, { token });
    assert.equal(edge.status, 200);
  });

  it('When a socket asks for ?after= out of range, then it is closed with 1008, not 1011', async () => {
    for (const afterId of ['7fffffffffffffff', 'ffffffffffffffff', '0020000000000000', '-1', '%00']) {
      const s = openSocket(`${stack.notificationWsUrl}?token=${encodeURIComponent(token)}&after=${afterId}`);
      const closed = await s.closed;
      assert.equal(closed.code, 1008, `after=${afterId}`);
    }
  });

  it('When another team publishes a notification with U+0000 or too deep data straight to the broker, then it is dead-lettered and nothing is stored', async () => {
    const t = topology(stack.env.BROKER_NAMESPACE as string);
    const conn = await amqplib.connect(RABBITMQ_URL);
    try {
      const ch = await conn.createConfirmChannel();
      const dlq = t.queues.notificationRequests.deadLetterQueue;
      const before = (await ch.checkQueue(dlq)).messageCount;
      const message = (over: Record<string, unknown>) => ({
        notificationId: randomUUID(),
        recipients: { userIds: [userId] },
        title: 'from another team',
        body: 'hello',
        type: 'general',
        data: {},
        requestedAt: new Date().toISOString(),
        ...over,
      });
      const poisoned = [message({ title: `t${NUL}` }), message({ body: NUL }), message({ data: { [NUL]: 1 } }), message({ data: nested(33) })];
      for (const m of poisoned) {
        ch.publish(t.exchanges.events.name, ROUTING_KEYS.notificationRequested, Buffer.from(JSON.stringify(m)), {
          messageId: m.notificationId,
          contentType: 'application/json',
          persistent: true,
        });
      }
      await ch.waitForConfirms();
      const deadline = Date.now() + 15_000;
      while ((await ch.checkQueue(dlq)).messageCount < before + poisoned.length) {
        assert.ok(Date.now() < deadline, 'the poisoned messages were not dead-lettered within 15 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      // A good message behind them is stored (nothing stalls); none of the poisoned ones is.
      const good = message({ title: 'good after poison' });
      ch.publish(t.exchanges.events.name, ROUTING_KEYS.notificationRequested, Buffer.from(JSON.stringify(good)), {
        messageId: good.notificationId,
        contentType: 'application/json',
        persistent: true,
      });
      await ch.waitForConfirms();
      let titles: string[] = [];
      while (!titles.includes('good after poison')) {
        assert.ok(Date.now() < deadline + 15_000, 'the good message was not stored within 15 s');
        await new Promise((r) => setTimeout(r, 100));
        const inbox = await request('inbox', `${stack.notificationUrl}/inbox?limit=100`, { token });
        titles = (inbox.body.items as { title: string }[]).map((i) => i.title);
      }
      assert.equal(titles.filter((x) => x === 'from another team' || x.includes(NUL)).length, 0);
    } finally {
      await conn.close();
    }
  });

  it('When all of this is over, then no answer was a 5xx and every service is ready', async () => {
    const fives = answers.filter((a) => a.status >= 500);
    assert.deepEqual(fives, []);
    for (const url of [stack.mainUrl, stack.notificationUrl, `http://127.0.0.1:${stack.auth.port()}`]) {
      assert.equal((await call(`${url}/readyz`)).status, 200, url);
    }
  });
});
