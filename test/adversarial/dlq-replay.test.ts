/**
 * The way back from a dead-letter queue, as an operator uses it: `npm run dlq -- list|replay`.
 * Notification requests are dead-lettered by the broker exactly as the consumer does it when it
 * gives up (a reject without requeue, while no notification service runs), then listed without
 * their bodies and replayed to their origin; replaying the same message twice stores it once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import { notificationRequestedSchema, type NotificationRequestedInput } from '@warren/shared/contracts/notifications';
import { ROUTING_KEYS, topology, type Topology } from '@warren/shared/contracts/topology';
import { waitFor } from '../../shared/test/helpers.js';
import { RABBITMQ_URL } from '../support/env.js';
import { call } from '../support/http.js';
import type { CapturedLogs } from '../support/logs.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { DLQ_SCRIPT, runCommand, type CommandResult } from '../support/operator-commands.js';


describe('dead-letter inspection and replay (npm run dlq)', () => {
  let stack: Stack;
  let t: Topology;
  let conn: ChannelModel;
  let ch: Channel;
  let admin: Awaited<ReturnType<typeof login>>;
  let replica: { url: string; logs: CapturedLogs };
  let a: NotificationRequestedInput;
  let b: NotificationRequestedInput;

  /** The operator command with the stack's own variables, as `npm run dlq -- ...` runs it. */
  const dlq = (...args: string[]): Promise<CommandResult> => runCommand(DLQ_SCRIPT, args, stack.env);

  const deadLetters = async () => (await ch.checkQueue(t.queues.notificationRequests.deadLetterQueue)).messageCount;
  const inbox = async () => (await call(`${replica.url}/inbox?limit=100`, { token: admin.accessToken })).body.items as { title: string }[];
  const storedLines = (notificationId: string) =>
    replica.logs.lines.filter((l) => l.message === 'notification stored' && l.notificationId === notificationId).length;

  function request(title: string): NotificationRequestedInput {
    return {
      notificationId: randomUUID(),
      recipients: { userIds: [admin.user.id] },
      title,
      body: `the body of ${title}: private words`,
      requestedAt: new Date().toISOString(),
    };
  }

  /** Publishes to the events exchange as main-backend does (confirmed, message id = notification id). */
  async function publish(n: NotificationRequestedInput) {
    const body = Buffer.from(JSON.stringify(notificationRequestedSchema.parse(n)));
    const confirm = await conn.createConfirmChannel();
    confirm.publish(t.exchanges.events.name, ROUTING_KEYS.notificationRequested, body, {
      persistent: true,
      messageId: n.notificationId,
      contentType: 'application/json',
      type: ROUTING_KEYS.notificationRequested,
      headers: { 'x-request-id': `req-${n.notificationId}` },
    });
    await confirm.waitForConfirms();
    await confirm.close();
  }

  /** Takes `n` messages off the work queue and rejects them without requeue: the broker dead-letters them. */
  async function rejectFromWorkQueue(n: number) {
    for (let i = 0; i < n; i++) {
      let msg: amqplib.GetMessage | false = false;
      await waitFor(async () => Boolean((msg = await ch.get(t.queues.notificationRequests.name, { noAck: false }))), 'a message on the work queue');
      ch.nack(msg as unknown as amqplib.GetMessage, false, false);
    }
  }

  before(async () => {
    stack = await startStack();
    t = topology(stack.env.BROKER_NAMESPACE as string);
    admin = await login(stack);
    conn = await amqplib.connect(RABBITMQ_URL);
    ch = await conn.createChannel();
  });
  after(async () => {
    await conn?.close().catch(() => undefined);
    await stack?.stop();
  });

  it('When notifications were dead-lettered, then list shows where each came from and why, without bodies, and leaves them in place', async () => {
    // Arrange: no notification service consumes; three requests die (A twice, under one id)
    await stack.notification.stop();
    a = request('dead letter A');
    b = request('dead letter B');
    await publish(a);
    await publish(a);
    await publish(b);
    await rejectFromWorkQueue(3);
    await waitFor(async () => (await deadLetters()) === 3, 'three dead letters');

    // Act
    const counts = await dlq('list', '--json');
    const listed = await dlq('list', 'notification.requests', '--json');
    const human = await dlq('list', 'notification.requests');
    const withBodies = await dlq('list', 'notification.requests', '--bodies');

    // Assert
    assert.equal(counts.code, 0, counts.stderr);
    assert.deepEqual(JSON.parse(counts.stdout), [
      { queue: t.queues.notificationRequests.deadLetterQueue, deadLetters: 3 },
      { queue: t.queues.notificationUsers.deadLetterQueue, deadLetters: 0 },
      { queue: t.queues.emailRequests.deadLetterQueue, deadLetters: 0 },
      { queue: t.queues.notificationSessions.deadLetterQueue, deadLetters: 0 },
    ]);
    assert.equal(listed.code, 0, listed.stderr);
    const listing = JSON.parse(listed.stdout);
    assert.equal(listing.total, 3);
    assert.deepEqual(
      listing.items.map((d: Record<string, unknown>) => [d.messageId, d.exchange, d.routingKey, d.queue, d.reason, d.requestId, 'body' in d]),
      [a, a, b].map((n) => [n.notificationId, t.exchanges.events.name, 'notification.requested', t.queues.notificationRequests.name, 'rejected', `req-${n.notificationId}`, false]),
    );
    assert.ok(human.stdout.includes(`${a.notificationId}  notification.requested → ${t.exchanges.events.name} notification.requested  reason=rejected attempts=1 deaths=1 replays=0`), human.stdout);
    for (const out of [listed.stdout, human.stdout]) assert.ok(!out.includes('private words'), 'no body without --bodies');
    assert.ok(withBodies.stdout.includes('the body of dead letter A: private words'), 'bodies on request');
    assert.equal(await deadLetters(), 3, 'listing took nothing away');
  });

  it('When one message is replayed by id, then only it is stored, once, and the others stay', async () => {
    // Arrange: a notification service consumes again
    replica = await stack.addNotificationReplica();

    // Act
    const replay = await dlq('replay', 'notification.requests', '--message-id', b.notificationId, '--json');

    // Assert
    assert.equal(replay.code, 0, replay.stderr);
    const result = JSON.parse(replay.stdout);
    assert.deepEqual(result.replayed.map((d: { messageId: string }) => d.messageId), [b.notificationId]);
    assert.deepEqual(result.kept, []);
    await waitFor(async () => (await inbox()).some((n) => n.title === b.title), 'B in the inbox', 10_000);
    assert.equal(await deadLetters(), 2, 'the two copies of A are still dead letters');
  });

  it('When the same notification is replayed twice, then it is stored once', async () => {
    // Arrange
    const id = a.notificationId;

    // Act: one copy, then (once it is stored) the other
    const once = await dlq('replay', 'notification.requests', '--message-id', id, '--limit', '1');
    await waitFor(() => storedLines(id) === 1, 'the first replay handled', 10_000);
    const twice = await dlq('replay', 'notification.requests', '--message-id', id);
    await waitFor(() => storedLines(id) === 2, 'the second replay handled', 10_000);

    // Assert
    assert.equal(once.code, 0, once.stderr);
    assert.match(once.stdout, /replayed 1, kept 0/);
    assert.equal(twice.code, 0, twice.stderr);
    assert.match(twice.stdout, /replayed 1, kept 0/);
    assert.equal(await deadLetters(), 0);
    const items = await inbox();
    assert.equal(items.filter((n) => n.title === a.title).length, 1, 'stored once');
    assert.equal((await call(`${replica.url}/inbox/unread-count`, { token: admin.accessToken })).body.count, 2, 'A and B, nothing else');
  });

  it('When the queue is unknown or an option is wrong, then it exits 1 with the usage and touches nothing', async () => {
    // Act
    const unknown = await dlq('replay', 'nope');
    const badLimit = await dlq('replay', 'notification.requests', '--limit', '0');
    const help = await dlq('--help');

    // Assert
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown queue "nope" \(known: notification\.requests, notification\.users, email\.requests, notification\.sessions\)/);
    assert.match(unknown.stderr, /Usage: npm run dlq -- <command>/);
    assert.equal(badLimit.code, 1);
    assert.match(badLimit.stderr, /--limit must be a positive whole number/);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /replay <queue> \[--limit N\]/);
  });
});
