/**
 * A flood of deferred emails cycling through the retries must not hold back a fresh code. The
 * outside test this scales down: 240 emails a relay greylists (1 s pause, then 450) cycling
 * through the email consumer's 16 slots held a normal registration code for 15 s. Here 40 of
 * them through 4 slots (EMAIL_CONCURRENCY=4): without a lane of their own, every wave of retries
 * back from the delay queues lines up in the work queue ahead of the registration, ~10 s of
 * deferrals. Retried emails come back to `<queue>.retries`, consumed with slots of their own, so
 * the fresh code goes out at once; and once the greylist lifts every deferred email is delivered
 * exactly once, none dead-lettered. A real SMTP server in this process, the whole stack, the
 * real broker and databases.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { emailRequestedSchema, type EmailRequestedInput } from '@warren/shared/contracts/email';
import { ROUTING_KEYS, topology, type Topology } from '@warren/shared/contracts/topology';
import { resourceNames } from '@warren/shared/messaging/topology';
import { waitFor } from '../../shared/test/helpers.js';
import { RABBITMQ_URL } from '../support/env.js';
import { call } from '../support/http.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { startStack, type Stack } from '../support/stack.js';

const DEFERRED = Array.from({ length: 40 }, (_, i) => `deferred${i}@greylisted.test`);
const NORMAL = 'fresh@example.test';

describe('registration codes during a flood of greylisted emails', () => {
  let stack: Stack;
  let smtp: TestSmtpServer;
  let conn: ChannelModel;
  let ch: ConfirmChannel;
  let t: Topology;
  let greylisting = true;

  const attemptsAt = (address: string, answer?: number) =>
    smtp.recipientAttempts.filter((a) => a.address === address && (answer === undefined || a.answer === answer)).length;
  const received = (address: string) => smtp.messages.filter((m) => m.envelope.to.includes(address)).length;
  const waiting = async (queue: string) => (await ch.checkQueue(queue)).messageCount;

  before(async () => {
    smtp = await startSmtpServer({
      deferRecipient: (address) => (greylisting && address.endsWith('@greylisted.test') ? 450 : undefined),
      // Like Postfix: a second's pause before each error reply.
      deferDelayMs: 1000,
    });
    stack = await startStack({ SMTP_URL: smtp.url, EMAIL_CONCURRENCY: '4', EMAIL_RETRY_CONCURRENCY: '2' });
    t = topology(stack.env.BROKER_NAMESPACE as string);
    conn = await amqplib.connect(RABBITMQ_URL);
    ch = await conn.createConfirmChannel();
  });
  after(async () => {
    await conn?.close().catch(() => undefined);
    await stack?.stop();
    await smtp?.stop();
  });

  it('When 40 greylisted emails cycle through the retries, then a fresh registration\'s code still arrives within 2 s', async (ctx) => {
    // Arrange: the deferred emails, published as auth publishes them, each tried once
    for (const to of DEFERRED) {
      const request: EmailRequestedInput = { to, template: 'password_reset', variables: { code: '123456', expiresInMinutes: 15 }, requestedAt: new Date().toISOString() };
      const body = Buffer.from(JSON.stringify(emailRequestedSchema.parse(request)));
      ch.publish(t.exchanges.events.name, ROUTING_KEYS.emailRequested, body, { messageId: randomUUID(), contentType: 'application/json', persistent: true, type: ROUTING_KEYS.emailRequested });
    }
    await ch.waitForConfirms();
    await waitFor(() => DEFERRED.every((a) => attemptsAt(a) >= 1), 'every deferred email tried once', 40_000);

    // Act: the clock starts when the registration is accepted (its email is queued by then)
    const registered = await call(`${stack.mainUrl}/auth/register`, { body: { email: NORMAL, password: 'a long enough passphrase 9', name: 'Fresh' } });
    const accepted = Date.now();
    const email = await smtp.waitForMessage((m) => m.envelope.to.includes(NORMAL), 40_000);
    const elapsedMs = Date.now() - accepted;
    ctx.diagnostic(`fresh code ${elapsedMs} ms after its 202; deferred attempts so far ${smtp.recipientAttempts.length}`);

    // Assert
    assert.equal(registered.status, 202);
    assert.ok(elapsedMs <= 2000, `the fresh code arrived ${elapsedMs} ms after the registration was accepted`);
    assert.match(codeIn(email), /^\d{6}$/);
    assert.ok(DEFERRED.some((a) => attemptsAt(a) >= 2), 'the deferred emails were cycling meanwhile');
    assert.ok(DEFERRED.every((a) => received(a) === 0), 'and still deferred');
  });

  it('When the greylist lifts, then each deferred email is delivered exactly once and none is dead-lettered', async () => {
    // Act
    greylisting = false;
    await waitFor(() => DEFERRED.every((a) => received(a) >= 1), 'every deferred email delivered', 60_000);
    // Settled: nothing left in any queue of the email work queue but the dead-letter queue
    const queues = resourceNames([t.queues.emailRequests]).queues.filter((q) => q !== t.queues.emailRequests.deadLetterQueue);
    await waitFor(async () => (await Promise.all(queues.map(waiting))).every((n) => n === 0), 'the email queues empty', 30_000);

    // Assert
    for (const address of DEFERRED) {
      assert.equal(received(address), 1, `${address} received once`);
      assert.equal(attemptsAt(address, 250), 1, `${address} accepted once`);
    }
    assert.equal(await waiting(t.queues.emailRequests.deadLetterQueue), 0, 'no deferred email was dead-lettered');
    assert.equal(stack.logs.notification.lines.filter((l) => l.message === 'email sent').length, DEFERRED.length + 1);
    assert.ok(!stack.logs.notification.text().includes('@greylisted.test'), 'no address in the logs');
  });
});
