/**
 * When the real consumers give up, and the way back. The email consumer dead-letters an email
 * the relay keeps deferring after EMAIL_MAX_ATTEMPTS; the notification consumer dead-letters a
 * request its database keeps refusing after its attempts, and data the database can never store
 * at once; meanwhile the messages behind them flow. Once the cause is gone, `npm run dlq --
 * replay` brings each back and it is handled exactly once. Faults are made real: an SMTP server
 * that answers 450, a trigger in the notification database that raises for chosen titles.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import pg from 'pg';
import { topology, type Topology } from '@warren/shared/contracts/topology';
import { waitFor } from '../../shared/test/helpers.js';
import { RABBITMQ_URL } from '../support/env.js';
import { call } from '../support/http.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { DLQ_SCRIPT, runCommand, type CommandResult } from '../support/operator-commands.js';

/** The notification consumer's attempts before it dead-letters (the Consumer's default). */
const NOTIFICATION_MAX_ATTEMPTS = 5;

describe('dead-lettering by the real consumers, and replay', () => {
  let stack: Stack;
  let smtp: TestSmtpServer;
  let conn: ChannelModel;
  let ch: Channel;
  let t: Topology;
  let notificationDb: pg.Client;
  let admin: Awaited<ReturnType<typeof login>>;
  let deferring = true;

  const dlq = (...args: string[]): Promise<CommandResult> => runCommand(DLQ_SCRIPT, args, stack.env);

  const waiting = async (queue: string) => (await ch.checkQueue(queue)).messageCount;
  const lines = (message: string, queue: string, messageId?: string) =>
    stack.logs.notification.lines.filter((l) => l.message === message && l.queue === queue && (messageId === undefined || l.messageId === messageId));
  const send = async (title: string) => {
    const res = await call(`${stack.mainUrl}/notifications`, { token: admin.accessToken, body: { recipients: { userIds: [admin.user.id] }, title, body: 'b' } });
    assert.equal(res.status, 202);
    return res.body.id as string;
  };
  const titles = async () => ((await call(`${stack.notificationUrl}/inbox?limit=100`, { token: admin.accessToken })).body.items as { title: string }[]).map((n) => n.title);

  before(async () => {
    smtp = await startSmtpServer({ deferRecipient: (address) => (deferring && address.endsWith('@deferred.test') ? 450 : undefined) });
    stack = await startStack({ SMTP_URL: smtp.url, EMAIL_MAX_ATTEMPTS: '3' });
    t = topology(stack.env.BROKER_NAMESPACE as string);
    admin = await login(stack);
    conn = await amqplib.connect(RABBITMQ_URL);
    ch = await conn.createChannel();
    notificationDb = new pg.Client({ connectionString: stack.env.NOTIFICATION_DATABASE_URL });
    await notificationDb.connect();
    // A fault the database itself raises: an ordinary error (retried) or a data exception (class 22: never storable).
    await notificationDb.query(`
      CREATE FUNCTION test_refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.title LIKE 'retried poison%' THEN RAISE EXCEPTION 'refused by the test trigger'; END IF;
        IF NEW.title LIKE 'data poison%' THEN RAISE EXCEPTION 'unstorable by the test trigger' USING ERRCODE = '22023'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_refuse_poison BEFORE INSERT ON inbox_items FOR EACH ROW EXECUTE FUNCTION test_refuse_poison();`);
  });
  after(async () => {
    await notificationDb?.end().catch(() => undefined);
    await conn?.close().catch(() => undefined);
    await stack?.stop();
    await smtp?.stop();
  });

  it('When the relay defers an email on every attempt, then it is dead-lettered after EMAIL_MAX_ATTEMPTS, and a replay after the relay relents delivers a working code once', async () => {
    // Arrange
    const email = 'stuck@deferred.test';

    // Act
    assert.equal((await call(`${stack.mainUrl}/auth/register`, { body: { email, password: 'a long enough passphrase 9', name: 'Stuck' } })).status, 202);
    await waitFor(() => lines('message dead-lettered', t.queues.emailRequests.name).length === 1, 'the email dead-lettered', 30_000);

    // Assert: three attempts, two retries through the broker, then the dead-letter queue
    const [dead] = lines('message dead-lettered', t.queues.emailRequests.name);
    assert.equal(dead?.reason, 'max_attempts');
    assert.match(String(dead?.detail), /^SMTP send failed: EENVELOPE 450 on RCPT TO$/);
    assert.deepEqual(smtp.recipientAttempts.filter((a) => a.address === email).map((a) => a.answer), [450, 450, 450]);
    assert.equal(lines('message failed, will retry', t.queues.emailRequests.name, dead?.messageId as string).length, 2);
    await waitFor(async () => (await waiting(t.queues.emailRequests.deadLetterQueue)) === 1, 'the email in the dead-letter queue');

    // Act: the relay relents; the operator replays
    deferring = false;
    const replay = await dlq('replay', 'email.requests');

    // Assert
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /replayed 1, kept 0/);
    const delivered = await smtp.waitForMessage((m) => m.envelope.to.includes(email), 15_000);
    const verified = await call(`${stack.mainUrl}/auth/verify-email`, { body: { email, code: codeIn(delivered) } });
    assert.equal(verified.status, 200, 'the replayed code still works');
    await waitFor(() => stack.logs.notification.lines.some((l) => l.message === 'email sent' && l.messageId === dead?.messageId), 'the email recorded as sent');
    assert.equal(smtp.messages.filter((m) => m.envelope.to.includes(email)).length, 1);
    assert.equal(await waiting(t.queues.emailRequests.deadLetterQueue), 0);
  });

  it('When the database refuses a notification on every attempt, then it is dead-lettered after the consumer\'s attempts while the others are stored', async () => {
    // Act
    const poisonId = await send('retried poison');
    const healthyTitle = 'healthy, sent behind the poison';
    await send(healthyTitle);

    // Assert: the one behind it is not held up
    await waitFor(async () => (await titles()).includes(healthyTitle), 'the healthy notification stored', 10_000);
    assert.equal(lines('message dead-lettered', t.queues.notificationRequests.name, poisonId).length, 0, 'still being retried');
    // 1 s, 5 s, 15 s, 15 s between the attempts
    await waitFor(() => lines('message dead-lettered', t.queues.notificationRequests.name, poisonId).length === 1, 'the poison dead-lettered', 60_000);
    const [dead] = lines('message dead-lettered', t.queues.notificationRequests.name, poisonId);
    assert.equal(dead?.reason, 'max_attempts');
    assert.match(String(dead?.detail), /refused by the test trigger/);
    assert.equal(lines('message failed, will retry', t.queues.notificationRequests.name, poisonId).length, NOTIFICATION_MAX_ATTEMPTS - 1);
    await waitFor(async () => (await waiting(t.queues.notificationRequests.deadLetterQueue)) === 1, 'the poison in the dead-letter queue');
  });

  it('When the database can never store a notification, then it is dead-lettered at once, without a retry', async () => {
    // Act
    const poisonId = await send('data poison');
    await waitFor(() => lines('message dead-lettered', t.queues.notificationRequests.name, poisonId).length === 1, 'the data poison dead-lettered', 10_000);

    // Assert
    const [dead] = lines('message dead-lettered', t.queues.notificationRequests.name, poisonId);
    assert.equal(dead?.reason, 'data_error');
    assert.equal(lines('message failed, will retry', t.queues.notificationRequests.name, poisonId).length, 0);
    await waitFor(async () => (await waiting(t.queues.notificationRequests.deadLetterQueue)) === 2, 'both poisons in the dead-letter queue');
  });

  it('When the cause is removed and the dead letters are replayed, then each notification is stored exactly once', async () => {
    // Arrange
    await notificationDb.query('DROP TRIGGER test_refuse_poison ON inbox_items');
    const listed = JSON.parse((await dlq('list', 'notification.requests', '--json')).stdout);
    const origins = listed.items.map((d: Record<string, unknown>) => [d.publishedAs, d.exchange, d.routingKey, d.reason, d.attempts]);
    assert.deepEqual(origins, [
      // came back from a delay queue before it died at its last attempt: replayed straight to the work queue
      ['notification.requested', '', t.queues.notificationRequests.name, 'rejected', NOTIFICATION_MAX_ATTEMPTS],
      // died at its first attempt: replayed as it was published
      ['notification.requested', t.exchanges.events.name, 'notification.requested', 'rejected', 1],
    ]);

    // Act
    const replay = await dlq('replay', 'notification.requests');
    const poisons = ['retried poison', 'data poison'];
    await waitFor(async () => (await titles()).filter((x) => poisons.includes(x)).length >= 2, 'both stored', 10_000);

    // Assert
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /replayed 2, kept 0/);
    const all = await titles();
    assert.equal(all.filter((x) => x === 'retried poison').length, 1);
    assert.equal(all.filter((x) => x === 'data poison').length, 1);
    assert.equal(await waiting(t.queues.notificationRequests.deadLetterQueue), 0);
  });
});
