/**
 * Outside attacks on the per-service broker users (docs/decisions/0032-broker-users.md), on a
 * RabbitMQ node of the test's own with the generated users applied, the stack on its three users.
 *
 * Topic permissions are checked when a client publishes, never when the broker dead-letters: a
 * service whose user may declare a server-named queue (every replica subscription's) may give it
 * `x-dead-letter-exchange` (any exchange it may write to) and `x-dead-letter-routing-key` (any
 * key), and whatever expires there is re-published by the broker under that key. Main-backend's
 * user could so publish auth's `session.ended`; notification's user could call any auth method.
 * The broker marks such a copy with an `x-death` record, which nothing Warren publishes through
 * an exchange carries (a replay drops it): the consumers refuse those copies.
 *
 * An RPC server answers on the request's `reply-to` through the default exchange, which reaches
 * every queue by name: a caller naming another service's queue there made auth publish into it.
 * Auth answers only on direct reply-to addresses.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqplib, { type Channel } from 'amqplib';
import pg from 'pg';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { brokerUserName, type BrokerUser } from '@warren/shared/contracts/broker-users';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { passwordVariable } from '../../scripts/broker-permissions-output.js';
import { call, sleep } from '../support/http.js';
import { run } from '../support/private-processes.js';
import { startPrivateRabbit, type PrivateRabbit } from '../support/private-rabbitmq.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';
import { isolatedEnv, uniqueSuffix } from '../support/env.js';

const USERS: BrokerUser[] = ['auth', 'main-backend', 'notification', 'partner', 'operator'];

describe('broker users: escalation through dead-lettering and reply-to (private RabbitMQ node)', () => {
  let node: PrivateRabbit;
  let smtp: TestSmtpServer;
  let stack: Stack;
  let notificationDb: pg.Client;
  let ns: string;
  let t: ReturnType<typeof topology>;
  const passwords = Object.fromEntries(USERS.map((u) => [u, `pw-${randomBytes(12).toString('base64url')}`])) as Record<BrokerUser, string>;
  const urlOf = (user: BrokerUser) => `amqp://${encodeURIComponent(brokerUserName(ns, user))}:${passwords[user]}@127.0.0.1:${node.port}`;
  const employee = { email: 'eve@warren.test', password: `eve ${randomBytes(9).toString('base64url')}`, name: 'Eve' };
  let session: Awaited<ReturnType<typeof login>>;
  let admin: Awaited<ReturnType<typeof login>>;

  /** A connection and channel as `user`; errors recorded, not thrown. */
  async function channelAs(user: BrokerUser): Promise<{ ch: Channel; errors: string[]; close: () => Promise<void> }> {
    const conn = await amqplib.connect(urlOf(user));
    const errors: string[] = [];
    conn.on('error', (err: Error) => errors.push(err.message));
    const ch = await conn.createChannel();
    ch.on('error', (err: Error) => errors.push(err.message));
    return { ch, errors, close: () => conn.close().catch(() => undefined) };
  }

  before(async () => {
    node = await startPrivateRabbit();
    smtp = await startSmtpServer();
    const env = isolatedEnv(uniqueSuffix());
    ns = env.BROKER_NAMESPACE as string;
    t = topology(ns);
    const { stdout: script } = await run(process.execPath, ['--import', 'tsx', 'scripts/broker-permissions.ts', '--namespace', ns]);
    await run('sh', ['-c', script], {
      env: { ...process.env, ...node.ctlCommand.env, RABBITMQCTL: node.ctlCommand.command, ...Object.fromEntries(USERS.map((u) => [passwordVariable(u), passwords[u]])) },
      timeout: 180_000,
    });
    stack = await startStack(
      { ...env, RABBITMQ_URL: node.url, SMTP_URL: smtp.url },
      { auth: { RABBITMQ_URL: urlOf('auth') }, main: { RABBITMQ_URL: urlOf('main-backend') }, notification: { RABBITMQ_URL: urlOf('notification') } },
    );
    notificationDb = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await notificationDb.connect();
    assert.equal((await call(`${stack.mainUrl}/auth/register`, { body: employee })).status, 202);
    const mail = await smtp.waitForMessage((m) => m.envelope.to.includes(employee.email), 15_000);
    assert.equal((await call(`${stack.mainUrl}/auth/verify-email`, { body: { email: employee.email, code: codeIn(mail) } })).status, 200);
    session = await login(stack, employee.email, employee.password);
    admin = await login(stack);
  });

  after(async () => {
    await notificationDb?.end();
    await stack?.stop();
    await smtp?.stop();
    await node?.remove();
  });

  it('When main-backend\'s user dead-letters a copy of its own publish into session.ended, then no consumer takes it: the session lives', async () => {
    // Arrange: a server-named queue (allowed: main-backend's replica subscription) that dead-letters
    // into the events exchange under auth's key, bound for a key main-backend may bind and publish.
    const { ch, errors, close } = await channelAs('main-backend');
    const forged = { sessionId: session.session.id, userId: session.user.id, endedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 3_600_000).toISOString() };
    try {
      const { queue } = await ch.assertQueue('', {
        exclusive: true,
        arguments: { 'x-dead-letter-exchange': t.exchanges.events.name, 'x-dead-letter-routing-key': ROUTING_KEYS.sessionEnded, 'x-message-ttl': 0 },
      });
      await ch.bindQueue(queue, t.exchanges.events.name, ROUTING_KEYS.notificationRequested);

      // Act
      ch.publish(t.exchanges.events.name, ROUTING_KEYS.notificationRequested, Buffer.from(JSON.stringify(forged)), { contentType: 'application/json', messageId: randomUUID() });
      await sleep(2_500);
    } finally {
      await close();
    }

    // Assert: the broker let every step through (this is the hole), the consumers did not
    assert.deepEqual(errors, []);
    assert.equal((await notificationDb.query('SELECT 1 FROM ended_sessions WHERE session_id = $1', [session.session.id])).rowCount, 0, 'no ended session stored');
    assert.equal((await call(`${stack.mainUrl}/auth/me`, { token: session.accessToken })).status, 200, 'main-backend still accepts the session');
    assert.equal((await call(`${stack.notificationUrl}/inbox`, { token: session.accessToken })).status, 200, 'notification still accepts the session');
    assert.ok(
      stack.logs.notification.lines.some((l) => l.message === 'message dead-lettered' && l.queue === t.queues.notificationSessions.name && l.reason === 'unexpected_route'),
      'the sessions consumer refused the dead-lettered copy',
    );
  });

  it('When notification\'s user dead-letters a message into the RPC exchange as auth.users.change-role, then auth does not run it', async () => {
    // Arrange: notification may call auth.jwks and auth.users.lookup only; it may write to the
    // RPC exchange, the default exchange, and declare server-named queues.
    const { ch, errors, close } = await channelAs('notification');
    const request = { userId: admin.user.id, sessionId: admin.session.id, targetUserId: session.user.id, role: 'admin' };
    try {
      const { queue } = await ch.assertQueue('', {
        exclusive: true,
        arguments: { 'x-dead-letter-exchange': t.exchanges.rpc.name, 'x-dead-letter-routing-key': authRpc.changeRole.routingKey, 'x-message-ttl': 0 },
      });
      const replies: string[] = [];
      await ch.consume('amq.rabbitmq.reply-to', (m) => m && replies.push(m.content.toString()), { noAck: true });

      // Act
      ch.publish('', queue, Buffer.from(JSON.stringify(request)), { contentType: 'application/json', replyTo: 'amq.rabbitmq.reply-to', correlationId: randomUUID() });
      await sleep(2_500);
      assert.deepEqual(replies, [], 'auth answered the dead-lettered call');
    } finally {
      await close();
    }

    // Assert
    assert.deepEqual(errors, []);
    const me = await call(`${stack.mainUrl}/auth/me`, { token: session.accessToken });
    assert.equal(me.body.user?.role, 'employee', JSON.stringify(me.body));
  });

  it('When main-backend\'s user calls auth with reply-to naming another service\'s queue, then auth does not publish into it', async () => {
    // Arrange
    const { ch, errors, close } = await channelAs('main-backend');
    try {
      // Act: a valid call whose answer would go to notification's directory queue
      ch.publish(t.exchanges.rpc.name, authRpc.jwks.routingKey, Buffer.from('{}'), { contentType: 'application/json', replyTo: t.queues.notificationUsers.name, correlationId: randomUUID() });
      await until(() => stack.logs.auth.lines.some((l) => String(l.message).startsWith('rpc request with a reply address other than direct reply-to') ), 'auth refused the reply address', 10_000).catch(() => undefined);
      await sleep(1_500);
    } finally {
      await close();
    }

    // Assert
    assert.deepEqual(errors, []);
    assert.ok(!stack.logs.notification.lines.some((l) => l.message === 'message dead-lettered' && l.queue === t.queues.notificationUsers.name), 'nothing of auth reached notification.users');
    assert.ok(stack.logs.auth.lines.some((l) => String(l.message).startsWith('rpc request with a reply address other than direct reply-to')), 'auth says why it did not answer');
  });

  it('When the partner publishes bad notification requests (a NUL byte, not JSON, a 20 MB body, BCC to auth\'s keys), then each is dead-lettered or refused and the queue keeps moving', async () => {
    // Arrange
    const { ch, errors, close } = await channelAs('partner');
    const key = ROUTING_KEYS.notificationRequested;
    const request = (title: string) => ({ notificationId: randomUUID(), recipients: { userIds: [session.user.id] }, title, body: '', requestedAt: new Date().toISOString() });
    const ids = { nul: randomUUID(), notJson: randomUUID(), huge: randomUUID(), bcc: randomUUID() };
    const forgedUpsert = { userId: session.user.id, email: employee.email, name: 'Owned', role: 'admin', version: 999_999, occurredAt: new Date().toISOString() };
    const after = request('after the bad ones');
    try {
      // Act
      const props = (messageId: string) => ({ contentType: 'application/json', messageId, persistent: true });
      ch.publish(t.exchanges.events.name, key, Buffer.from(JSON.stringify(request('nul \u0000 byte'))), props(ids.nul));
      ch.publish(t.exchanges.events.name, key, Buffer.from('{"title": "unterminated'), props(ids.notJson));
      ch.publish(t.exchanges.events.name, key, Buffer.from(JSON.stringify(request('x'.repeat(20 * 1024 * 1024)))), props(ids.huge));
      ch.publish(t.exchanges.events.name, key, Buffer.from(JSON.stringify(forgedUpsert)), { ...props(ids.bcc), BCC: [ROUTING_KEYS.userUpserted, ROUTING_KEYS.emailRequested] });
      ch.publish(t.exchanges.events.name, key, Buffer.from(JSON.stringify(after)), props(after.notificationId));
      await until(async () => (await notificationDb.query('SELECT 1 FROM inbox_items WHERE notification_id = $1', [after.notificationId])).rowCount === 1, 'the good request stored after the bad ones', 30_000);
    } finally {
      await close();
    }

    // Assert
    assert.deepEqual(errors, []);
    const deadLettered = (id: string) => stack.logs.notification.lines.find((l) => l.message === 'message dead-lettered' && l.messageId === id && l.queue === t.queues.notificationRequests.name)?.reason;
    await until(() => [ids.nul, ids.notJson, ids.huge, ids.bcc].every((id) => deadLettered(id) !== undefined), 'every bad request dead-lettered');
    assert.deepEqual([ids.nul, ids.notJson, ids.huge].map(deadLettered), ['validation_failed', 'invalid_json', 'validation_failed']);
    assert.ok(stack.logs.notification.lines.some((l) => l.message === 'message dead-lettered' && l.messageId === ids.bcc && l.reason === 'unexpected_route' && l.queue === t.queues.notificationUsers.name), 'the BCC copy refused by the directory consumer');
    assert.equal((await notificationDb.query('SELECT role FROM directory_users WHERE user_id = $1', [session.user.id])).rows[0]?.role, 'employee');
    assert.equal((await call(`${stack.notificationUrl}/readyz`)).status, 200);
  });
});
