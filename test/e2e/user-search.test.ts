/**
 * GET /users?q=&limit=&after= (main-backend, permission users:read): admins and managers find
 * users by a piece of their name or email, ignoring case, a page at a time in name order with an
 * opaque cursor. `%`, `_` and `\` in `q` are plain characters. Managers see verified users only,
 * without the account state admins see. Hostile queries (huge, U+0000, repeated, bad cursors,
 * limits out of range) are 400, never a 5xx or a slow scan.
 *
 * The manager and the employee are real accounts (registered through the emailed code, the
 * manager promoted by the admin); the crowd to search through is written into auth's database.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { call, type JsonResponse } from '../support/http.js';
import { startMailStack, type MailStack } from '../support/mail-stack.js';
import { codeIn } from '../support/smtp.js';
import { login } from '../support/stack.js';

const PASSWORD = 'a long enough passphrase 9';

interface Item {
  id: string;
  email: string;
  name: string;
  role: string;
  emailVerified?: boolean;
  createdAt?: string;
  locked?: boolean;
}

describe('GET /users (find users)', () => {
  let m: MailStack;
  let adminToken: string;
  let managerToken: string;
  let employeeToken: string;

  before(async () => {
    m = await startMailStack();
    const admin = await login(m.stack);
    adminToken = admin.accessToken;
    const register = async (email: string, name: string) => {
      await call(`${m.stack.mainUrl}/auth/register`, { body: { email, password: PASSWORD, name } });
      const code = codeIn(await m.smtp.waitForMessage((msg) => msg.envelope.to.includes(email), 10_000));
      assert.equal((await call(`${m.stack.mainUrl}/auth/verify-email`, { body: { email, code } })).status, 200);
      return login(m.stack, email, PASSWORD);
    };
    const grace = await register('grace@warren.test', 'Grace Hopper');
    assert.equal((await call(`${m.stack.mainUrl}/users/${grace.user.id}`, { method: 'PATCH', token: adminToken, body: { role: 'manager' } })).status, 200);
    managerToken = (await login(m.stack, 'grace@warren.test', PASSWORD)).accessToken;
    employeeToken = (await register('alan@warren.test', 'Alan Turing')).accessToken;

    // The crowd: names and emails with LIKE's special characters, and one unverified account
    const crowd: [string, string, boolean][] = [
      ['100% Real', 'percent@warren.test', true],
      ['100 Percent', 'hundred@warren.test', true],
      ['under_score', 'under@warren.test', true],
      ['underXscore', 'underx@warren.test', true],
      ['Back\\slash', 'back@warren.test', true],
      ['Backslash', 'backs@warren.test', true],
      ['Ada Lovelace', 'ADA@Example.ORG', true],
      ['Not Verified Yet', 'pending@warren.test', false],
    ];
    for (let i = 0; i < 12; i++) crowd.push([`Page Person ${String(i).padStart(2, '0')}`, `page${i}@warren.test`, true]);
    for (const [name, email, verified] of crowd) {
      await m.authDb.query(`INSERT INTO users (email, name, role, password_hash, email_verified_at) VALUES ($1, $2, 'employee', 'x', ${verified ? 'now()' : 'NULL'})`, [email, name]);
    }
  });
  after(async () => {
    await m?.stop();
  });

  const search = (query: string, token = managerToken): Promise<JsonResponse<{ items: Item[]; nextCursor: string | null; code?: string }>> =>
    call(`${m.stack.mainUrl}/users${query}`, { token });
  const names = (res: JsonResponse<{ items: Item[] }>) => res.body.items.map((u) => u.name);

  /** Every page of a query, following nextCursor. */
  async function allPages(query: string, limit: number, token = managerToken): Promise<Item[][]> {
    const pages: Item[][] = [];
    let cursor: string | null = null;
    do {
      const res = await search(`?limit=${limit}${query ? `&q=${encodeURIComponent(query)}` : ''}${cursor ? `&after=${cursor}` : ''}`, token);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      pages.push(res.body.items);
      cursor = res.body.nextCursor;
      assert.ok(pages.length < 100, 'pagination ends');
    } while (cursor);
    return pages;
  }

  it('When a manager searches by a piece of a name or an email, ignoring case, then the matching verified users come back, without the account state', async () => {
    const byName = await search('?q=HOPP');
    assert.equal(byName.status, 200, JSON.stringify(byName.body));
    assert.deepEqual(names(byName), ['Grace Hopper']);
    assert.deepEqual(Object.keys(byName.body.items[0] as object), ['id', 'email', 'name', 'role']);
    assert.equal(byName.body.items[0]?.role, 'manager');
    assert.equal(byName.body.nextCursor, null);
    assert.equal(byName.headers.get('cache-control'), 'no-store');

    assert.deepEqual(names(await search('?q=example.org')), ['Ada Lovelace'], 'by email, whatever its case');
    assert.deepEqual(names(await search('?q=%20lovel')), ['Ada Lovelace'], 'a substring anywhere, spaces kept inside');
    assert.deepEqual(names(await search('?q=verified')), [], 'the unverified account is not listed for a manager');
    assert.deepEqual(names(await search('?q=nobody-by-this-name')), []);
  });

  it('When an admin searches, then unverified accounts are listed too, with their state', async () => {
    const res = await search('?q=verified', adminToken);
    assert.equal(res.status, 200);
    assert.equal(res.body.items.length, 1);
    const [pending] = res.body.items;
    assert.equal(pending?.name, 'Not Verified Yet');
    assert.equal(pending?.emailVerified, false);
    assert.equal(pending?.locked, false);
    assert.ok(pending?.createdAt);
  });

  it('When an employee asks, then 403; without a token, 401', async () => {
    const res = await search('?q=a', employeeToken);
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'missing_permission');
    assert.equal((await call(`${m.stack.mainUrl}/users?q=a`)).status, 401);
  });

  it('When q holds %, _ or \\, then they match only themselves', async () => {
    assert.deepEqual(names(await search(`?q=${encodeURIComponent('%')}`)), ['100% Real']);
    assert.deepEqual(names(await search(`?q=${encodeURIComponent('0%')}`)), ['100% Real']);
    assert.deepEqual(names(await search(`?q=${encodeURIComponent('under_')}`)), ['under_score']);
    assert.deepEqual(names(await search(`?q=${encodeURIComponent('_')}`)), ['under_score']);
    assert.deepEqual(names(await search(`?q=${encodeURIComponent('k\\s')}`)), ['Back\\slash']);
    assert.deepEqual(names(await search(`?q=${encodeURIComponent('\\')}`)), ['Back\\slash']);
    assert.deepEqual(names(await search(`?q=${encodeURIComponent('%%')}`)), []);
  });

  it('When results span pages, then following nextCursor gives each user once, in name order, as one large page does', async () => {
    const pages = await allPages('page person', 5);
    assert.deepEqual(pages.map((p) => p.length), [5, 5, 2]);
    const paged = pages.flat().map((u) => u.name);
    assert.deepEqual(paged, Array.from({ length: 12 }, (_, i) => `Page Person ${String(i).padStart(2, '0')}`));

    // Everyone, a page of 3 at a time, equals one page of 100
    const everyone = (await allPages('', 3)).flat();
    const onePage = await search('?limit=100');
    assert.deepEqual(everyone, onePage.body.items);
    assert.equal(new Set(everyone.map((u) => u.id)).size, everyone.length);
    const sorted = [...everyone].sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : a.id < b.id ? -1 : 1));
    assert.deepEqual(everyone.map((u) => u.name), sorted.map((u) => u.name));
    assert.ok(everyone.some((u) => u.name === 'Administrator'));

    // Users added meanwhile shift nothing: one before the cursor is not seen, one after it is
    const first = await search('?limit=2&q=page%20person');
    assert.deepEqual(names(first), ['Page Person 00', 'Page Person 01']);
    for (const name of ['Page Person 00a', 'Page Person 01a']) {
      await m.authDb.query(`INSERT INTO users (email, name, role, password_hash, email_verified_at) VALUES ($1, $2, 'employee', 'x', now())`, [`${randomUUID()}@warren.test`, name]);
    }
    const next = await search(`?limit=2&q=page%20person&after=${first.body.nextCursor}`);
    assert.deepEqual(names(next), ['Page Person 01a', 'Page Person 02']);
  });

  it('When the query is hostile, then 400 naming the parameter, never a 5xx', async () => {
    const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const cases: [string, string][] = [
      ['q of 101 characters', `?q=${'a'.repeat(101)}`],
      ['q of 10 000 characters', `?q=${'a'.repeat(10_000)}`],
      ['q twice', '?q=a&q=b'],
      ['limit 0', '?limit=0'],
      ['limit 101', '?limit=101'],
      ['limit -1', '?limit=-1'],
      ['limit 1.5', '?limit=1.5'],
      ['limit abc', '?limit=abc'],
      ['limit huge', '?limit=99999999999999999999999'],
      ['cursor garbage', '?after=not-a-cursor'],
      ['cursor with padding', `?after=${cursorOf(['a', randomUUID()])}==`],
      ['cursor: a uuid', `?after=${randomUUID()}`],
      ['cursor: wrong shape', `?after=${cursorOf({ name: 'a', id: randomUUID() })}`],
      ['cursor: bad id', `?after=${cursorOf(['a', 'not-a-uuid'])}`],
      ['cursor: U+0000 in the name', `?after=${cursorOf(['a\u0000', randomUUID()])}`],
      ['cursor: lone surrogate', `?after=${cursorOf(['\ud800', randomUUID()])}`],
      ['cursor: too long', `?after=${cursorOf(['a'.repeat(2000), randomUUID()])}`],
      ['cursor twice', `?after=${cursorOf(['a', randomUUID()])}&after=${cursorOf(['b', randomUUID()])}`],
    ];
    for (const [what, query] of cases) {
      const res = await search(query);
      assert.equal(res.status, 400, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'validation_failed', what);
    }
    const nul = await search('?q=a%00b');
    assert.equal(nul.status, 400);
    assert.equal(nul.body.code, 'invalid_text');
    // A well-formed cursor past everyone is an empty page, not an error
    const past = await search(`?after=${cursorOf(['zzzzzzzz', 'ffffffff-ffff-ffff-ffff-ffffffffffff'])}`);
    assert.equal(past.status, 200);
    assert.deepEqual(past.body, { items: [], nextCursor: null });
    // Blank q is no filter
    assert.ok((await search('?q=%20%20&limit=100')).body.items.length > 10);
  });

  it('Then the name order and substring search have indexes (trigram ones where pg_trgm is available)', async () => {
    const { rows: indexes } = await m.authDb.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename = 'users'");
    const names = indexes.map((r) => r.indexname);
    assert.ok(names.includes('users_name_order_idx'));
    const { rows: available } = await m.authDb.query("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'");
    if (available.length > 0) {
      assert.ok(names.includes('users_name_trgm_idx') && names.includes('users_email_trgm_idx'), names.join(', '));
      // With enough rows to make a scan costly, a three-letter search uses them
      await m.authDb.query(
        `INSERT INTO users (email, name, role, password_hash, email_verified_at)
         SELECT 'bulk' || i || '-' || $1 || '@warren.test', 'Bulk ' || md5(i::text), 'employee', 'x', now() FROM generate_series(1, 20000) i`,
        [randomUUID().slice(0, 8)],
      );
      // As autovacuum would: the GIN indexes' pending entries merged, the statistics fresh.
      await m.authDb.query('VACUUM ANALYZE users');
      const { rows: plan } = await m.authDb.query<{ 'QUERY PLAN': string }>(
        "EXPLAIN SELECT id FROM users WHERE lower(name) LIKE '%hopp%' OR lower(email) LIKE '%hopp%' ORDER BY lower(name), id LIMIT 21",
      );
      assert.match(plan.map((r) => r['QUERY PLAN']).join('\n'), /trgm/);
      const res = await search('?q=hopp');
      assert.deepEqual(res.body.items.map((u) => u.name), ['Grace Hopper']);
    }
  });
});
