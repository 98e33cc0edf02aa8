/**
 * GET /audit-events (main-backend, permission audit:read: admins; decision 0031) on a real
 * stack: an employee's failed then successful sign-in shows for the admin with the client's
 * address (TRUST_PROXY=1: the last X-Forwarded-For entry) and user agent; managers and
 * employees get 403; filters and pages follow the ids without gap or duplicate; hostile queries
 * are 400, never a 5xx; a 10 KB user agent with control characters comes back cut to 256
 * characters; every read is recorded; and no password, code or token appears in any answer.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { auditPageSchema, type AuditEventItem } from '@warren/shared/contracts/audit';
import { call, type JsonResponse } from '../support/http.js';
import { startMailStack, type MailStack } from '../support/mail-stack.js';
import { codeIn } from '../support/smtp.js';
import { login } from '../support/stack.js';

const PASSWORD = 'a long enough passphrase 9';

interface Page {
  items: AuditEventItem[];
  nextCursor: string | null;
  code?: string;
}

describe('GET /audit-events (the audit of sign-ins)', () => {
  let m: MailStack;
  let adminToken: string;
  let managerToken: string;
  let employeeToken: string;
  const erin = { id: '', email: 'erin@warren.test', name: 'Erin Employee', password: PASSWORD };
  /** Every secret the run handled: none may appear in any answer of the endpoint. */
  const secrets = new Set<string>();
  /** Every answer of the endpoint, as sent. */
  const answers: string[] = [];

  before(async () => {
    m = await startMailStack({ TRUST_PROXY: '1' });
    const admin = await login(m.stack);
    adminToken = admin.accessToken;
    secrets.add(m.stack.env.BOOTSTRAP_ADMIN_PASSWORD as string).add(admin.accessToken).add(admin.refreshToken);
    const register = async (email: string, name: string) => {
      await call(`${m.stack.mainUrl}/auth/register`, { body: { email, password: PASSWORD, name } });
      const code = codeIn(await m.smtp.waitForMessage((msg) => msg.envelope.to.includes(email), 10_000));
      secrets.add(code);
      assert.equal((await call(`${m.stack.mainUrl}/auth/verify-email`, { body: { email, code } })).status, 200);
      const session = await login(m.stack, email, PASSWORD);
      secrets.add(session.accessToken).add(session.refreshToken);
      return session;
    };
    const grace = await register('grace@warren.test', 'Grace Manager');
    assert.equal((await call(`${m.stack.mainUrl}/users/${grace.user.id}`, { method: 'PATCH', token: adminToken, body: { role: 'manager' } })).status, 200);
    managerToken = (await login(m.stack, 'grace@warren.test', PASSWORD)).accessToken;
    const e = await register(erin.email, erin.name);
    erin.id = e.user.id;
    employeeToken = e.accessToken;
    // A password reset: its code and the new password are secrets too
    await call(`${m.stack.mainUrl}/auth/password/forgot`, { body: { email: erin.email } });
    const resetCode = codeIn(await m.smtp.waitForMessage((msg) => msg.envelope.to.includes(erin.email) && /reset/i.test(msg.subject ?? ''), 10_000));
    erin.password = 'erin chose a new passphrase 3';
    secrets.add(resetCode).add(erin.password).add(PASSWORD);
    assert.equal((await call(`${m.stack.mainUrl}/auth/password/reset`, { body: { email: erin.email, code: resetCode, newPassword: erin.password } })).status, 200);
    employeeToken = (await login(m.stack, erin.email, erin.password)).accessToken;
    secrets.add(employeeToken);
  });
  after(async () => {
    await m?.stop();
  });

  async function audit(query: string, token = adminToken): Promise<JsonResponse<Page>> {
    const res = await call<Page>(`${m.stack.mainUrl}/audit-events${query}`, { token });
    answers.push(JSON.stringify(res.body));
    return res;
  }
  /** Every page of a query, following nextCursor. */
  async function allPages(query: string, limit: number): Promise<AuditEventItem[][]> {
    const pages: AuditEventItem[][] = [];
    let cursor: string | null = null;
    do {
      const res = await audit(`?limit=${limit}${query}${cursor ? `&before=${cursor}` : ''}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      pages.push(res.body.items);
      cursor = res.body.nextCursor;
      assert.ok(pages.length < 200, 'pagination ends');
    } while (cursor);
    return pages;
  }
  const signIn = (email: string, password: string, client: { ip: string; userAgent: string }) =>
    call(`${m.stack.mainUrl}/login`, { body: { email, password }, headers: { 'user-agent': client.userAgent, 'x-forwarded-for': client.ip } });

  it("When an employee fails to sign in and then signs in, then the admin sees both, newest first, with the address, the user agent and the employee's name", async () => {
    // Act
    const client = { ip: '203.0.113.9', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) ErinBrowser/1.0' };
    assert.equal((await signIn(erin.email, 'not my password', client)).status, 401);
    assert.equal((await signIn(erin.email, erin.password, client)).status, 200);
    const res = await audit(`?userId=${erin.id}&event=login_succeeded,login_failed&limit=2`);

    // Assert
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.headers.get('cache-control'), 'no-store');
    auditPageSchema.parse(res.body);
    const [succeeded, failed] = res.body.items;
    assert.equal(succeeded?.event, 'login_succeeded');
    assert.equal(failed?.event, 'login_failed');
    assert.ok(Number(succeeded?.id) > Number(failed?.id));
    for (const item of [succeeded, failed]) {
      assert.equal(item?.userId, erin.id);
      assert.deepEqual(item?.user, { name: erin.name, email: erin.email });
      assert.equal(item?.ip, client.ip, 'the client address from X-Forwarded-For (TRUST_PROXY=1)');
      assert.equal(item?.userAgent, client.userAgent);
      assert.equal(item?.actorId, null);
      assert.ok(Date.now() - Date.parse(item?.at as string) < 60_000);
    }
    assert.deepEqual(failed?.details, { reason: 'wrong_password' });
    assert.deepEqual(Object.keys(succeeded?.details ?? {}), ['sessionId']);
    assert.deepEqual(Object.keys(succeeded ?? {}), ['id', 'at', 'event', 'userId', 'user', 'actorId', 'actor', 'ip', 'userAgent', 'details']);

    // The same two are the newest sign-in events in the unfiltered log too
    const everything = await audit('');
    const signIns = everything.body.items.filter((i) => i.event.startsWith('login_'));
    assert.deepEqual(signIns.slice(0, 2).map((i) => i.id), [succeeded?.id, failed?.id]);
  });

  it('When a manager or an employee asks, then 403 missing_permission; without a token 401', async () => {
    for (const token of [managerToken, employeeToken]) {
      const res = await audit('', token);
      assert.equal(res.status, 403);
      assert.equal(res.body.code, 'missing_permission');
    }
    assert.equal((await call(`${m.stack.mainUrl}/audit-events`)).status, 401);
    const ownUser = await audit(`?userId=${erin.id}`, employeeToken);
    assert.equal(ownUser.status, 403, 'not even their own events');
  });

  it('When events are paged with a filter, then the pages add up to one large page, newest first, without gap or duplicate, and newer events shift nothing', async () => {
    // Arrange: a crowd of failed sign-ins (unknown emails and Erin's)
    for (let i = 0; i < 7; i++) await signIn(`nobody${i}@warren.test`, 'x', { ip: `198.51.100.${i}`, userAgent: `probe/${i}` });
    for (let i = 0; i < 3; i++) await signIn(erin.email, `wrong ${i}`, { ip: '198.51.100.50', userAgent: 'guess' });

    // Act + Assert: every failed sign-in, 3 at a time
    const pages = await allPages('&event=login_failed', 3);
    const paged = pages.flat();
    const onePage = (await audit('?event=login_failed&limit=100')).body.items;
    assert.deepEqual(paged.map((i) => i.id), onePage.map((i) => i.id));
    assert.ok(paged.length >= 11);
    assert.ok(paged.every((i) => i.event === 'login_failed'));
    assert.equal(new Set(paged.map((i) => i.id)).size, paged.length, 'no duplicate');
    const ids = paged.map((i) => BigInt(i.id));
    assert.ok(ids.every((id, k) => k === 0 || id < (ids[k - 1] as bigint)), 'strictly newest first');
    const unknown = paged.filter((i) => i.userId === null);
    assert.equal(unknown.length, 7);
    assert.ok(unknown.every((i) => i.user === null && i.details.reason === 'unknown_email'));

    // By user: Erin's failures only; several events at once
    const erins = (await allPages(`&userId=${erin.id}&event=login_failed`, 2)).flat();
    assert.equal(erins.length, 4, 'three guesses and the failure of the first test');
    assert.ok(erins.every((i) => i.userId === erin.id));
    const mixed = (await audit(`?userId=${erin.id}&event=password_reset_requested,password_changed,email_verified`)).body.items;
    assert.deepEqual(mixed.map((i) => i.event), ['password_changed', 'password_reset_requested', 'email_verified']);
    assert.deepEqual(mixed[0]?.details, { via: 'reset', sessionsEnded: 1 });

    // Events added after the first page do not shift the next one
    const first = await audit('?event=login_failed&limit=3');
    await signIn('late@warren.test', 'x', { ip: '198.51.100.99', userAgent: 'late' });
    const second = await audit(`?event=login_failed&limit=3&before=${first.body.nextCursor}`);
    assert.deepEqual([...first.body.items, ...second.body.items].map((i) => i.id), onePage.slice(0, 6).map((i) => i.id));

    // An unknown user, or a cursor older than everything: an empty last page
    assert.deepEqual((await audit(`?userId=${randomUUID()}`)).body, { items: [], nextCursor: null });
    assert.deepEqual((await audit('?before=1')).body, { items: [], nextCursor: null });
    assert.equal((await audit('?before=9223372036854775807&limit=1')).body.items.length, 1, 'the largest id there can be is a cursor before everything');
  });

  it('When an admin reads, then the read is recorded, with the admin as actor and whose events were read', async () => {
    const read = await audit(`?userId=${erin.id}&event=login_failed&limit=5`);
    assert.equal(read.status, 200);
    const reads = (await audit(`?event=audit_read&userId=${erin.id}&limit=1`)).body.items;
    const [last] = reads;
    assert.equal(last?.event, 'audit_read');
    assert.equal(last?.userId, erin.id);
    assert.deepEqual(last?.actor, { name: 'Administrator', email: m.stack.env.BOOTSTRAP_ADMIN_EMAIL });
    assert.deepEqual(last?.details, { events: ['login_failed'], limit: 5, returned: read.body.items.length });
    const refused = (await m.authDb.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE event = 'audit_read' AND actor_id <> (SELECT id FROM users WHERE role = 'admin' LIMIT 1)")).rows[0]?.n;
    assert.equal(refused, 0, 'the refused reads of the manager and the employee read nothing, so recorded nothing');
  });

  it('When the query is hostile, then 400 naming the parameter, never a 5xx', async () => {
    const cases: [string, string, string][] = [
      ['limit 0', '?limit=0', 'limit'],
      ['limit 101', '?limit=101', 'limit'],
      ['limit abc', '?limit=abc', 'limit'],
      ['limit -1', '?limit=-1', 'limit'],
      ['limit 1.5', '?limit=1.5', 'limit'],
      ['limit huge', '?limit=99999999999999999999999', 'limit'],
      ['limit twice', '?limit=1&limit=2', 'limit'],
      ['before 0', '?before=0', 'before'],
      ['before negative', '?before=-5', 'before'],
      ['before past bigint', '?before=9223372036854775808', 'before'],
      ['before huge', `?before=${'9'.repeat(400)}`, 'before'],
      ['before non-numeric', '?before=abc', 'before'],
      ['before hex', '?before=0x10', 'before'],
      ['before with leading zero', '?before=007', 'before'],
      ['before empty', '?before=', 'before'],
      ['before twice', '?before=5&before=6', 'before'],
      ['event unknown', '?event=login_hacked', 'event'],
      ['event one unknown among known', '?event=login_failed,nope', 'event'],
      ['event empty', '?event=', 'event'],
      ['event trailing comma', '?event=logout,', 'event'],
      ['event upper case', '?event=LOGOUT', 'event'],
      ['event 10 000 characters', `?event=${'a'.repeat(10_000)}`, 'event'],
      ['event twice', '?event=logout&event=login_failed', 'event'],
      ['userId garbage', '?userId=not-a-user', 'userId'],
      ['userId empty', '?userId=', 'userId'],
      ['userId SQL', `?userId=${encodeURIComponent("' OR 1=1 --")}`, 'userId'],
      ['userId twice', `?userId=${erin.id}&userId=${randomUUID()}`, 'userId'],
    ];
    for (const [what, query, path] of cases) {
      const res = await audit(query);
      assert.equal(res.status, 400, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'validation_failed', what);
      assert.ok((res.body as unknown as { errors: { path: string }[] }).errors.some((e) => e.path === path), `${what}: names ${path}`);
    }
    for (const query of ['?userId=%00', `?userId=${erin.id}%00`, '?event=logout%00', '?before=1%00']) {
      const res = await audit(query);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.code, 'invalid_text', query);
    }
    // Upper case is the same user
    assert.equal((await audit(`?userId=${erin.id.toUpperCase()}&limit=1`)).body.items[0]?.userId, erin.id);
  });

  it('When a sign-in carries a 10 KB user agent with control characters and a right-to-left override, then the audit answers it cut to 256 characters, as valid JSON', async () => {
    // Raw bytes on the socket: fetch refuses such a header. Bytes 0x80–0xFF are legal in a header
    // value and read as Latin-1: C1 controls (NEL 0x85, CSI 0x9B), and U+202E's UTF-8 bytes.
    const ua = Buffer.concat([
      Buffer.from('Evil/1.0 '),
      Buffer.from('\u202e', 'utf8'),
      Buffer.from([0x85, 0x9b, 0x09, 0x7e]),
      Buffer.from('<img src=x onerror=alert(1)>'),
      Buffer.alloc(10_240, 'A'),
    ]);
    const body = JSON.stringify({ email: erin.email, password: 'wrong again' });
    const head = Buffer.from(`POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Forwarded-For: 192.0.2.66\r\nConnection: close\r\nUser-Agent: `, 'latin1');
    const status = await rawStatus(m.stack.mainUrl, Buffer.concat([head, ua, Buffer.from(`\r\n\r\n${body}`)]));
    assert.equal(status, 401);
    // A C0 control character is refused by the HTTP parser before any service code: 400, nothing recorded
    const c0 = Buffer.concat([head, Buffer.from('bad\x01agent'), Buffer.from(`\r\n\r\n${body}`)]);
    assert.equal(await rawStatus(m.stack.mainUrl, c0), 400);

    const res = await audit(`?userId=${erin.id}&event=login_failed&limit=1`);
    assert.equal(res.status, 200);
    const [item] = res.body.items;
    assert.equal(item?.ip, '192.0.2.66');
    const stored = item?.userAgent as string;
    assert.equal(stored.length, 256);
    assert.ok(stored.startsWith('Evil/1.0 \u00e2\u0080\u00ae\u0085\u009b\t~<img src=x onerror=alert(1)>AAA'), JSON.stringify(stored.slice(0, 60)));
    assert.ok(stored.endsWith('A…'));
    const raw = answers.at(-1) as string;
    assert.doesNotThrow(() => JSON.parse(raw));
    assert.equal((await m.authDb.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE user_agent LIKE 'bad%'")).rows[0]?.n, 0);
  });

  it('Then no answer of the endpoint holds a password, a code or a token the run used', async () => {
    // One more read of everything, to be sure every kind of event is in the answers
    // More events than a default page: logouts written straight into auth's database
    await m.authDb.query(`INSERT INTO audit_log (event, user_id, ip, details) SELECT 'logout', $1, '10.1.1.1', '{}' FROM generate_series(1, 60)`, [erin.id]);
    const everything = (await allPages('', 100)).flat();
    assert.ok(everything.length > 60);
    const defaultPage = await audit('');
    assert.equal(defaultPage.body.items.length, 50, 'the default page is 50');
    assert.equal(defaultPage.body.nextCursor, defaultPage.body.items[49]?.id, 'nextCursor is the last id of the page');
    const kinds = new Set(everything.map((i) => i.event));
    for (const kind of ['login_succeeded', 'login_failed', 'registration_requested', 'email_verified', 'password_reset_requested', 'password_changed', 'role_changed', 'audit_read']) {
      assert.ok(kinds.has(kind), `the log holds ${kind}`);
    }
    assert.ok(secrets.size >= 10);
    for (const answer of answers) {
      for (const secret of secrets) assert.ok(!answer.includes(secret), `an answer holds a secret (${secret.slice(0, 4)}…)`);
      assert.doesNotMatch(answer, /"(password|newPassword|passwordHash|token|refreshToken|accessToken)":|"code":"\d{6}"|\$argon2/i);
    }
    const hashes = (await m.authDb.query<{ h: string }>('SELECT password_hash AS h FROM users')).rows.map((r) => r.h);
    for (const answer of answers) for (const h of hashes) assert.ok(!answer.includes(h));
  });
});

/** Sends raw bytes to main-backend and answers the status code of the reply. */
function rawStatus(base: string, bytes: Buffer): Promise<number> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    // Written, not ended: the request says `Connection: close`, and the server closes after its answer.
    const socket = connect(Number(url.port), url.hostname, () => socket.write(bytes));
    let reply = '';
    socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}
