/**
 * email.requested end to end inside the notification service: published on the real broker,
 * consumed, rendered, sent by SMTP to a real SMTP server in this process (or written to the
 * log without SMTP_URL), deduplicated by message id in the real database.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { waitFor } from '../../../shared/test/helpers.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../../../test/support/smtp.js';
import { emailRequest, randomCode, startNotification, type NotificationFixture } from './notification-fixture.js';

describe('sending requested emails by SMTP', () => {
  let smtp: TestSmtpServer;
  let fx: NotificationFixture;
  before(async () => {
    smtp = await startSmtpServer({ rejectRecipient: (address) => address.startsWith('rejected@') });
    fx = await startNotification({ SMTP_URL: smtp.url, MAIL_FROM: 'Warren Test <no-reply@warren.test>' });
  });
  after(async () => {
    await fx?.stop();
    await smtp?.stop();
  });

  it('When a verify_email request is published, then the SMTP server receives it with To, From, Subject and the code', async () => {
    // Arrange
    const code = randomCode();
    const request = emailRequest({ to: 'alice@example.test', variables: { name: 'Alice', code, expiresInMinutes: 15 } });

    // Act
    const messageId = await fx.publishEmail(request);
    const email = await smtp.waitForMessage((m) => m.envelope.to.includes('alice@example.test'));

    // Assert
    assert.deepEqual(email.envelope, { from: 'no-reply@warren.test', to: ['alice@example.test'] });
    assert.equal(email.headers.to, 'alice@example.test');
    assert.match(email.headers.from ?? '', /^"?Warren Test"? <no-reply@warren\.test>$/);
    assert.equal(email.subject, 'Confirm your email address for Warren');
    assert.equal(codeIn(email), code);
    assert.match(email.text, /^Hello,\n/, 'no registrant-typed name in a verification email');
    assert.match(email.text, /15 minutes/);
    assert.ok(email.html.includes(code), 'the HTML part has the code too');
    assert.equal(email.headers['message-id'], `<${messageId}@warren.test>`);
    await waitFor(() => fx.linesOf('email sent', messageId).length === 1, 'the email sent line');
    const [sent] = fx.linesOf('email sent', messageId);
    assert.deepEqual(
      { template: sent?.template, recipientDomain: sent?.recipientDomain, to: sent?.to },
      { template: 'verify_email', recipientDomain: 'example.test', to: undefined },
    );
    assert.ok(!fx.logs.text().includes(code), 'no log line contains the code');
    assert.ok(!fx.logs.text().includes('alice@example.test'), 'no log line contains the address');
    assert.ok(!fx.logs.text().includes('Use this code'), 'no log line contains the rendered body');
  });

  it('When password_reset and account_exists are requested, then each arrives with its own wording', async () => {
    // Arrange
    const code = randomCode();

    // Act
    await fx.publishEmail(emailRequest({ to: 'reset@example.test', template: 'password_reset', variables: { code, expiresInMinutes: 30 } }));
    await fx.publishEmail(emailRequest({ to: 'exists@example.test', template: 'account_exists', variables: {} }));
    const reset = await smtp.waitForMessage((m) => m.envelope.to.includes('reset@example.test'));
    const exists = await smtp.waitForMessage((m) => m.envelope.to.includes('exists@example.test'));

    // Assert
    assert.equal(reset.subject, 'Reset your Warren password');
    assert.equal(codeIn(reset), code);
    assert.match(reset.text, /your password is unchanged/);
    assert.equal(exists.subject, 'Someone tried to register with your email address');
    assert.throws(() => codeIn(exists), /no 6-digit code/);
    assert.ok(!fx.logs.text().includes(code), 'no log line contains the code');
  });

  it('When the same message id is published twice, then one email is sent', async () => {
    // Arrange
    const messageId = randomUUID();
    const request = emailRequest({ to: 'bob@example.test' });

    // Act
    await fx.publishEmail(request, { messageId });
    await fx.publishEmail(request, { messageId });
    await smtp.waitForMessage((m) => m.envelope.to.includes('bob@example.test'));
    await waitFor(() => fx.linesOf('email already sent, not sending it again', messageId).length === 1, 'the duplicate skipped');

    // Assert
    assert.equal(smtp.messages.filter((m) => m.envelope.to.includes('bob@example.test')).length, 1);
    assert.equal(fx.linesOf('email sent', messageId).length, 1);
  });

  it('When an email request fails validation, then it is dead-lettered and the next one is still sent', async () => {
    // Arrange
    const deadBefore = await fx.deadLetterCount();
    const invalid = { to: 'not an address', template: 'verify_email', variables: { code: '12' }, requestedAt: 'yesterday' };

    // Act
    const invalidId = await fx.publishEmail(invalid, { schema: z.unknown() });
    await fx.publishEmail(emailRequest({ to: 'carol@example.test' }));

    // Assert
    await waitFor(async () => (await fx.deadLetterCount()) === deadBefore + 1, 'the invalid request in the dead-letter queue');
    const [dead] = fx.linesOf('message dead-lettered', invalidId);
    assert.equal(dead?.reason, 'validation_failed');
    await smtp.waitForMessage((m) => m.envelope.to.includes('carol@example.test'));
  });

  it('When the SMTP server rejects the recipient with 550, then the message is dead-lettered without a retry', async () => {
    // Arrange
    const deadBefore = await fx.deadLetterCount();

    // Act
    const messageId = await fx.publishEmail(emailRequest({ to: 'rejected@example.test' }));

    // Assert
    await waitFor(() => fx.linesOf('message dead-lettered', messageId).length === 1, 'the rejection dead-lettered');
    const [dead] = fx.linesOf('message dead-lettered', messageId);
    assert.equal(dead?.reason, 'permanent_error');
    assert.match(String(dead?.detail), /550 on RCPT TO/);
    assert.equal(fx.linesOf('message failed, will retry', messageId).length, 0);
    await waitFor(async () => (await fx.deadLetterCount()) === deadBefore + 1, 'the rejected request in the dead-letter queue');
    assert.ok(!fx.logs.text().includes('rejected@example.test'), 'the address is not logged, not even in the SMTP reply');
    assert.equal(smtp.messages.filter((m) => m.envelope.to.includes('rejected@example.test')).length, 0);
  });
});

describe('sending while the SMTP server is down', () => {
  let smtp: TestSmtpServer | undefined;
  let fx: NotificationFixture;
  let port: number;
  before(async () => {
    const probe = await startSmtpServer(); // only to find a free port, then nothing listens there
    port = probe.port;
    await probe.stop();
    fx = await startNotification({ SMTP_URL: `smtp://127.0.0.1:${port}` });
  });
  after(async () => {
    await fx?.stop();
    await smtp?.stop();
  });

  it('When the SMTP server refuses connections, then the email is retried through the broker (not counted as a failure) and sent once it is back', async () => {
    // Arrange
    const code = randomCode();

    // Act
    const messageId = await fx.publishEmail(emailRequest({ to: 'dave@example.test', variables: { code } }));
    await waitFor(() => fx.linesOf('message failed, will retry', messageId).length >= 1, 'a failed first attempt', 10_000);
    smtp = await startSmtpServer({ port });
    const email = await smtp.waitForMessage((m) => m.envelope.to.includes('dave@example.test'), 15_000);

    // Assert
    assert.equal(codeIn(email), code);
    await waitFor(() => fx.linesOf('email sent', messageId).length === 1, 'the email sent line');
    const [retry] = fx.linesOf('message failed, will retry', messageId);
    assert.match(String(retry?.err), /^SMTP server unreachable: ESOCKET\/ECONNREFUSED/);
    assert.equal(retry?.unavailable, true, 'an unreachable server does not count against the attempts');
    assert.equal(fx.linesOf('message dead-lettered', messageId).length, 0);
    assert.ok(!fx.logs.text().includes(code), 'no log line contains the code');
  });
});

describe('a relay answering 421', () => {
  // Two attempts: a counted failure is dead-lettered at the second, ~1 s after the first.
  const MAX_ATTEMPTS = 2;

  describe('to one recipient, on every attempt', () => {
    let smtp: TestSmtpServer;
    let fx: NotificationFixture;
    before(async () => {
      smtp = await startSmtpServer({ deferRecipient: (address) => (address.startsWith('busy@') ? 421 : undefined) });
      fx = await startNotification({ SMTP_URL: smtp.url, EMAIL_MAX_ATTEMPTS: String(MAX_ATTEMPTS) });
    });
    after(async () => {
      await fx?.stop();
      await smtp?.stop();
    });

    it('When the relay answers 421 to one recipient every time, then that email is dead-lettered after EMAIL_MAX_ATTEMPTS and another is sent', async () => {
      // Arrange
      const deadBefore = await fx.deadLetterCount();

      // Act
      const messageId = await fx.publishEmail(emailRequest({ to: 'busy@example.test' }));
      await fx.publishEmail(emailRequest({ to: 'erin@example.test' }));

      // Assert: counted like a deferral (it used to be "unreachable", retried for ever)
      await smtp.waitForMessage((m) => m.envelope.to.includes('erin@example.test'));
      await waitFor(() => fx.linesOf('message dead-lettered', messageId).length === 1, 'the email dead-lettered', 15_000);
      const [dead] = fx.linesOf('message dead-lettered', messageId);
      assert.equal(dead?.reason, 'max_attempts');
      assert.match(String(dead?.detail), /^SMTP send failed: .*421 on /);
      const retries = fx.linesOf('message failed, will retry', messageId);
      assert.equal(retries.length, MAX_ATTEMPTS - 1);
      assert.ok(retries.every((l) => l.unavailable === false), 'each 421 counted against the attempts');
      // Each attempt is at least one RCPT TO (nodemailer tries once more on another connection
      // when a reused one is closed before any of the message was sent).
      const tries = smtp.recipientAttempts.filter((a) => a.address === 'busy@example.test');
      assert.ok(tries.length >= MAX_ATTEMPTS && tries.length <= 2 * MAX_ATTEMPTS && tries.every((a) => a.answer === 421), `RCPT TO answers: ${tries.map((a) => a.answer).join(', ')}`);
      await waitFor(async () => (await fx.deadLetterCount()) === deadBefore + 1, 'the email in the dead-letter queue');
      assert.ok(!fx.logs.text().includes('busy@example.test'), 'no address in the logs');
    });
  });

  describe('to every session, at the greeting', () => {
    let smtp: TestSmtpServer;
    let fx: NotificationFixture;
    let refusing = true;
    before(async () => {
      smtp = await startSmtpServer({ closeSession: () => (refusing ? 'greeting' : undefined) });
      fx = await startNotification({ SMTP_URL: smtp.url, EMAIL_MAX_ATTEMPTS: String(MAX_ATTEMPTS) });
    });
    after(async () => {
      await fx?.stop();
      await smtp?.stop();
    });

    it('When the relay greets with 421 for longer than EMAIL_MAX_ATTEMPTS attempts, then the email is waited out, never dead-lettered, and sent once it serves again', async () => {
      // Act: refused past the attempt limit (the third attempt comes ~6 s after the first)
      const messageId = await fx.publishEmail(emailRequest({ to: 'frank@example.test' }));
      await waitFor(() => fx.linesOf('message failed, will retry', messageId).length > MAX_ATTEMPTS, 'attempts past the limit', 30_000);
      refusing = false;
      await smtp.waitForMessage((m) => m.envelope.to.includes('frank@example.test'), 30_000);

      // Assert
      await waitFor(() => fx.linesOf('email sent', messageId).length === 1, 'the email sent line');
      const retries = fx.linesOf('message failed, will retry', messageId);
      assert.ok(retries.every((l) => l.unavailable === true && /^SMTP server unreachable: .*421/.test(String(l.err))), 'each counted as unreachable');
      assert.equal(fx.linesOf('message dead-lettered', messageId).length, 0);
      assert.equal(await fx.deadLetterCount(), 0);
      assert.equal(smtp.messages.filter((m) => m.envelope.to.includes('frank@example.test')).length, 1);
    });
  });
});

describe('writing emails to the log when SMTP_URL is unset', () => {
  let fx: NotificationFixture;
  before(async () => {
    fx = await startNotification();
  });
  after(async () => {
    await fx?.stop();
  });

  it('When an email is requested without SMTP_URL, then one info line holds its recipient, subject and body', async () => {
    // Arrange
    const code = randomCode();

    // Act
    const messageId = await fx.publishEmail(
      emailRequest({ to: 'erin@example.test', template: 'password_reset', variables: { code, expiresInMinutes: 30 } }),
    );
    await waitFor(() => fx.linesOf('email sent', messageId).length === 1, 'the email handled');

    // Assert
    const lines = fx.linesOf('email written to log (SMTP_URL unset)');
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.equal(line?.level, 'info');
    assert.equal(line?.to, 'erin@example.test');
    assert.equal(line?.subject, 'Reset your Warren password');
    assert.match(String(line?.body), new RegExp(`\\b${code}\\b`));
  });
});
