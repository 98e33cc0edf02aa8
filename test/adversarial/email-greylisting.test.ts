/**
 * Deferred email: a relay that greylists (450/451 to RCPT TO after a second's pause, as Postfix
 * does for unknown domains) must not hold back anyone else's code. Ten registrations to greylisted addresses are
 * queued ahead of a normal one, whose code still arrives within 2 s; once the greylist is lifted
 * every deferred email is delivered exactly once; a 550 goes to the dead-letter queue at once.
 * A real SMTP server in this process, the whole stack, the real broker and databases.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import { topology, type Topology } from '@warren/shared/contracts/topology';
import { consumedQueuesOf, retryQueuesOf } from '@warren/shared/messaging/topology';
import { waitFor } from '../../shared/test/helpers.js';
import { RABBITMQ_URL } from '../support/env.js';
import { call } from '../support/http.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { startStack, type Stack } from '../support/stack.js';

const PASSWORD = 'a long enough passphrase 9';
const GREYLISTED = Array.from({ length: 10 }, (_, i) => `greylisted${i}@greylisted.test`);

describe('registration emails behind a greylisting relay', () => {
  let stack: Stack;
  let smtp: TestSmtpServer;
  let conn: ChannelModel;
  let ch: Channel;
  let t: Topology;
  let greylisting = true;

  const register = (email: string) => call(`${stack.mainUrl}/auth/register`, { body: { email, password: PASSWORD, name: 'Someone' } });
  const attemptsAt = (address: string, answer?: number) =>
    smtp.recipientAttempts.filter((a) => a.address === address && (answer === undefined || a.answer === answer)).length;
  const received = (address: string) => smtp.messages.filter((m) => m.envelope.to.includes(address)).length;
  const waiting = async (queue: string) => (await ch.checkQueue(queue)).messageCount;
  const notificationLines = (message: string) => stack.logs.notification.lines.filter((l) => l.message === message && l.queue === t.queues.emailRequests.name);

  before(async () => {
    smtp = await startSmtpServer({
      // Half answer 450, half 451: both are "try again later".
      deferRecipient: (address) => (greylisting && address.endsWith('@greylisted.test') ? (address.charCodeAt(10) % 2 ? 451 : 450) : undefined),
      // Like Postfix: a second's pause before each error reply, so deferrals handled one at a time would take 10 s.
      deferDelayMs: 1000,
      rejectRecipient: (address) => address.endsWith('@rejecting.test'),
    });
    stack = await startStack({ SMTP_URL: smtp.url });
    t = topology(stack.env.BROKER_NAMESPACE as string);
    conn = await amqplib.connect(RABBITMQ_URL);
    ch = await conn.createChannel();
  });
  after(async () => {
    await conn?.close().catch(() => undefined);
    await stack?.stop();
    await smtp?.stop();
  });

  it('When 10 registrations to greylisted addresses are queued, then a normal user still gets their code within 2 s', async () => {
    // Arrange: ten registrations whose emails the relay defers, each deferred at least once
    const answers = await Promise.all(GREYLISTED.map(register));
    assert.deepEqual(answers.map((r) => r.status), GREYLISTED.map(() => 202));
    await waitFor(() => GREYLISTED.every((a) => attemptsAt(a) >= 1), 'every greylisted email tried once', 10_000);

    // Act: the clock starts when the registration is accepted (its email is queued by then; the
    // password hashing before that is no email delay, and takes long on a busy machine)
    const registered = await register('normal@example.test');
    const accepted = Date.now();
    const email = await smtp.waitForMessage((m) => m.envelope.to.includes('normal@example.test'), 30_000);
    const elapsedMs = Date.now() - accepted;

    // Assert
    assert.equal(registered.status, 202);
    assert.ok(elapsedMs <= 2000, `the normal code arrived ${elapsedMs} ms after the registration was accepted`);
    assert.match(codeIn(email), /^\d{6}$/);
    assert.ok(GREYLISTED.every((a) => received(a) === 0), 'the greylisted ones are still deferred');
    assert.ok(smtp.recipientAttempts.some((a) => a.answer === 450) && smtp.recipientAttempts.some((a) => a.answer === 451));
  });

  it('When the greylist is lifted, then each deferred email is delivered exactly once', async () => {
    // Act
    greylisting = false;
    await waitFor(() => GREYLISTED.every((a) => received(a) >= 1), 'every greylisted email delivered', 60_000);
    // Everything settled: nothing left in the work queue or its delay queues, and every email recorded as sent.
    const queues = [...consumedQueuesOf(t.queues.emailRequests), ...retryQueuesOf(t.queues.emailRequests)];
    await waitFor(async () => (await Promise.all(queues.map(waiting))).every((n) => n === 0), 'the email queues empty', 30_000);
    await waitFor(() => stack.logs.notification.lines.filter((l) => l.message === 'email sent').length === 11, 'eleven emails sent', 10_000);

    // Assert
    for (const address of GREYLISTED) {
      assert.equal(received(address), 1, `${address} received once`);
      assert.equal(attemptsAt(address, 250), 1, `${address} accepted once`);
      assert.ok(attemptsAt(address) >= 2, `${address} was deferred before`);
    }
    assert.equal(await waiting(t.queues.emailRequests.deadLetterQueue), 0, 'no deferred email was dead-lettered');
    const retries = notificationLines('message failed, will retry');
    assert.ok(retries.length >= 10 && retries.every((l) => /^SMTP send failed: EENVELOPE 45[01] on RCPT TO$/.test(String(l.err))), 'deferrals retried through the broker');
    assert.ok(!stack.logs.notification.text().includes('@greylisted.test'), 'no address in the logs');
  });

  it('When the relay rejects a recipient with 550, then the email goes to the dead-letter queue at once, not retried', async () => {
    // Arrange
    const deadBefore = await waiting(t.queues.emailRequests.deadLetterQueue);

    // Act
    assert.equal((await register('nobody@rejecting.test')).status, 202);
    await waitFor(() => notificationLines('message dead-lettered').length === 1, 'the rejection dead-lettered', 10_000);

    // Assert
    const [dead] = notificationLines('message dead-lettered');
    assert.equal(dead?.reason, 'permanent_error');
    assert.match(String(dead?.detail), /^SMTP server refused the email: EENVELOPE 550 on RCPT TO$/);
    await waitFor(async () => (await waiting(t.queues.emailRequests.deadLetterQueue)) === deadBefore + 1, 'the email in the dead-letter queue');
    assert.equal(attemptsAt('nobody@rejecting.test'), 1, 'one RCPT TO, no retry');
    assert.equal(notificationLines('message failed, will retry').filter((l) => l.messageId === dead?.messageId).length, 0);
    for (const q of retryQueuesOf(t.queues.emailRequests)) assert.equal(await waiting(q), 0, `nothing waits in ${q}`);
  });
});
