/**
 * The limits on the partner user (shared/src/contracts/broker-limits.ts) on a RabbitMQ node of the
 * test's own, applied by running what `npm run broker:permissions` prints, as an operator would.
 * The machine's shared broker is never given a user, a policy or a limit.
 *
 * The attack: the partner floods `<ns>.notification.requests` with large messages to fill the
 * broker until its memory or disk alarm blocks every service's publishes. With a small byte limit
 * (so the test stays small): the partner's publish past it is nacked, the queue keeps what it had,
 * auth's user still publishes elsewhere (no broker-wide block; main-backend's own notification
 * requests wait for room in the same queue), notification's user still
 * consumes the earlier messages in order and its rejections still dead-letter, and once drained
 * the partner publishes again. The partner's connection past its limit, and channel past its
 * limit, are refused. The definitions form carries the same policy and limits.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { brokerUserName, type BrokerUser } from '@warren/shared/contracts/broker-users';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { declareTopology } from '@warren/shared/messaging/topology';
import { passwordVariable } from '../../scripts/broker-permissions-output.js';
import { run } from '../support/private-processes.js';
import { startPrivateRabbit, type PrivateRabbit } from '../support/private-rabbitmq.js';
import { until } from '../support/wait.js';
import { uniqueSuffix } from '../support/env.js';

const USERS: BrokerUser[] = ['auth', 'main-backend', 'notification', 'partner', 'operator'];
const LIMIT_BYTES = 64 * 1024;
const BODY_BYTES = 8 * 1024;
const MAX_CONNECTIONS = 2;
const MAX_CHANNELS = 3;

/** Publishes with a confirm: 'ack' or 'nack'. */
function confirmed(ch: ConfirmChannel, exchange: string, routingKey: string, body: Buffer): Promise<'ack' | 'nack'> {
  return new Promise((resolve) => ch.publish(exchange, routingKey, body, { persistent: true, messageId: randomUUID() }, (err) => resolve(err ? 'nack' : 'ack')));
}

describe('limits on the partner user (private RabbitMQ node)', () => {
  let node: PrivateRabbit;
  let ns: string;
  let t: ReturnType<typeof topology>;
  const passwords = Object.fromEntries(USERS.map((u) => [u, `pw-${randomBytes(12).toString('base64url')}`])) as Record<BrokerUser, string>;
  const urlOf = (user: BrokerUser) => `amqp://${encodeURIComponent(brokerUserName(ns, user))}:${passwords[user]}@127.0.0.1:${node.port}`;
  const open: ChannelModel[] = [];
  async function connectAs(user: BrokerUser): Promise<ChannelModel> {
    const conn = await amqplib.connect(urlOf(user));
    conn.on('error', () => undefined);
    open.push(conn);
    return conn;
  }
  const queueRow = async (name: string) =>
    (await node.ctl('list_queues', '--silent', '-p', '/', 'name', 'messages', 'policy', 'arguments')).split('\n').find((l) => l.startsWith(`${name}\t`)) ?? '';
  const depth = async (name: string) => Number((await queueRow(name)).split('\t')[1]);

  before(async () => {
    node = await startPrivateRabbit();
    ns = `warren.limits${uniqueSuffix().replace(/[^a-z0-9]/g, '').slice(0, 12)}`;
    t = topology(ns);
    const flags = ['--partner-queue-bytes', String(LIMIT_BYTES), '--partner-max-connections', String(MAX_CONNECTIONS), '--partner-max-channels', String(MAX_CHANNELS)];
    const { stdout: script } = await run(process.execPath, ['--import', 'tsx', 'scripts/broker-permissions.ts', '--namespace', ns, ...flags]);
    await run('sh', ['-c', script], {
      env: { ...process.env, ...node.ctlCommand.env, RABBITMQCTL: node.ctlCommand.command, ...Object.fromEntries(USERS.map((u) => [passwordVariable(u), passwords[u]])) },
      timeout: 180_000,
    });
    // The queues as the notification service declares them (quorum, dead-letter exchange, delivery limit), with its own user.
    const conn = await connectAs('notification');
    const ch = await conn.createChannel();
    await declareTopology(ch, [t.queues.notificationRequests, t.queues.emailRequests]);
    await ch.close();
  });

  after(async () => {
    for (const c of open) await c.close().catch(() => undefined);
    await node?.remove();
  });

  it('When the partner floods the notification request queue past its byte limit, then its publishes are nacked, the queue keeps its earlier messages, other publishes go on and notification still consumes and dead-letters', async () => {
    // Arrange
    const partner = await (await connectAs('partner')).createConfirmChannel();
    const queue = t.queues.notificationRequests;
    assert.match(await queueRow(queue.name), new RegExp(`\\t${ns.replace(/\./g, '\\.')}\\.partner-queues-limit\\t`), 'the policy applies to the queue');
    assert.match(await queueRow(queue.name), /x-dead-letter-exchange/, 'the services\' own arguments are kept');

    // Act: publish until the broker refuses
    const accepted: string[] = [];
    let outcome: 'ack' | 'nack' = 'ack';
    for (let i = 0; i < 64 && outcome === 'ack'; i++) {
      const body = Buffer.alloc(BODY_BYTES, String(i % 10));
      body.write(`#${i}#`);
      outcome = await confirmed(partner, t.exchanges.events.name, ROUTING_KEYS.notificationRequested, body);
      if (outcome === 'ack') accepted.push(`#${i}#`);
    }

    // Assert: nacked near the limit, not at once, and nothing past it kept
    assert.equal(outcome, 'nack', 'a publish past the limit is refused');
    assert.ok(accepted.length >= LIMIT_BYTES / BODY_BYTES - 1 && accepted.length <= LIMIT_BYTES / BODY_BYTES + 1, `accepted ${accepted.length}`);
    assert.equal(await confirmed(partner, t.exchanges.events.name, ROUTING_KEYS.notificationBatchRequested, Buffer.alloc(BODY_BYTES)), 'nack', 'the batch key too');
    // (list_queues counts come from periodic statistics: wait for them.)
    await until(async () => (await depth(queue.name)) === accepted.length, 'the queue keeps exactly what was accepted', 15_000);

    // Assert: the limit is the queue's, so main-backend's own notification requests wait for room too
    const main = await (await connectAs('main-backend')).createConfirmChannel();
    assert.equal(await confirmed(main, t.exchanges.events.name, ROUTING_KEYS.notificationRequested, Buffer.from('{}')), 'nack');
    // Assert: no broker-wide block: auth's user publishes an email request, confirmed
    const auth = await (await connectAs('auth')).createConfirmChannel();
    assert.equal(await confirmed(auth, t.exchanges.events.name, ROUTING_KEYS.emailRequested, Buffer.from('{}')), 'ack');
    await until(async () => (await depth(t.queues.emailRequests.name)) === 1, 'the email request arrived', 5_000);

    // Assert: notification's user consumes the earlier messages in order; a rejection still dead-letters
    const consumer = await (await connectAs('notification')).createChannel();
    await consumer.prefetch(1);
    const seen: string[] = [];
    await consumer.consume(queue.name, (msg) => {
      if (!msg) return;
      const mark = msg.content.subarray(0, msg.content.indexOf('#', 1) + 1).toString();
      seen.push(mark);
      if (seen.length === 1) consumer.nack(msg, false, false);
      else consumer.ack(msg);
    });
    await until(async () => seen.length === accepted.length, 'every earlier message consumed', 15_000);
    assert.deepEqual(seen, accepted);
    await until(async () => (await depth(queue.deadLetterQueue)) === 1, 'the rejected one is in the dead-letter queue', 10_000);

    // Assert: drained, the partner may publish again
    await until(async () => (await depth(queue.name)) === 0, 'drained', 10_000);
    assert.equal(await confirmed(partner, t.exchanges.events.name, ROUTING_KEYS.notificationRequested, Buffer.alloc(BODY_BYTES)), 'ack');
  });

  it('When the partner opens more connections or channels than its limits, then the broker refuses the extra one', async () => {
    // Arrange: close what the first test left open of the partner's
    for (const c of open.splice(0)) await c.close().catch(() => undefined);
    const conns = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) conns.push(await connectAs('partner'));

    // Act & Assert: the next connection. The broker closes it during the handshake (its reason,
    // "connection limit (2) is reached", is in its log: amqplib drops it).
    await assert.rejects(amqplib.connect(urlOf('partner')), /ConnectionClose/);
    // One closed, one may open again: it was the limit, not the node.
    await (conns.pop() as ChannelModel).close();
    conns.push(await connectAs('partner'));

    // Act & Assert: channels across its connections
    const first = conns[0] as ChannelModel;
    for (let i = 0; i < MAX_CHANNELS; i++) await (conns[i % conns.length] as ChannelModel).createChannel();
    await assert.rejects(first.createChannel(), /limit|not.allowed|channel/i);

    // Assert: the services are not limited by the partner's limits
    const services = [];
    for (let i = 0; i < MAX_CONNECTIONS + 1; i++) services.push(await connectAs('notification'));
    assert.equal(services.length, MAX_CONNECTIONS + 1);
  });

  it('When the definitions form is imported for another namespace, then RabbitMQ takes its policy and the partner\'s limits', async () => {
    // Arrange
    const other = `${ns}x`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/broker-permissions.ts', '--namespace', other, '--format', 'definitions', '--partner-max-connections', '4'], {
      env: { ...process.env, [passwordVariable('partner')]: 'partner pw' },
    });
    const file = join(tmpdir(), `warren-limits-${randomUUID()}.json`);
    writeFileSync(file, stdout);

    // Act
    try {
      await node.ctl('import_definitions', file);
    } finally {
      rmSync(file, { force: true });
    }

    // Assert
    await until(async () => (await node.ctl('list_user_limits', '--user', `${other}.partner`)).includes('"max-connections":4'), 'user limits imported', 10_000);
    const policies = await node.ctl('list_policies', '--silent', '-p', '/');
    assert.ok(policies.split('\n').some((l) => l.includes(`${other}.partner-queues-limit`) && l.includes('"max-length-bytes":1073741824') && l.includes('"overflow":"reject-publish"')), policies);
    assert.ok(policies.includes(`${ns}.partner-queues-limit`), 'the first namespace\'s policy is left alone');
  });
});
