/**
 * A broker user per service, and one for other teams (`partner`), on a RabbitMQ node of the
 * test's own: the users and permissions are made by `npm run broker:permissions` and applied by
 * running the script it prints against that node, as an operator would (docs/operations.md,
 * "Broker users"). The machine's shared broker is never given a user or a permission.
 *
 * The whole stack runs with the generated users (registration and its email, an email retried
 * through its delay queue, login, a send that reaches the socket and the inbox, a logout heard by
 * every replica, `npm run dlq` as the operator); then what each user may not do is tried: the partner publishing auth RPC requests, `session.ended`, `user.upserted`,
 * `email.requested`, live deliveries, or declaring, binding and reading Warren's queues; the
 * same keys reached through a CC header; main-backend's user publishing auth's events;
 * notification's user calling auth methods it does not use. Each is refused with ACCESS_REFUSED
 * (or, for CC, refused by the consumers) and nothing of it arrives. Last, a service started with
 * the wrong user stops at once naming the permission.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqplib, { type ConfirmChannel, type Options } from 'amqplib';
import pg from 'pg';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { brokerUserName, type BrokerUser } from '@warren/shared/contracts/broker-users';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { Broker } from '@warren/shared/messaging/broker';
import { RpcClient } from '@warren/shared/messaging/rpc-client';
import { loadMainConfig } from '../../services/main-backend/src/config.js';
import { createMainBackendService } from '../../services/main-backend/src/service.js';
import { loadNotificationConfig } from '../../services/notification/src/config.js';
import { createNotificationService } from '../../services/notification/src/service.js';
import { passwordVariable } from '../../scripts/broker-permissions-output.js';
import { call, sleep } from '../support/http.js';
import { captureLogs } from '../support/logs.js';
import { DLQ_SCRIPT, runCommand } from '../support/operator-commands.js';
import { run } from '../support/private-processes.js';
import { startPrivateRabbit, type PrivateRabbit } from '../support/private-rabbitmq.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { login, startStack, ADMIN, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';
import { openSocket, type TestSocket } from '../support/ws-client.js';
import { isolatedEnv, uniqueSuffix } from '../support/env.js';

const USERS: BrokerUser[] = ['auth', 'main-backend', 'notification', 'partner', 'operator'];

/** What a publish, declaration or consumption on a fresh channel came to: 'ok', or the broker's refusal. */
async function attempt(url: string, act: (ch: ConfirmChannel) => Promise<unknown>): Promise<string> {
  const conn = await amqplib.connect(url);
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createConfirmChannel();
    let closedWith: string | undefined;
    ch.on('error', (err: Error) => (closedWith = err.message));
    try {
      await act(ch);
      // A refused publish closes the channel asynchronously: a confirm round trip tells.
      await ch.waitForConfirms();
    } catch (err) {
      closedWith ??= (err as Error).message;
    }
    return closedWith ?? 'ok';
  } finally {
    await conn.close().catch(() => undefined);
  }
}

function publish(exchange: string, routingKey: string, body: unknown, props: Options.Publish = {}) {
  return (ch: ConfirmChannel) =>
    new Promise<void>((resolve, reject) =>
      ch.publish(exchange, routingKey, Buffer.from(JSON.stringify(body)), { contentType: 'application/json', messageId: randomUUID(), persistent: true, mandatory: true, ...props }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
}

const REFUSED = /ACCESS_REFUSED|ACCESS-REFUSED/;

describe('broker users per service (private RabbitMQ node)', () => {
  let node: PrivateRabbit;
  let smtp: TestSmtpServer;
  let stack: Stack;
  let notificationDb: pg.Client;
  let ns: string;
  const passwords = Object.fromEntries(USERS.map((u) => [u, `pw-${randomBytes(12).toString('base64url')}`])) as Record<BrokerUser, string>;
  const urlOf = (user: BrokerUser) => `amqp://${encodeURIComponent(brokerUserName(ns, user))}:${passwords[user]}@127.0.0.1:${node.port}`;
  let t: ReturnType<typeof topology>;

  // The employee who registers, and their live session.
  const employee = { email: 'erin@warren.test', password: `erin ${randomBytes(9).toString('base64url')}`, name: 'Erin' };
  let session: Awaited<ReturnType<typeof login>>;
  let socket: TestSocket;

  async function applyScript(namespace: string): Promise<string> {
    const { stdout: script } = await run(process.execPath, ['--import', 'tsx', 'scripts/broker-permissions.ts', '--namespace', namespace]);
    const { stdout } = await run('sh', ['-c', script], {
      env: {
        ...process.env,
        ...node.ctlCommand.env,
        RABBITMQCTL: node.ctlCommand.command,
        ...Object.fromEntries(USERS.map((u) => [passwordVariable(u), passwords[u]])),
      },
      timeout: 180_000,
    });
    return stdout;
  }

  before(async () => {
    node = await startPrivateRabbit();
    // The relay defers the first email to slow@ once: its retry goes through a delay queue.
    let deferred = 0;
    smtp = await startSmtpServer({ deferRecipient: (address) => (address === 'slow@warren.test' && deferred++ === 0 ? 451 : undefined) });
    const env = isolatedEnv(uniqueSuffix());
    ns = env.BROKER_NAMESPACE as string;
    t = topology(ns);
    const first = await applyScript(ns);
    assert.match(first, new RegExp(`user ${ns.replace(/\./g, '\\.')}\\.partner created`));
    // Run again (a topology change re-applied): permissions set anew, passwords kept.
    assert.match(await applyScript(ns), /exists: its password is unchanged/);
    stack = await startStack(
      // The node's guest: only the stack's own helpers and cleanup use it.
      { ...env, RABBITMQ_URL: node.url, SMTP_URL: smtp.url },
      { auth: { RABBITMQ_URL: urlOf('auth') }, main: { RABBITMQ_URL: urlOf('main-backend') }, notification: { RABBITMQ_URL: urlOf('notification') } },
    );
    notificationDb = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await notificationDb.connect();
  });

  after(async () => {
    socket?.close();
    await notificationDb?.end();
    await stack?.stop();
    await smtp?.stop();
    await node?.remove();
  });

  it('When every service connects with its own generated user, then registration emails a code, login works, a send reaches the socket and the inbox, and a logout is heard', async () => {
    // Each service is on the broker as its own user.
    const connections = await node.ctl('list_connections', 'user', '--silent');
    for (const u of ['auth', 'main-backend', 'notification'] as const) assert.ok(connections.includes(brokerUserName(ns, u)), `${u} connected as its user`);
    assert.ok(!connections.split('\n').some((line) => line.trim() === 'guest'), 'no service on the shared user');
    for (const url of [stack.mainUrl, stack.notificationUrl]) {
      const ready = await call(`${url}/readyz`);
      assert.equal(ready.status, 200, JSON.stringify(ready.body));
    }

    // Registration: auth publishes email.requested, notification sends it.
    assert.equal((await call(`${stack.mainUrl}/auth/register`, { body: employee })).status, 202);
    const mail = await smtp.waitForMessage((m) => m.envelope.to.includes(employee.email), 15_000);
    assert.equal((await call(`${stack.mainUrl}/auth/verify-email`, { body: { email: employee.email, code: codeIn(mail) } })).status, 200);
    session = await login(stack, employee.email, employee.password);
    await until(async () => (await notificationDb.query('SELECT 1 FROM directory_users WHERE user_id = $1', [session.user.id])).rowCount === 1, 'user.upserted in the directory');

    // A send: main-backend → notification → socket and inbox.
    socket = openSocket(`${stack.notificationWsUrl}?token=${session.accessToken}`);
    assert.equal((await socket.next()).type, 'ready');
    const admin = await login(stack);
    const sent = await call(`${stack.mainUrl}/notifications`, {
      token: admin.accessToken,
      body: { recipients: { userIds: [session.user.id] }, title: 'Per-service users', body: 'through least privilege' },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const frame = (await socket.next(10_000)) as { type: string; notification: { title: string } };
    assert.equal(frame.notification.title, 'Per-service users');
    const inbox = await call(`${stack.notificationUrl}/inbox`, { token: session.accessToken });
    assert.equal(inbox.body.items[0]?.title, 'Per-service users');

    // A logout: session.ended from auth's outbox, heard by notification (socket 4001, stored) and main-backend.
    const other = await login(stack, employee.email, employee.password);
    const doomed = openSocket(`${stack.notificationWsUrl}?token=${other.accessToken}`);
    assert.equal((await doomed.next()).type, 'ready');
    assert.equal((await call(`${stack.mainUrl}/auth/logout`, { method: 'POST', token: other.accessToken })).status, 204);
    assert.equal((await doomed.closed).code, 4001);
    await until(async () => (await notificationDb.query('SELECT 1 FROM ended_sessions WHERE session_id = $1', [other.session.id])).rowCount === 1, 'session.ended recorded');
    await until(async () => (await call(`${stack.mainUrl}/auth/me`, { token: other.accessToken })).status === 401, 'main-backend refuses the ended session');
    assert.equal((await call(`${stack.mainUrl}/auth/me`, { token: session.accessToken })).status, 200, 'the other session lives on');
  });

  it('When the relay defers an email, then notification\'s user sends the retry through the delay queue and the email goes out', async () => {
    // Act
    assert.equal((await call(`${stack.mainUrl}/auth/register`, { body: { email: 'slow@warren.test', password: `slow ${randomBytes(9).toString('base64url')}`, name: 'Slow' } })).status, 202);

    // Assert
    const mail = await smtp.waitForMessage((m) => m.envelope.to.includes('slow@warren.test'), 20_000);
    assert.match(mail.subject, /./);
    assert.ok(stack.logs.notification.lines.some((l) => l.message === 'message failed, will retry' && l.queue === t.queues.emailRequests.name), 'retried through a delay queue');
    assert.ok(!stack.logs.notification.lines.some((l) => l.message === 'the broker refused a publish' || l.message === 'could not send a failed message to its delay queue; requeued'));
  });

  it('When the partner user publishes a notification request, single or batch, then it is stored and delivered', async () => {
    // Act
    const notificationId = randomUUID();
    const single = await attempt(
      urlOf('partner'),
      publish(t.exchanges.events.name, ROUTING_KEYS.notificationRequested, {
        notificationId,
        recipients: { userIds: [session.user.id] },
        title: 'From another team',
        body: 'published with the partner user',
        requestedAt: new Date().toISOString(),
      }, { messageId: notificationId, type: ROUTING_KEYS.notificationRequested }),
    );
    const batch = await attempt(
      urlOf('partner'),
      publish(t.exchanges.events.name, ROUTING_KEYS.notificationBatchRequested, {
        notifications: [{ notificationId: randomUUID(), recipients: { userIds: [session.user.id] }, title: 'A batch from another team', body: '' }],
        requestedAt: new Date().toISOString(),
      }),
    );

    // Assert
    assert.equal(single, 'ok');
    assert.equal(batch, 'ok');
    const frames = [(await socket.next(10_000)) as { notification: { title: string } }, (await socket.next(10_000)) as { notification: { title: string } }];
    assert.deepEqual(frames.map((f) => f.notification.title).sort(), ['A batch from another team', 'From another team']);
  });

  it('When the partner user publishes auth RPC requests, auth\'s events, live deliveries or straight into a queue, then each is refused and nothing arrives', async () => {
    // Arrange
    const admin = await login(stack);
    const now = new Date().toISOString();
    const mailsBefore = smtp.messages.length;
    const { rows: [dirBefore] } = await notificationDb.query('SELECT name, version FROM directory_users WHERE user_id = $1', [admin.user.id]);
    const rpcProps = { replyTo: 'amq.rabbitmq.reply-to', correlationId: randomUUID(), expiration: '5000', persistent: false };

    // Act
    const outcomes = {
      // A login as if from another client address, sidestepping that address's throttling.
      login: await attempt(urlOf('partner'), publish(t.exchanges.rpc.name, authRpc.login.routingKey, { email: ADMIN.email, password: 'guess', ip: '203.0.113.9' }, rpcProps)),
      changeRole: await attempt(
        urlOf('partner'),
        publish(t.exchanges.rpc.name, authRpc.changeRole.routingKey, { userId: admin.user.id, sessionId: admin.session.id, targetUserId: session.user.id, role: 'admin' }, rpcProps),
      ),
      retiredRpcExchange: await attempt(urlOf('partner'), publish(`${ns}.rpc`, authRpc.changeRole.routingKey, {}, rpcProps)),
      sessionEnded: await attempt(
        urlOf('partner'),
        publish(t.exchanges.events.name, ROUTING_KEYS.sessionEnded, { sessionId: session.session.id, userId: session.user.id, endedAt: now, expiresAt: new Date(Date.now() + 3_600_000).toISOString() }),
      ),
      userUpserted: await attempt(
        urlOf('partner'),
        publish(t.exchanges.events.name, ROUTING_KEYS.userUpserted, { userId: admin.user.id, role: 'employee', name: 'Mallory', version: 999_999, occurredAt: now }),
      ),
      emailRequested: await attempt(
        urlOf('partner'),
        publish(t.exchanges.events.name, ROUTING_KEYS.emailRequested, { to: 'victim@warren.test', template: 'password_reset', variables: { code: '123456' }, requestedAt: now }),
      ),
      wildcard: await attempt(urlOf('partner'), publish(t.exchanges.events.name, '#', {})),
      live: await attempt(urlOf('partner'), publish(t.exchanges.live.name, '', { kind: 'stored', entries: [] })),
      defaultExchange: await attempt(urlOf('partner'), publish('', t.queues.notificationSessions.name, {})),
      deadLetters: await attempt(urlOf('partner'), publish(t.exchanges.deadLetters.name, t.queues.notificationUsers.name, {})),
    };

    // Assert
    for (const [what, outcome] of Object.entries(outcomes)) assert.match(outcome, REFUSED, what);
    assert.match(outcomes.sessionEnded, /access to topic 'session\.ended' in exchange/);
    await sleep(1_000);
    assert.equal((await call(`${stack.mainUrl}/auth/me`, { token: session.accessToken })).status, 200, 'the session still lives');
    assert.equal((await call(`${stack.mainUrl}/auth/me`, { token: session.accessToken })).body.user.role, 'employee', 'no role changed');
    const { rows: [dirAfter] } = await notificationDb.query('SELECT name, version FROM directory_users WHERE user_id = $1', [admin.user.id]);
    assert.deepEqual(dirAfter, dirBefore, 'the directory entry unchanged');
    assert.equal(smtp.messages.length, mailsBefore, 'no email sent');
    await assert.rejects(socket.next(500), /no frame/, 'nothing on the socket');
  });

  it('When the partner user declares, binds or reads Warren\'s queues, then each is refused', async () => {
    const outcomes = {
      declare: await attempt(urlOf('partner'), (ch) => ch.assertQueue(t.queues.emailRequests.name, { durable: true, arguments: { 'x-queue-type': 'quorum' } })),
      declareExchange: await attempt(urlOf('partner'), (ch) => ch.assertExchange(t.exchanges.events.name, 'topic', { durable: true })),
      serverNamed: await attempt(urlOf('partner'), (ch) => ch.assertQueue('', { exclusive: true })),
      bind: await attempt(urlOf('partner'), (ch) => ch.bindQueue(t.queues.notificationRequests.name, t.exchanges.events.name, '#')),
      consume: await attempt(urlOf('partner'), (ch) => ch.consume(t.queues.emailRequests.name, () => undefined)),
      get: await attempt(urlOf('partner'), (ch) => ch.get(t.queues.emailRequests.deadLetterQueue)),
      purge: await attempt(urlOf('partner'), (ch) => ch.purgeQueue(t.queues.notificationRequests.name)),
      delete: await attempt(urlOf('partner'), (ch) => ch.deleteQueue(t.queues.notificationSessions.name)),
    };
    for (const [what, outcome] of Object.entries(outcomes)) assert.match(outcome, REFUSED, what);
    // A passive check needs no permission (RabbitMQ 3.x; 4.3.1 and later: any permission on the vhost): a partner may see that the route exists.
    assert.equal(await attempt(urlOf('partner'), (ch) => ch.checkExchange(t.exchanges.events.name)), 'ok');
  });

  it('When the partner adds auth\'s keys to an allowed publish with a CC header, then the consumers refuse those copies: the session lives and nothing else happens', async () => {
    // Arrange: a body that is a valid session.ended for the employee's live session
    const forged = { sessionId: session.session.id, userId: session.user.id, endedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 3_600_000).toISOString() };

    // Act: allowed key, plus the forbidden ones in CC (RabbitMQ before 4.0.3 checks only the routing key)
    const outcome = await attempt(
      urlOf('partner'),
      publish(t.exchanges.events.name, ROUTING_KEYS.notificationRequested, forged, { CC: [ROUTING_KEYS.sessionEnded, ROUTING_KEYS.userUpserted, ROUTING_KEYS.emailRequested] }),
    );

    // Assert: refused by a broker that checks CC (4.0.3 and later), or delivered and refused by every consumer
    if (outcome !== 'ok') assert.match(outcome, REFUSED);
    else {
      // The copy under the allowed key is handled (its body is no notification: dead-lettered as invalid).
      const handled = (queue: string, reason: string) => stack.logs.notification.lines.some((l) => l.message === 'message dead-lettered' && l.queue === queue && l.reason === reason);
      await until(() => handled(t.queues.notificationRequests.name, 'validation_failed'), 'the allowed copy handled');
      await sleep(1_500);
    }
    assert.equal((await call(`${stack.mainUrl}/auth/me`, { token: session.accessToken })).status, 200, 'main-backend still accepts the session');
    assert.equal((await call(`${stack.notificationUrl}/inbox`, { token: session.accessToken })).status, 200, 'notification still accepts the session');
    assert.equal((await notificationDb.query('SELECT 1 FROM ended_sessions WHERE session_id = $1', [session.session.id])).rowCount, 0, 'no ended session stored');
    assert.equal(socket.ws.readyState, socket.ws.OPEN, 'the socket stays open');
    if (outcome === 'ok') {
      const refused = (queue: string) => stack.logs.notification.lines.some((l) => l.message === 'message dead-lettered' && l.reason === 'unexpected_route' && l.queue === queue);
      assert.ok(refused(t.queues.notificationSessions.name), 'the sessions consumer refused the CC copy');
      assert.ok(refused(t.queues.emailRequests.name) && refused(t.queues.notificationUsers.name), 'so did the email and directory consumers');
      assert.ok(stack.logs.main.lines.some((l) => String(l.message).startsWith('message not routed by the subscription')), 'main-backend\'s replica ignored it');
    }
  });

  it('When the operator runs npm run dlq with its user, then it lists and replays dead letters, and may not take from a work queue or call auth', async () => {
    // Arrange: a notification request that can never be stored (no title) is dead-lettered
    const env = { ...stack.env, RABBITMQ_URL: urlOf('operator') };
    const dead = randomUUID();
    assert.equal(
      await attempt(urlOf('partner'), publish(t.exchanges.events.name, ROUTING_KEYS.notificationRequested, { notificationId: dead, recipients: { userIds: [session.user.id] }, body: 'no title' }, { messageId: dead })),
      'ok',
    );
    await until(() => stack.logs.notification.lines.some((l) => l.message === 'message dead-lettered' && l.messageId === dead), 'the bad request dead-lettered');

    // Act
    const counts = await runCommand(DLQ_SCRIPT, ['list', '--json'], env);
    const listed = await runCommand(DLQ_SCRIPT, ['list', 'notification.requests', '--json'], env);
    const replay = await runCommand(DLQ_SCRIPT, ['replay', 'notification.requests', '--limit', '1', '--json'], env);

    // Assert
    assert.equal(counts.code, 0, counts.stderr);
    const byQueue = Object.fromEntries((JSON.parse(counts.stdout) as { queue: string; deadLetters: number | null }[]).map((c) => [c.queue, c.deadLetters]));
    assert.ok((byQueue[t.queues.notificationRequests.deadLetterQueue] ?? 0) >= 1, counts.stdout);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(replay.code, 0, replay.stderr);
    assert.equal((JSON.parse(replay.stdout) as { replayed: unknown[] }).replayed.length, 1);
    assert.match(await attempt(urlOf('operator'), (ch) => ch.consume(t.queues.notificationRequests.name, () => undefined)), REFUSED);
    assert.match(await attempt(urlOf('operator'), publish(t.exchanges.rpc.name, authRpc.changeRole.routingKey, {})), REFUSED);
    assert.match(await attempt(urlOf('operator'), (ch) => ch.assertQueue(t.queues.notificationRequests.deadLetterQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } })), REFUSED);
  });

  it('When main-backend\'s user publishes auth\'s events or live deliveries, then each is refused', async () => {
    const now = new Date().toISOString();
    const outcomes = {
      userUpserted: await attempt(urlOf('main-backend'), publish(t.exchanges.events.name, ROUTING_KEYS.userUpserted, { userId: session.user.id, role: 'admin', version: 999_999, occurredAt: now })),
      sessionEnded: await attempt(urlOf('main-backend'), publish(t.exchanges.events.name, ROUTING_KEYS.sessionEnded, { sessionId: session.session.id, userId: session.user.id, endedAt: now, expiresAt: now })),
      emailRequested: await attempt(urlOf('main-backend'), publish(t.exchanges.events.name, ROUTING_KEYS.emailRequested, { to: 'x@warren.test', template: 'verify_email', variables: { code: '123456' }, requestedAt: now })),
      live: await attempt(urlOf('main-backend'), publish(t.exchanges.live.name, '', {})),
      defaultExchange: await attempt(urlOf('main-backend'), publish('', t.queues.notificationUsers.name, {})),
      lookup: await attempt(urlOf('main-backend'), publish(t.exchanges.rpc.name, authRpc.lookupUsers.routingKey, { userIds: [session.user.id] }, { replyTo: 'amq.rabbitmq.reply-to', correlationId: '1' })),
    };
    for (const [what, outcome] of Object.entries(outcomes)) assert.match(outcome, REFUSED, what);
    assert.equal((await notificationDb.query('SELECT role FROM directory_users WHERE user_id = $1', [session.user.id])).rows[0]?.role, 'employee');
  });

  it('When notification\'s user calls auth, then users.lookup and the keys are answered and every other method is refused', async () => {
    // Arrange: the kit's RPC client, as the notification service has it, on notification's user
    const broker = new Broker({ url: urlOf('notification'), connectionName: `${ns}:test-rpc`, logger: captureLogs('rpc-test').logger });
    const client = new RpcClient({ broker, logger: captureLogs('rpc-test').logger, exchange: t.exchanges.rpc, timeoutMs: 10_000 });
    try {
      await client.waitReady();

      // Act + Assert: what it uses
      const found = await client.call(authRpc.lookupUsers, { userIds: [session.user.id] });
      assert.deepEqual(found.users.map((u) => u.userId), [session.user.id]);
      assert.ok((await client.call(authRpc.jwks, {})).keys.length > 0);
    } finally {
      await client.close();
      await broker.close();
    }
    // What it does not
    const rpcProps = { replyTo: 'amq.rabbitmq.reply-to', correlationId: randomUUID(), persistent: false };
    for (const m of [authRpc.changeRole, authRpc.login, authRpc.listUsers, authRpc.sessionActive, authRpc.logoutAll]) {
      assert.match(await attempt(urlOf('notification'), publish(t.exchanges.rpc.name, m.routingKey, {}, rpcProps)), REFUSED, m.routingKey);
    }
    for (const key of [ROUTING_KEYS.userUpserted, ROUTING_KEYS.sessionEnded, ROUTING_KEYS.notificationRequested]) {
      assert.match(await attempt(urlOf('notification'), publish(t.exchanges.events.name, key, {})), REFUSED, key);
    }
  });

  it('When a service starts with a user that lacks a permission, then its start fails at once naming the permission, and the log says it', async () => {
    for (const { name, create } of [
      { name: 'main-backend as partner', create: (logger: ReturnType<typeof captureLogs>['logger']) => createMainBackendService(loadMainConfig({ ...stack.env, RABBITMQ_URL: urlOf('partner') }), { logger }) },
      { name: 'notification as main-backend', create: (logger: ReturnType<typeof captureLogs>['logger']) => createNotificationService(loadNotificationConfig({ ...stack.env, RABBITMQ_URL: urlOf('main-backend') }), { logger }) },
    ]) {
      const logs = captureLogs(name);
      const service = create(logs.logger);
      const started = Date.now();
      await assert.rejects(service.start(), (err: Error) => /the broker refused an operation that needs (configure|write|read) on /.test(err.message) && /refused for user/.test(err.message), name);
      assert.ok(Date.now() - started < 15_000, `${name}: failed at once, not after a timeout`);
      assert.ok(logs.lines.some((l) => l.message === 'the broker refused a permission' && typeof l.needs === 'string'), `${name}: logged with the permission`);
      await service.stop();
    }
  });

  it('When a service\'s broker password is wrong, or its user has no permissions on the vhost, then its start fails saying so', async () => {
    // Arrange: a user that exists but was never given permissions (set_permissions forgotten)
    await node.ctl('add_user', `${ns}.forgotten`, 'its password');
    const cases = [
      { url: urlOf('main-backend').replace(passwords['main-backend'], 'not-the-password'), why: /Login was refused/ },
      { url: `amqp://${ns}.forgotten:${encodeURIComponent('its password')}@127.0.0.1:${node.port}`, why: /no permissions on the URL's vhost/ },
    ];
    for (const { url, why } of cases) {
      const logs = captureLogs('wrong-user');
      const service = createMainBackendService(loadMainConfig({ ...stack.env, RABBITMQ_URL: url }), { logger: logs.logger });
      await assert.rejects(service.start(), (err: Error) => /could not connect to RabbitMQ/.test(err.message) && why.test(err.message), String(why));
      await service.stop();
    }
  });

  it('When the definitions form is imported for another namespace, then RabbitMQ takes it and a user logs in with its password', async () => {
    // Arrange
    const other = `warren.test-${uniqueSuffix()}`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/broker-permissions.ts', '--namespace', other, '--format', 'definitions'], {
      env: { ...process.env, [passwordVariable('partner')]: 'partner of the other' },
    });
    const file = join(tmpdir(), `warren-definitions-${process.pid}-${uniqueSuffix()}.json`);
    writeFileSync(file, stdout);

    // Act (the file holds a password hash: it goes at once)
    try {
      await node.ctl('import_definitions', file);
    } finally {
      rmSync(file, { force: true });
    }

    // Assert
    await until(async () => (await node.ctl('list_topic_permissions', '--silent')).includes(`${other}.partner`), 'the import applied', 30_000);
    const topics = (await node.ctl('list_topic_permissions', '--silent')).split('\n').filter((l) => l.startsWith(`${other}.partner\t`));
    assert.deepEqual(topics.map((l) => l.split('\t').slice(1)).sort(), [
      [`${other}.events`, '^(notification\\.batch\\.requested|notification\\.requested)$', '^$'],
      [`${other}.rpc.methods`, '^$', '^$'],
    ]);
    const conn = await amqplib.connect(`amqp://${other}.partner:${encodeURIComponent('partner of the other')}@127.0.0.1:${node.port}`);
    await conn.close();
    await assert.rejects(amqplib.connect(`amqp://${other}.auth:anything@127.0.0.1:${node.port}`), 'a user without a password cannot log in');
  });
});
