/**
 * @warren/client's account, session, user and send-status calls against the real stack, as the
 * portals use them: register → emailed code → verify → login; forgot → emailed code → reset (and
 * the old sessions end); the user's sessions, one revoked, logout-all; the user search and a role
 * change (and the last-admin refusal); a send's status; mark unread.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWarrenClient, WarrenProblem, type WarrenClient } from '../../packages/client/src/index.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { ADMIN, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

describe('@warren/client against the real stack: accounts, sessions, users, send status', () => {
  let stack: Stack;
  let smtp: TestSmtpServer;
  const person = { email: 'nia@warren.test', password: 'a passphrase for nia 4', name: 'Nia Newcomer' };

  before(async () => {
    smtp = await startSmtpServer();
    stack = await startStack({ SMTP_URL: smtp.url });
  });
  after(async () => {
    await stack?.stop();
    await smtp?.stop();
  });

  function newClient(): WarrenClient {
    const store = new Map<string, string>();
    return createWarrenClient({
      mainBackendUrl: stack.mainUrl,
      notificationUrl: stack.notificationUrl,
      storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v), removeItem: (k) => void store.delete(k) },
    });
  }
  /** The code of the next email to `email` not read yet. */
  const used = new Set<string>();
  async function codeFor(email: string): Promise<string> {
    const message = await smtp.waitForMessage((m) => m.envelope.to.includes(email) && !used.has(m.raw), 10_000);
    used.add(message.raw);
    return codeIn(message);
  }

  it('When a person registers, verifies the emailed code and signs in, then they are an employee', async () => {
    const client = newClient();
    await client.account.register(person);
    await assert.rejects(client.login(person), { status: 403, code: 'email_not_verified' });
    await assert.rejects(client.account.verifyEmail({ email: person.email, code: '000000' }), (err: WarrenProblem) => err.status === 400);
    await client.account.verifyEmail({ email: person.email, code: await codeFor(person.email) });
    const me = await client.login(person);
    assert.equal(me.user.role, 'employee');
    assert.equal(me.user.name, person.name);
    await client.logout();
  });

  it('When a password is reset with the emailed code, then the old sessions end and the new password works', async () => {
    const before = newClient();
    await before.login(person);
    const client = newClient();
    await client.account.forgotPassword(person.email);
    await client.account.forgotPassword('nobody@warren.test'); // the same answer for an unknown address
    const code = await codeFor(person.email);
    await assert.rejects(client.account.resetPassword({ email: person.email, code, newPassword: 'short' }), (err: WarrenProblem) => err.status === 400 && err.errors.length > 0);
    person.password = 'a new passphrase for nia 5';
    await client.account.resetPassword({ email: person.email, code, newPassword: person.password });
    await assert.rejects(before.refresh(), { status: 401 });
    assert.equal(before.session.state, 'ended');
    await client.login(person);
    await client.logout();
  });

  it('When a user lists their sessions and revokes another, then that one ends; logout-all ends this one', async () => {
    const here = newClient();
    const there = newClient();
    await here.login(person);
    await there.login(person);
    const sessions = await here.sessions.list();
    assert.equal(sessions.length, 2);
    const current = sessions.find((s) => s.current);
    const other = sessions.find((s) => !s.current);
    assert.ok(current && other);
    await here.sessions.revoke(other.id);
    await assert.rejects(there.refresh(), { status: 401 });
    assert.equal((await here.sessions.list()).length, 1);
    await assert.rejects(here.sessions.revoke('00000000-0000-4000-8000-000000000000'), { status: 404, code: 'session_not_found' });

    await here.sessions.logoutAll();
    assert.equal(here.session.state, 'signedOut');
    await assert.rejects(here.inbox.unreadCount(), { status: 401, code: 'not_signed_in' });
  });

  it('When the admin searches users and changes a role, then the change holds, and demoting the last admin is refused', async () => {
    const admin = newClient();
    const me = await admin.login(ADMIN);
    const found = await admin.users.search({ q: 'NIA' });
    const nia = found.items.find((u) => u.email === person.email);
    assert.ok(nia, 'found by a piece of the name, ignoring case');
    assert.equal(typeof nia.emailVerified, 'boolean', 'admins see the account state');
    const changed = await admin.users.changeRole(nia.id, 'manager');
    assert.equal(changed.role, 'manager');
    await assert.rejects(admin.users.changeRole(me.user.id, 'employee'), { status: 409, code: 'last_admin' });

    const manager = newClient();
    await manager.login(person);
    const page = await manager.users.search({ q: 'admin', limit: 1 });
    assert.equal(page.items.length, 1);
    await assert.rejects(manager.users.changeRole(nia.id, 'admin'), { status: 403 });
    await assert.rejects(manager.users.search({ q: 'x'.repeat(101) }), { status: 400 });
  });

  it('When a manager sends, then the status counts the recipients and the reads; a recipient can mark it unread again', async () => {
    const manager = newClient();
    await manager.login(person);
    const admin = newClient();
    const adminMe = await admin.login(ADMIN);
    const { id } = await manager.notifications.send({ recipients: { userIds: [adminMe.user.id] }, title: 'Status please', body: '' });
    let status = null as Awaited<ReturnType<WarrenClient['notifications']['status']>> | null;
    await until(async () => {
      status = await manager.notifications.status(id).catch(() => null);
      return status?.recipients === 1;
    }, 'the send to be stored');
    assert.equal(status!.read, 0);
    assert.equal(status!.sender?.name, person.name);

    const item = (await admin.inbox.list()).items.find((n) => n.notificationId === id);
    assert.ok(item);
    await admin.inbox.markRead(item.id);
    assert.equal((await manager.notifications.status(id)).read, 1);
    await admin.inbox.markUnread(item.id);
    assert.equal((await manager.notifications.status(id)).read, 0);
    assert.equal((await admin.inbox.list()).items.find((n) => n.id === item.id)?.readAt, null);
    await assert.rejects(newClient().notifications.status(id), { status: 401, code: 'not_signed_in' });
  });
});
