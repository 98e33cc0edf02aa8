/**
 * Registration, email verification, password reset and roles, through the real SMTP path
 * (auth → RabbitMQ → notification → SMTP server in the test). Each refusal is tried:
 * enumeration, wrong / used / expired / over-tried codes, the password policy, a reset that
 * must end every session, role changes and their limits. Last, the auth database and every log
 * line of the run are searched for any password, code or token used.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { call } from '../support/http.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { ADMIN, login, startStack, type Stack } from '../support/stack.js';

describe('registration, reset and roles', () => {
  let stack: Stack;
  let smtp: TestSmtpServer;
  /** Every secret the tests use, searched for in the database and the logs at the end. */
  const secrets = new Set<string>([ADMIN.password]);

  before(async () => {
    smtp = await startSmtpServer();
    stack = await startStack({ SMTP_URL: smtp.url, LOGIN_LOCKOUT_THRESHOLD: '3' });
  });
  after(async () => {
    await stack?.stop();
    await smtp?.stop();
  });

  const api = (path: string, opts: Parameters<typeof call>[1] = {}) => call(`${stack.mainUrl}${path}`, opts);
  const emailTo = (to: string, subject?: RegExp) =>
    smtp.waitForMessage((m) => m.envelope.to.includes(to) && (!subject || subject.test(m.subject)), 10_000);
  const remember = <T extends string>(s: T): T => {
    secrets.add(s);
    return s;
  };

  async function registerAndVerify(email: string, password: string, name = 'Test User') {
    remember(password);
    assert.equal((await api('/auth/register', { body: { email, password, name } })).status, 202);
    const code = remember(codeIn(await emailTo(email, /confirm|verify/i)));
    assert.equal((await api('/auth/verify-email', { body: { email, code } })).status, 200);
    const res = await api('/login', { body: { email, password } });
    assert.equal(res.status, 200);
    remember(res.body.accessToken);
    remember(res.body.refreshToken);
    return res.body;
  }

  it('When someone registers, then a code is emailed, verifying it creates an employee, who can log in', async () => {
    const email = 'ada@warren.test';
    const password = remember('analytical engine 1843');
    const res = await api('/auth/register', { body: { email, password, name: 'Ada' } });
    assert.equal(res.status, 202);
    assert.deepEqual(res.body, { status: 'pending_verification' });

    const mail = await emailTo(email);
    assert.match(mail.subject, /verify|confirm/i);
    const code = remember(codeIn(mail));

    const early = await api('/login', { body: { email, password } });
    assert.equal(early.status, 403, 'an unverified registration cannot log in');
    assert.equal(early.body.code, 'email_not_verified');
    assert.equal((await api('/login', { body: { email, password: 'not her password' } })).status, 401);

    assert.equal((await api('/auth/verify-email', { body: { email, code } })).status, 200);
    const session = await api('/login', { body: { email, password } });
    assert.equal(session.status, 200);
    remember(session.body.refreshToken);
    assert.equal(session.body.user.role, 'employee');
    assert.equal(session.body.user.name, 'Ada');
    assert.deepEqual(session.body.permissions, []);

    const reuse = await api('/auth/verify-email', { body: { email, code } });
    assert.equal(reuse.status, 400, 'a used code is refused');
  });

  it('When a taken email registers, then the answer is identical and the owner is told, with no code', async () => {
    const fresh = await api('/auth/register', { body: { email: 'new-person@warren.test', password: remember('a fresh password 77'), name: 'New' } });
    const taken = await api('/auth/register', { body: { email: ADMIN.email.toUpperCase(), password: remember('an attacker password 9'), name: 'Mallory' } });
    assert.equal(taken.status, fresh.status);
    assert.deepEqual(taken.body, fresh.body);
    const notice = await emailTo(ADMIN.email, /register/i);
    assert.doesNotMatch(notice.text, /\b\d{6}\b/, 'no code for a taken address');
    assert.equal((await api('/login', { body: { email: ADMIN.email, password: ADMIN.password } })).status, 200, 'the owner is unaffected');
  });

  it('When codes are wrong, expired or over-tried (across a new code), then 400, 400 and 429', async () => {
    const email = 'grace@warren.test';
    await api('/auth/register', { body: { email, password: remember('compiler pioneer 1952'), name: 'Grace' } });
    const code = remember(codeIn(await emailTo(email)));
    const wrong = code === '000000' ? '111111' : '000000';

    const bad = await api('/auth/verify-email', { body: { email, code: wrong } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'invalid_code');

    await expireCodes(email);
    const expired = await api('/auth/verify-email', { body: { email, code } });
    assert.equal(expired.status, 400);
    assert.equal(expired.body.code, 'code_expired');

    await api('/auth/register', { body: { email, password: remember('compiler pioneer 1952'), name: 'Grace' } });
    const second = remember(codeIn(await smtp.waitForMessage((m) => m.envelope.to.includes(email) && codeIn(m) !== code, 10_000)));
    // The wrong try before the new code still counts (a new code does not restart the count);
    // the expired right code did not. So four more wrong tries make five: the fifth is 429.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await api('/auth/verify-email', { body: { email, code: second === '000000' ? '111111' : '000000' } })).status);
    }
    assert.deepEqual(statuses, [400, 400, 400, 429]);
    const dead = await api('/auth/verify-email', { body: { email, code: second } });
    assert.equal(dead.status, 429, 'even the right code is refused after five wrong tries');
    assert.ok(Number(dead.headers.get('retry-after')) > 0, 'Retry-After says when tries are allowed again');

    const unknown = [];
    for (let i = 0; i < 6; i++) unknown.push((await api('/auth/verify-email', { body: { email: 'nobody-at-all@warren.test', code: '123456' } })).status);
    assert.deepEqual(unknown, [400, 400, 400, 400, 429, 429], 'tries are counted the same for addresses with no code');
  });

  it('When a password breaks the policy, then 400 names the field; long passwords are not truncated', async () => {
    const cases = [
      { password: 'short7', why: 'too short' },
      { password: 'password123', why: 'common' },
      { password: 'x'.repeat(129), why: 'too long' },
    ];
    for (const c of cases) {
      const res = await api('/auth/register', { body: { email: 'policy@warren.test', password: c.password, name: 'P' } });
      assert.equal(res.status, 400, c.why);
      assert.equal(res.body.errors?.[0]?.path, 'password', c.why);
    }
    const long = remember(`${'correct horse battery staple '.repeat(4)}`.slice(0, 100));
    await registerAndVerify('long@warren.test', long);
    const truncated = await api('/login', { body: { email: 'long@warren.test', password: long.slice(0, 72) } });
    assert.equal(truncated.status, 401, 'the first 72 characters are not enough');
    assert.equal((await api('/login', { body: { email: 'long@warren.test', password: 'ü'.repeat(128) } })).status, 401);
  });

  it('When a password is reset, then every session ends, the new password works and a lockout is lifted', async () => {
    const email = 'linus@warren.test';
    const oldPassword = 'a kernel of truth 1991';
    const first = await registerAndVerify(email, oldPassword);
    const second = await api('/login', { body: { email, password: oldPassword } });
    remember(second.body.refreshToken);
    for (let i = 0; i < 3; i++) await api('/login', { body: { email, password: 'wrong again' } });
    assert.equal((await api('/login', { body: { email, password: oldPassword } })).status, 423, 'locked');

    const unknown = await api('/auth/password/forgot', { body: { email: 'nobody-here@warren.test' } });
    const known = await api('/auth/password/forgot', { body: { email } });
    assert.equal(known.status, 202);
    assert.deepEqual(known.body, unknown.body, 'no enumeration');
    const code = remember(codeIn(await emailTo(email, /reset/i)));

    const weak = await api('/auth/password/reset', { body: { email, code, newPassword: 'qwerty123' } });
    assert.equal(weak.status, 400);
    const newPassword = remember('a brand new secret 2024');
    const reset = await api('/auth/password/reset', { body: { email, code, newPassword } });
    assert.equal(reset.status, 200);

    assert.equal((await api('/auth/refresh', { body: { refreshToken: first.refreshToken } })).status, 401);
    assert.equal((await api('/auth/refresh', { body: { refreshToken: second.body.refreshToken } })).status, 401);
    assert.equal((await api('/login', { body: { email, password: oldPassword } })).status, 401);
    const fresh = await api('/login', { body: { email, password: newPassword } });
    assert.equal(fresh.status, 200, 'reset lifted the lock');
    remember(fresh.body.refreshToken);
    assert.equal((await api('/auth/password/reset', { body: { email, code, newPassword: remember('yet another secret 2025') } })).status, 400, 'single use');
  });

  it('When an admin changes a role, then it applies at the next refresh; non-admins cannot administer', async () => {
    const employee = await registerAndVerify('rosa@warren.test', 'montgomery bus 1955');
    const admin = await login(stack);
    remember(admin.refreshToken);

    const asEmployee = await api('/users', { token: employee.accessToken });
    assert.equal(asEmployee.status, 403);
    const send = await api('/notifications', {
      token: employee.accessToken,
      body: { recipients: { userIds: [employee.user.id] }, title: 't', body: 'b' },
    });
    assert.equal(send.status, 403);
    assert.equal(send.body.code, 'missing_permission');

    const page = await api('/users?limit=2', { token: admin.accessToken });
    assert.equal(page.status, 200);
    assert.equal(page.body.items.length, 2);
    assert.ok(page.body.nextCursor);
    const rest = await api(`/users?limit=100&after=${page.body.nextCursor}`, { token: admin.accessToken });
    const all = [...page.body.items, ...rest.body.items];
    assert.ok(all.some((u: { id: string }) => u.id === employee.user.id));
    assert.equal(new Set(all.map((u: { id: string }) => u.id)).size, all.length, 'no user twice across pages');
    for (const u of all) assert.equal(u.passwordHash, undefined);

    const patched = await api(`/users/${employee.user.id}`, { method: 'PATCH', token: admin.accessToken, body: { role: 'manager' } });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.role, 'manager');

    const refreshed = await api('/auth/refresh', { body: { refreshToken: employee.refreshToken } });
    assert.equal(refreshed.status, 200);
    remember(refreshed.body.refreshToken);
    assert.equal(refreshed.body.user.role, 'manager');
    assert.ok(refreshed.body.permissions.includes('notifications:send'));
    const nowAllowed = await api('/notifications', {
      token: refreshed.body.accessToken,
      body: { recipients: { userIds: [employee.user.id] }, title: 't', body: 'b' },
    });
    assert.equal(nowAllowed.status, 202);

    assert.equal((await api(`/users/${employee.user.id}`, { method: 'PATCH', token: admin.accessToken, body: { role: 'root' } })).status, 400);
    assert.equal((await api('/users/00000000-0000-4000-8000-000000000000', { method: 'PATCH', token: admin.accessToken, body: { role: 'manager' } })).status, 404);
    const demoteSelf = await api(`/users/${admin.user.id}`, { method: 'PATCH', token: admin.accessToken, body: { role: 'employee' } });
    assert.equal(demoteSelf.status, 409, 'the last admin cannot be demoted');

    const othersSession = await api(`/auth/sessions/${admin.session.id}`, { method: 'DELETE', token: refreshed.body.accessToken });
    assert.equal(othersSession.status, 404, "another user's session is not found, not deleted");
    assert.equal((await api('/auth/me', { token: admin.accessToken })).status, 200);
  });

  it('Then the auth database holds argon2id hashes and no password, code or token in clear', async () => {
    const client = new pg.Client({ connectionString: stack.env.AUTH_DATABASE_URL });
    await client.connect();
    try {
      const { rows: users } = await client.query<{ password_hash: string }>('SELECT password_hash FROM users');
      for (const u of users) assert.match(u.password_hash, /^\$argon2id\$v=19\$m=19456,(t=2,p=1|p=1,t=2)\$/);
      const { rows: codes } = await client.query<{ code_hash: string }>('SELECT code_hash FROM one_time_codes');
      for (const c of codes) assert.match(c.code_hash, /^\$argon2id\$/);
      const dump = await dumpDatabase(client);
      for (const s of secrets) assert.ok(!containsSecret(dump, s), `a secret is stored in clear: ${s.slice(0, 4)}…`);
    } finally {
      await client.end();
    }
  });

  it('Then no log line of any service contains a password, code or token used in this run', async () => {
    const logs = [stack.logs.auth.text(), stack.logs.main.text(), stack.logs.notification.text()].join('\n');
    assert.ok(logs.length > 1000, 'the services did log');
    for (const s of secrets) assert.ok(!containsSecret(logs, s), `a secret reached the logs: ${s.slice(0, 4)}…`);
  });

  async function expireCodes(email: string) {
    const client = new pg.Client({ connectionString: stack.env.AUTH_DATABASE_URL });
    await client.connect();
    try {
      await client.query("UPDATE one_time_codes SET expires_at = now() - interval '1 second' WHERE email_lower = lower($1)", [email]);
    } finally {
      await client.end();
    }
  }
});

/** Every row of every table as text: what an attacker with a database dump would read. */
/**
 * Long secrets (passwords, tokens) must not appear anywhere. A 6-digit code is short enough to
 * turn up by chance inside a timestamp's microseconds or a base64 hash, so it counts only as a
 * value of its own: not inside a longer run of letters, digits or a decimal fraction.
 */
function containsSecret(text: string, secret: string): boolean {
  if (!/^\d{6}$/.test(secret)) return text.includes(secret);
  return new RegExp(`(?<![0-9A-Za-z.$/+_-])${secret}(?![0-9A-Za-z])`).test(text);
}

async function dumpDatabase(client: pg.Client): Promise<string> {
  const { rows: tables } = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  const parts: string[] = [];
  for (const { tablename } of tables) {
    const { rows } = await client.query(`SELECT t::text AS row FROM "${tablename}" t`);
    parts.push(...rows.map((r: { row: string }) => r.row));
  }
  return parts.join('\n');
}
