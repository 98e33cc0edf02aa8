/**
 * Rebuilding the notification service's user directory from auth (`npm run directory:rebuild`):
 * a user whose directory row was lost no longer receives role-addressed notifications; after
 * the rebuild, they do again, and users the directory still had keep their newer versions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPool } from '@warren/shared/db/database';
import { UsersRepository } from '../../services/auth/src/db/users-repository.js';
import { waitFor } from '../../shared/test/helpers.js';
import { call } from '../support/http.js';
import { captureLogs } from '../support/logs.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { REBUILD_DIRECTORY_SCRIPT, runCommand, type CommandResult } from '../support/operator-commands.js';


describe('rebuilding the user directory from auth (npm run directory:rebuild)', () => {
  let stack: Stack;
  let smtp: TestSmtpServer;
  let notificationDb: pg.Client;
  let admin: Awaited<ReturnType<typeof login>>;
  let employee: Awaited<ReturnType<typeof login>>;

  const rebuild = (...args: string[]): Promise<CommandResult> => runCommand(REBUILD_DIRECTORY_SCRIPT, args, { ...stack.env, LOG_LEVEL: 'error' });

  const directoryRow = async (userId: string) =>
    (await notificationDb.query<{ role: string; version: string }>('SELECT role, version FROM directory_users WHERE user_id = $1', [userId])).rows[0];
  const titles = async (token: string) =>
    ((await call(`${stack.notificationUrl}/inbox?limit=100`, { token })).body.items as { title: string }[]).map((n) => n.title);
  const sendToEveryone = async (title: string) => {
    const res = await call(`${stack.mainUrl}/notifications`, {
      token: admin.accessToken,
      body: { recipients: { roles: ['admin', 'employee'] }, title, body: 'to every admin and employee' },
    });
    assert.equal(res.status, 202);
  };

  before(async () => {
    smtp = await startSmtpServer();
    stack = await startStack({ SMTP_URL: smtp.url });
    admin = await login(stack);
    const email = 'directory.employee@warren.test';
    const password = 'a long enough passphrase 9';
    await call(`${stack.mainUrl}/auth/register`, { body: { email, password, name: 'Employee' } });
    const code = codeIn(await smtp.waitForMessage((m) => m.envelope.to.includes(email), 10_000));
    assert.equal((await call(`${stack.mainUrl}/auth/verify-email`, { body: { email, code } })).status, 200);
    employee = await login(stack, email, password);
    notificationDb = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await notificationDb.connect();
  });
  after(async () => {
    await notificationDb?.end().catch(() => undefined);
    await stack?.stop();
    await smtp?.stop();
  });

  it('When a user lost from the directory is re-announced, then role-addressed notifications reach them again', async () => {
    // Arrange: the employee is in the directory, then their row is lost
    await waitFor(async () => (await directoryRow(employee.user.id)) !== undefined, 'the employee in the directory', 10_000);
    await notificationDb.query('DELETE FROM directory_users WHERE user_id = $1', [employee.user.id]);
    await sendToEveryone('while lost');
    await waitFor(async () => (await titles(admin.accessToken)).includes('while lost'), 'the admin got "while lost"', 10_000);
    assert.deepEqual(await titles(employee.accessToken), [], 'the lost employee gets nothing by role');
    const adminBefore = await directoryRow(admin.user.id);

    // Act
    const result = await rebuild();

    // Assert
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^2 users announced through the outbox\nall published\n$/);
    await waitFor(async () => (await directoryRow(employee.user.id))?.role === 'employee', 'the employee back in the directory', 10_000);
    assert.deepEqual(await directoryRow(admin.user.id), adminBefore, 'a user the directory had is unchanged');
    await sendToEveryone('after the rebuild');
    await waitFor(async () => (await titles(employee.accessToken)).includes('after the rebuild'), 'the employee got "after the rebuild"', 10_000);
    assert.deepEqual(await titles(employee.accessToken), ['after the rebuild']);
  });

  it('When a user changed role after the directory had them, then a rebuild keeps the newer role (versions only grow)', async () => {
    // Arrange: the employee becomes a manager (version 2), and the directory has that
    const promoted = await call(`${stack.mainUrl}/users/${employee.user.id}`, { method: 'PATCH', token: admin.accessToken, body: { role: 'manager' } });
    assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    await waitFor(async () => (await directoryRow(employee.user.id))?.role === 'manager', 'the promotion in the directory', 10_000);
    const promotedRow = await directoryRow(employee.user.id);

    // Act
    const result = await rebuild('--wait', '30');

    // Assert
    assert.equal(result.code, 0, result.stderr);
    assert.equal(Number(promotedRow?.version), 2);
    await sendToEveryone('after the second rebuild');
    await waitFor(async () => (await titles(admin.accessToken)).includes('after the second rebuild'), 'the admin got it', 10_000);
    assert.deepEqual(await directoryRow(employee.user.id), promotedRow, 'still a manager, same version');
    assert.ok(!(await titles(employee.accessToken)).includes('after the second rebuild'), 'a manager is not addressed as an employee');
  });

  it('When users are announced a page at a time, then every user is announced exactly once', async () => {
    // Arrange: pages of one user, so the paging itself is exercised
    const { logger } = captureLogs('auth');
    const pool = createPool(stack.env.AUTH_DATABASE_URL as string, 1, logger);
    try {
      // Act
      const result = await new UsersRepository(pool).announceAll(1);

      // Assert
      assert.equal(result.users, 2);
      const { rows } = await pool.query<{ userId: string }>(
        `SELECT payload->>'userId' AS "userId" FROM outbox WHERE id BETWEEN $1 AND $2 ORDER BY id`,
        [result.firstOutboxId, result.lastOutboxId],
      );
      assert.deepEqual(rows.map((r) => r.userId).sort(), [admin.user.id, employee.user.id].sort());
    } finally {
      await pool.end();
    }
  });

  it('When an option is wrong, then it exits 1 with the usage and announces nothing', async () => {
    // Act
    const bad = await rebuild('--wait', 'soon');

    // Assert
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--wait must be a whole number of seconds/);
    assert.match(bad.stderr, /Usage: npm run directory:rebuild/);
  });
});
