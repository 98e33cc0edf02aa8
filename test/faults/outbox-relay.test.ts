/**
 * The auth service's outbox relay under faults, on a RabbitMQ node of the test's own. A user
 * change committed while the broker is down stays in the outbox (tried every round, never
 * lost, never marked published), and is published exactly once after the broker is back, in
 * time for the notification directory to act on it, and nothing is dead-lettered. A row that
 * can never publish (its payload fails its schema) is moved to the dead letters and reported,
 * the rows before and after it go out in order, and the operator command replays it once corrected.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqplib from 'amqplib';
import pg from 'pg';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { inTransaction } from '@warren/shared/db/database';
import { announce } from '../../services/auth/src/db/outbox-repository.js';
import { UsersRepository } from '../../services/auth/src/db/users-repository.js';
import { call } from '../support/http.js';
import { OUTBOX_DEAD_LETTERS_SCRIPT, runCommand } from '../support/operator-commands.js';
import { startPrivateRabbit, type PrivateRabbit } from '../support/private-rabbitmq.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

interface Announced {
  messageId: string;
  userId: string;
  role: string;
  version: number;
}

describe('the outbox relay under faults', () => {
  let rabbit: PrivateRabbit;
  let smtp: TestSmtpServer;
  let stack: Stack;
  let authDb: pg.Pool;
  let admin: Awaited<ReturnType<typeof login>>;
  let user: Awaited<ReturnType<typeof login>>;
  const credentials = { email: `relay-${randomUUID()}@warren.test`, password: `pw-${randomUUID()}` };
  /** A durable queue of our own bound to user.upserted: every announcement the relay publishes. */
  let probeQueue: string;

  before(async () => {
    rabbit = await startPrivateRabbit();
    smtp = await startSmtpServer();
    stack = await startStack({ RABBITMQ_URL: rabbit.url, SMTP_URL: smtp.url });
    authDb = new pg.Pool({ connectionString: stack.env.AUTH_DATABASE_URL, max: 2 });
    admin = await login(stack);
    const { email, password } = credentials;
    assert.equal((await call(`${stack.mainUrl}/auth/register`, { body: { email, password, name: 'Relay' } })).status, 202);
    const code = codeIn(await smtp.waitForMessage((m) => m.envelope.to.includes(email), 15_000));
    assert.equal((await call(`${stack.mainUrl}/auth/verify-email`, { body: { email, code } })).status, 200);
    user = await login(stack, email, password);

    const ns = stack.env.BROKER_NAMESPACE as string;
    probeQueue = `${ns}.test.user-upserted-probe`;
    const conn = await amqplib.connect(rabbit.url);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue(probeQueue, { durable: true });
      await ch.bindQueue(probeQueue, topology(ns).exchanges.events.name, ROUTING_KEYS.userUpserted);
      await ch.close();
    } finally {
      await conn.close();
    }
  });
  after(async () => {
    await authDb?.end();
    await stack?.stop();
    await smtp?.stop();
    await rabbit?.remove(); // the node's data, probe queue included, goes with it
  });

  /** Every announcement in the probe queue so far (taken off it). */
  const announced: Announced[] = [];
  async function drainProbe(): Promise<Announced[]> {
    const conn = await amqplib.connect(rabbit.url);
    try {
      const ch = await conn.createChannel();
      for (let msg = await ch.get(probeQueue, { noAck: true }); msg; msg = await ch.get(probeQueue, { noAck: true })) {
        const body = JSON.parse(msg.content.toString()) as Omit<Announced, 'messageId'>;
        announced.push({ messageId: msg.properties.messageId as string, userId: body.userId, role: body.role, version: body.version });
      }
      await ch.close();
    } finally {
      await conn.close();
    }
    return announced;
  }

  async function outboxRowsOf(userId: string): Promise<{ id: number; version: number; role: string; published: boolean }[]> {
    const { rows } = await authDb.query<{ id: number; version: string; role: string; published: boolean }>(
      `SELECT id, payload->>'version' AS version, payload->>'role' AS role, published_at IS NOT NULL AS published
       FROM outbox WHERE routing_key = 'user.upserted' AND payload->>'userId' = $1 ORDER BY id`,
      [userId],
    );
    return rows.map((r) => ({ ...r, version: Number(r.version) }));
  }

  /** Role-addressed sends until one reaches `who` (the directory has applied the role). */
  async function untilRoleReaches(role: string, who: Awaited<ReturnType<typeof login>>): Promise<void> {
    const marker = `to ${role}s ${randomUUID()}`;
    await until(async () => {
      const sent = await call(`${stack.mainUrl}/notifications`, {
        token: admin.accessToken,
        body: { recipients: { roles: [role] }, title: marker, body: 'probe' },
      });
      assert.equal(sent.status, 202);
      const inbox = await call(`${stack.notificationUrl}/inbox?limit=100`, { token: who.accessToken });
      return inbox.body.items.some((i: { title: string }) => i.title === marker);
    }, `a notification to the ${role}s to reach the user`, 30_000, 500);
  }

  it('When a user is re-roled while the broker is down, then the row waits in the outbox and is published exactly once after the broker is back', { timeout: 180_000 }, async () => {
    // Arrange: the user's creation was announced; the directory knows them as an employee
    await until(async () => (await outboxRowsOf(user.user.id)).every((r) => r.published), 'the creation to be published');
    const relayFailures = () => stack.logs.auth.lines.filter((l) => l.message === 'outbox relay round failed').length;

    // Act: the broker goes down; the change is committed in auth (as the role change RPC does)
    await rabbit.stop();
    const changed = await new UsersRepository(authDb).changeRole(user.user.id, 'manager');
    assert.deepEqual(changed, { previous: 'employee' });
    const pending = (await outboxRowsOf(user.user.id)).at(-1);
    assert.ok(pending && pending.role === 'manager' && !pending.published);

    // Assert 1: the relay tries, fails, and leaves the row unpublished (two failed rounds seen)
    const failuresBefore = relayFailures();
    await until(() => relayFailures() >= failuresBefore + 2, 'the relay to try (and fail) twice while the broker is down', 60_000, 100);
    assert.equal((await outboxRowsOf(user.user.id)).at(-1)?.published, false, 'not marked published while the broker is down');
    assert.equal((await authDb.query('SELECT 1 FROM outbox_dead_letters')).rowCount, 0, 'nor dead-lettered');

    // Act 2: the broker is back
    await rabbit.start();

    // Assert 2: published by itself, exactly once, and the directory acts on it (once every
    // service has reconnected: each does so on its own schedule)
    await until(async () => (await outboxRowsOf(user.user.id)).at(-1)?.published === true, 'the row to be published', 60_000, 250);
    await until(async () => {
      const ports = [stack.auth.port(), stack.main.port(), stack.notification.port()];
      const answers = await Promise.all(ports.map(async (p) => (await fetch(`http://127.0.0.1:${p}/readyz`)).status));
      return answers.every((s) => s === 200);
    }, 'every service to be ready again', 60_000, 250);
    // A role change may end the user's sessions: sign in again for the inbox reads.
    user = await login(stack, credentials.email, credentials.password);
    await untilRoleReaches('manager', user);
    const ofChange = (await drainProbe()).filter((a) => a.userId === user.user.id && a.version === pending.version);
    assert.equal(ofChange.length, 1, `the change was announced ${ofChange.length} times`);
    assert.equal(ofChange[0]?.role, 'manager');
    assert.equal((await authDb.query('SELECT 1 FROM outbox_dead_letters')).rowCount, 0, 'an outage dead-letters nothing');
  });

  it('When a drifted row sits between good ones, then it is dead-lettered, the rows before and after it publish in order, and a corrected replay goes out', { timeout: 120_000 }, async () => {
    // Arrange: in one transaction (so one relay batch), a user's v1, a row a drifted producer
    // wrote (as after a bad deploy), and the user's v2. The user is made up: the directory
    // just keeps one more entry.
    const phantom = randomUUID();
    const at = new Date().toISOString();
    const poison = await inTransaction(authDb, async (tx) => {
      await announce(tx, ROUTING_KEYS.userUpserted, [{ userId: phantom, role: 'employee', version: 1, occurredAt: at }]);
      const { rows } = await tx.query<{ id: number; messageId: string }>(
        `INSERT INTO outbox (routing_key, payload) VALUES ('user.upserted', $1) RETURNING id, message_id AS "messageId"`,
        [{ userId: phantom, role: 'overlord', version: 2, occurredAt: at }],
      );
      await announce(tx, ROUTING_KEYS.userUpserted, [{ userId: phantom, role: 'manager', version: 3, occurredAt: at }]);
      return rows[0] as { id: number; messageId: string };
    });

    // Assert: the good rows reach the broker, in order, the drifted one never does
    await until(async () => (await drainProbe()).filter((a) => a.userId === phantom).length >= 2, 'both good rows to reach the broker', 30_000);
    assert.deepEqual(announced.filter((a) => a.userId === phantom).map((a) => [a.version, a.role]), [[1, 'employee'], [3, 'manager']]);
    assert.ok(!announced.some((a) => a.messageId === poison.messageId));
    // ... it is a dead letter, with why, out of the outbox; counted and reported once, by id, not content
    const dead = await authDb.query<{ error: string }>('SELECT error FROM outbox_dead_letters WHERE outbox_id = $1', [poison.id]);
    assert.match(dead.rows[0]?.error ?? '', /^role: Invalid option/);
    assert.equal((await authDb.query('SELECT 1 FROM outbox WHERE id = $1', [poison.id])).rowCount, 0);
    const reports = stack.logs.auth.lines.filter((l) => l.outboxId === poison.id);
    assert.deepEqual(reports.map((l) => l.message), ['outbox row dead-lettered']);
    assert.ok(!JSON.stringify(stack.logs.auth.lines).includes('overlord'), 'the payload is not logged');
    const metrics = await (await fetch(`http://127.0.0.1:${stack.auth.port()}/metrics`)).text();
    assert.match(metrics, /^outbox_messages_dead_lettered_total\{routing_key="user\.upserted",reason="invalid",[^}]*\} 1$/m);

    // Act 2: the operator looks, replays (kept: it would fail again), corrects it, replays
    const command = (...args: string[]) => runCommand(OUTBOX_DEAD_LETTERS_SCRIPT, args, { ...stack.env, LOG_LEVEL: 'error' });
    const listed = await command('list');
    const refused = await command('replay', '--message-id', poison.messageId);
    await authDb.query(`UPDATE outbox_dead_letters SET payload = jsonb_set(payload, '{role}', '"admin"') WHERE message_id = $1`, [poison.messageId]);
    const replayed = await command('replay', '--message-id', poison.messageId);

    // Assert 2: published with its own message id; the directory ignores it (version 2 < 3)
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^outbox_dead_letters: 1 row\n${poison.id} {2}${poison.messageId} {2}user\\.upserted `));
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
    await until(async () => (await drainProbe()).some((a) => a.messageId === poison.messageId), 'the replayed row to reach the broker', 30_000);
    assert.deepEqual(announced.filter((a) => a.messageId === poison.messageId).map((a) => [a.version, a.role]), [[2, 'admin']]);
    assert.equal((await authDb.query('SELECT 1 FROM outbox_dead_letters')).rowCount, 0);
  });
});
