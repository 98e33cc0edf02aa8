/**
 * The notification database goes away for ~10 s (a routine restart) while users are verified
 * and re-roled: the user directory ends up with every change made during the outage, nothing is
 * dead-lettered, and role-addressed notifications reach both users afterwards. The database is a
 * private PostgreSQL cluster the test starts, stops and removes itself. (Notifications sent
 * during such an outage: the chaos table's row, test/chaos/databases.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqplib from 'amqplib';
import pg from 'pg';
import { topology } from '@warren/shared/contracts/topology';
import { RABBITMQ_URL } from '../support/env.js';
import { call, sleep } from '../support/http.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { login, startStack, type Stack } from '../support/stack.js';

/** How long "the database is down" lasts in each scenario. */
const OUTAGE_MS = 10_000;
const PASSWORD = 'a long enough passphrase 9';

describe('notification database outage', () => {
  let cluster: PrivatePostgres;
  let smtp: TestSmtpServer;
  let stack: Stack;
  let admin: Awaited<ReturnType<typeof login>>;

  before(async () => {
    cluster = await startPrivatePostgres();
    smtp = await startSmtpServer();
    stack = await startStack({ SMTP_URL: smtp.url, NOTIFICATION_DATABASE_URL: cluster.databaseUrl('warren_fault_notification') });
    admin = await login(stack);
  });
  after(async () => {
    await stack?.stop();
    await smtp?.stop();
    await cluster?.remove();
  });

  async function until(check: () => Promise<boolean>, what: string, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await sleep(250);
    }
    assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  /** Runs `sql` on the notification database (the private cluster). */
  async function notificationDb<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** Messages waiting in each queue of the notification service's dead-letter and delay queues. */
  async function queueDepths(queues: string[]): Promise<Record<string, number>> {
    const conn = await amqplib.connect(RABBITMQ_URL);
    try {
      const ch = await conn.createChannel();
      const out: Record<string, number> = {};
      for (const q of queues) out[q] = (await ch.checkQueue(q)).messageCount;
      return out;
    } finally {
      await conn.close();
    }
  }

  async function register(email: string): Promise<string> {
    assert.equal((await call(`${stack.mainUrl}/auth/register`, { body: { email, password: PASSWORD, name: 'Fault Tester' } })).status, 202);
    return codeIn(await smtp.waitForMessage((m) => m.envelope.to.includes(email), 15_000));
  }

  async function newUser(email: string) {
    const code = await register(email);
    assert.equal((await call(`${stack.mainUrl}/auth/verify-email`, { body: { email, code } })).status, 200);
    return login(stack, email, PASSWORD);
  }

  const usersInDirectory = async (ids: string[]) =>
    (await notificationDb<{ n: number }>('SELECT count(*)::int AS n FROM directory_users WHERE user_id = ANY($1)', [ids]))[0]?.n === ids.length;

  it('when a user is verified and another re-roled while the database is down, then both receive role-addressed notifications afterwards', { timeout: 180_000 }, async () => {
    // Arrange: one user registered (code in hand, not verified yet), another an employee.
    const newcomerEmail = 'newcomer@warren.test';
    const code = await register(newcomerEmail);
    const promoted = await newUser('promoted@warren.test');
    await until(() => usersInDirectory([promoted.user.id]), 'the employee in the directory', 30_000);
    const t = topology(stack.env.BROKER_NAMESPACE as string);
    const usersQueue = t.queues.notificationUsers.name;
    const retriedUsers = () =>
      stack.logs.notification.lines.filter((l) => l.message === 'message failed, will retry' && l.queue === usersQueue).length;
    const retriedBefore = retriedUsers();

    // Act: both changes while the notification database is down, for longer than the retries
    // inside one consumer used to last.
    await cluster.stop('fast');
    try {
      assert.equal((await call(`${stack.mainUrl}/auth/verify-email`, { body: { email: newcomerEmail, code } })).status, 200);
      const patched = await call(`${stack.mainUrl}/users/${promoted.user.id}`, { method: 'PATCH', token: admin.accessToken, body: { role: 'manager' } });
      assert.equal(patched.status, 200);
      await until(async () => retriedUsers() >= retriedBefore + 2, 'both user.upserted to meet the outage', 30_000);
      await sleep(OUTAGE_MS);
    } finally {
      await cluster.start();
    }

    // Assert: the directory catches up with both changes (fresh sessions: a role change may end the old ones)...
    const newcomer = await login(stack, newcomerEmail, PASSWORD);
    const promotedNow = await login(stack, 'promoted@warren.test', PASSWORD);
    await until(
      async () =>
        (
          await notificationDb<{ user_id: string; role: string }>('SELECT user_id, role FROM directory_users WHERE user_id = ANY($1)', [
            [newcomer.user.id, promoted.user.id],
          ])
        )
          .map((r) => `${r.user_id}:${r.role}`)
          .sort()
          .join() === [`${newcomer.user.id}:employee`, `${promoted.user.id}:manager`].sort().join(),
      'the directory to have both changes',
      60_000,
    );
    // ...so notifications addressed by role reach them...
    const toEmployees = await call<{ id: string }>(`${stack.mainUrl}/notifications`, {
      token: admin.accessToken,
      body: { recipients: { roles: ['employee'] }, title: 'for employees', body: 'after the outage' },
    });
    const toManagers = await call<{ id: string }>(`${stack.mainUrl}/notifications`, {
      token: admin.accessToken,
      body: { recipients: { roles: ['manager'] }, title: 'for managers', body: 'after the outage' },
    });
    assert.equal(toEmployees.status, 202);
    assert.equal(toManagers.status, 202);
    const titles = async (token: string) =>
      ((await call(`${stack.notificationUrl}/inbox`, { token })).body?.items ?? []).map((i: { title: string }) => i.title) as string[];
    await until(async () => (await titles(newcomer.accessToken)).includes('for employees'), 'the newcomer to get the employees notification', 30_000);
    await until(async () => (await titles(promotedNow.accessToken)).includes('for managers'), 'the promoted user to get the managers notification', 30_000);
    assert.ok(!(await titles(promotedNow.accessToken)).includes('for employees'), 'the promoted user is no longer an employee');
    // ...and no user.upserted was dead-lettered.
    const usersDeadLetters = t.queues.notificationUsers.deadLetterQueue;
    assert.equal((await queueDepths([usersDeadLetters]))[usersDeadLetters], 0);
  });
});
