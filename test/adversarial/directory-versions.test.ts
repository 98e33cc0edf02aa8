/**
 * The notification service's user directory keeps the newest version of each user: a late
 * `user.upserted` (an older version) or a repeated one (the same version, even with another
 * role) published straight to the broker changes nothing, so a stale or replayed event can
 * neither demote nor promote anyone; a newer version still applies. Role-addressed sends show
 * the effect through the public API; the directory table is read only to know when the
 * events before a sentinel have been consumed (no fixed wait).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { userUpsertedSchema, type UserUpserted } from '@warren/shared/contracts/users';
import { Broker } from '@warren/shared/messaging/broker';
import { Publisher } from '@warren/shared/messaging/publisher';
import { routeResources } from '@warren/shared/messaging/topology';
import { RABBITMQ_URL } from '../support/env.js';
import { call } from '../support/http.js';
import { captureLogs } from '../support/logs.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

describe('user directory versions', () => {
  let smtp: TestSmtpServer;
  let stack: Stack;
  let broker: Broker;
  let publisher: Publisher;
  let notificationDb: pg.Pool;
  let admin: Awaited<ReturnType<typeof login>>;
  let user: Awaited<ReturnType<typeof login>>;
  const credentials = { email: `versions-${randomUUID()}@warren.test`, password: `pw-${randomUUID()}` };

  before(async () => {
    smtp = await startSmtpServer();
    stack = await startStack({ SMTP_URL: smtp.url });
    admin = await login(stack);
    const { email, password } = credentials;
    await call(`${stack.mainUrl}/auth/register`, { body: { email, password, name: 'Versions' } });
    const code = codeIn(await smtp.waitForMessage((m) => m.envelope.to.includes(email), 15_000));
    assert.equal((await call(`${stack.mainUrl}/auth/verify-email`, { body: { email, code } })).status, 200);
    user = await login(stack, email, password);
    const { logger } = captureLogs('test-publisher');
    broker = new Broker({ url: RABBITMQ_URL, connectionName: `${stack.env.BROKER_NAMESPACE}:test-directory`, logger });
    await broker.waitConnected(10_000);
    publisher = new Publisher({ broker, logger, declares: routeResources(topology(stack.env.BROKER_NAMESPACE as string).events.userUpserted) });
    notificationDb = new pg.Pool({ connectionString: stack.env.NOTIFICATION_DATABASE_URL, max: 1 });
  });
  after(async () => {
    await publisher?.close();
    await broker?.close();
    await notificationDb?.end();
    await stack?.stop();
    await smtp?.stop();
  });

  const announce = (e: Omit<UserUpserted, 'occurredAt'>) =>
    publisher.publish(topology(stack.env.BROKER_NAMESPACE as string).exchanges.events.name, ROUTING_KEYS.userUpserted, userUpsertedSchema, {
      ...e,
      occurredAt: new Date().toISOString(),
    });

  async function directoryRow(userId: string): Promise<{ role: string; version: number } | undefined> {
    const { rows } = await notificationDb.query<{ role: string; version: string }>('SELECT role, version FROM directory_users WHERE user_id = $1', [userId]);
    return rows[0] && { role: rows[0].role, version: Number(rows[0].version) };
  }

  /** Publishes a sentinel for a user nobody else touches and waits until the directory has it. */
  async function settle(): Promise<void> {
    const sentinel = randomUUID();
    await announce({ userId: sentinel, role: 'employee', version: 1 });
    await until(async () => (await directoryRow(sentinel)) !== undefined, 'the sentinel to be consumed', 15_000);
  }

  /** Whether a send addressed to `role` reaches the user (waits until it is stored anywhere). */
  async function roleReachesUser(role: string): Promise<boolean> {
    const marker = `to ${role}s ${randomUUID()}`;
    const sent = await call(`${stack.mainUrl}/notifications`, {
      token: admin.accessToken,
      body: { recipients: { roles: [role], userIds: [admin.user.id] }, title: marker, body: 'probe' },
    });
    assert.equal(sent.status, 202);
    // Stored in one transaction for all recipients: once the admin has it, the user has it or never will.
    await until(async () => (await call(`${stack.notificationUrl}/inbox?limit=100`, { token: admin.accessToken })).body.items.some((i: { title: string }) => i.title === marker), 'the probe to be stored');
    const inbox = await call(`${stack.notificationUrl}/inbox?limit=100`, { token: user.accessToken });
    return inbox.body.items.some((i: { title: string }) => i.title === marker);
  }

  it('When older or repeated user.upserted events arrive after a role change, then the directory keeps the newest and role-addressed sends follow it', async () => {
    // Arrange: the user is promoted to manager through the API; the directory learns it
    const promoted = await call(`${stack.mainUrl}/users/${user.user.id}`, { method: 'PATCH', token: admin.accessToken, body: { role: 'manager' } });
    assert.equal(promoted.status, 200);
    // A role change may end the user's sessions: sign in again for the inbox reads below.
    user = await login(stack, credentials.email, credentials.password);
    await until(async () => (await directoryRow(user.user.id))?.role === 'manager', 'the directory to learn the promotion', 15_000);
    const current = (await directoryRow(user.user.id))?.version as number;
    assert.ok(current >= 2, `version ${current}`);

    // Act: a late event (older version, the old role), a repeat of the current version carrying
    // another role, and an exact repeat, all straight to the broker
    await announce({ userId: user.user.id, role: 'employee', version: current - 1 });
    await announce({ userId: user.user.id, role: 'admin', version: current });
    await announce({ userId: user.user.id, role: 'manager', version: current });
    await settle();

    // Assert: nothing changed
    assert.deepEqual(await directoryRow(user.user.id), { role: 'manager', version: current });
    assert.equal(await roleReachesUser('manager'), true, 'still a manager for role-addressed sends');
    assert.equal(await roleReachesUser('employee'), false, 'the late event did not demote');
    assert.equal(await roleReachesUser('admin'), false, 'the repeated version did not promote');
  });

  it('When a newer version arrives, then it applies (the events above were refused for their version, not ignored wholesale)', async () => {
    // Arrange
    const current = (await directoryRow(user.user.id))?.version as number;

    // Act
    await announce({ userId: user.user.id, role: 'employee', version: current + 1 });

    // Assert
    await until(async () => (await directoryRow(user.user.id))?.version === current + 1, 'the newer version to apply', 15_000);
    assert.equal((await directoryRow(user.user.id))?.role, 'employee');
    assert.equal(await roleReachesUser('employee'), true);
    assert.equal(await roleReachesUser('manager'), false);
  });

  it('When a batch carries several versions of one user out of order, then the highest wins', async () => {
    // Arrange
    const someone = randomUUID();

    // Act: published back to back (the directory consumer takes them in one batch or several)
    for (const [role, version] of [['manager', 5], ['admin', 7], ['employee', 6], ['employee', 3]] as const) {
      await announce({ userId: someone, role, version });
    }
    await settle();

    // Assert
    assert.deepEqual(await directoryRow(someone), { role: 'admin', version: 7 });
  });
});
