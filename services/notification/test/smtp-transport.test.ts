/**
 * How the SMTP transport sorts a relay's 421 ("closing the session"), against a real SMTP server
 * in this process: a 421 in reply to one email's RCPT TO or DATA is about that email (a failure
 * that counts against EMAIL_MAX_ATTEMPTS, so it can reach the dead-letter queue), while a 421
 * greeting or a 421 to MAIL FROM, like a refused connection, says the relay cannot serve anyone
 * now (waited out without limit).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { classifyFailure } from '@warren/shared/messaging/failure-kind';
import { startSmtpServer, type SmtpServerOptions, type TestSmtpServer } from '../../../test/support/smtp.js';
import { SmtpTransport } from '../src/email/smtp-transport.js';

const FROM = { name: 'Warren', address: 'no-reply@warren.test' };
const email = (to: string) => ({ from: FROM, to, subject: 'Hello', text: 'A code: 123456', html: '<p>A code: 123456</p>' });

describe('SMTP 421: one email refused, or the relay unavailable', () => {
  const open: { smtp: TestSmtpServer; transport: SmtpTransport }[] = [];
  const relay = async (opts: SmtpServerOptions) => {
    const smtp = await startSmtpServer(opts);
    const transport = new SmtpTransport(smtp.url, { maxConnections: 2 });
    open.push({ smtp, transport });
    return { smtp, transport };
  };
  const failureOf = (send: Promise<void>) =>
    send.then(
      () => assert.fail('the send should have failed'),
      (err: unknown) => ({ err: err as Error, kind: classifyFailure(err).kind }),
    );
  afterEach(async () => {
    for (const { smtp, transport } of open.splice(0)) {
      await transport.close();
      await smtp.stop();
    }
  });

  it('When the relay answers 421 to one recipient, then that email fails as a counted (transient) failure and the next recipient is sent', async () => {
    // Arrange
    const { smtp, transport } = await relay({ deferRecipient: (address) => (address.startsWith('busy@') ? 421 : undefined) });

    // Act
    const failure = await failureOf(transport.send(email('busy@example.test')));
    await transport.send(email('other@example.test'));

    // Assert
    assert.equal(failure.kind, 'transient', failure.err.message);
    assert.match(failure.err.message, /^SMTP send failed: .*421 on /);
    assert.ok(!failure.err.message.includes('busy@'), 'no address in the error');
    assert.deepEqual(smtp.recipientAttempts, [
      { address: 'busy@example.test', answer: 421 },
      { address: 'other@example.test', answer: 250 },
    ]);
    assert.equal(smtp.messages.length, 1);
  });

  it('When the relay answers 421 at the end of one email\'s DATA, then that email fails as a counted (transient) failure', async () => {
    // Arrange
    const { transport } = await relay({ deferData: (to) => (to.includes('heavy@example.test') ? 421 : undefined) });

    // Act
    const failure = await failureOf(transport.send(email('heavy@example.test')));

    // Assert
    assert.equal(failure.kind, 'transient', failure.err.message);
    assert.match(failure.err.message, /^SMTP send failed: EMESSAGE 421 on DATA$/);
  });

  it('When the relay greets with 421, then the email fails as "unavailable" (waited out, never counted)', async () => {
    // Arrange
    const { smtp, transport } = await relay({ closeSession: () => 'greeting' });

    // Act
    const failure = await failureOf(transport.send(email('anyone@example.test')));

    // Assert
    assert.equal(failure.kind, 'unavailable', failure.err.message);
    assert.match(failure.err.message, /^SMTP server unreachable: .*421/);
    assert.ok(smtp.closedSessions >= 1);
    assert.equal(smtp.recipientAttempts.length, 0);
  });

  it('When the relay answers 421 to MAIL FROM, then the email fails as "unavailable": it is about the session, not this recipient', async () => {
    // Arrange
    const { smtp, transport } = await relay({ closeSession: () => 'mail-from' });

    // Act
    const failure = await failureOf(transport.send(email('anyone@example.test')));

    // Assert
    assert.equal(failure.kind, 'unavailable', failure.err.message);
    assert.match(failure.err.message, /^SMTP server unreachable: EENVELOPE 421 on MAIL FROM$/);
    assert.equal(smtp.recipientAttempts.length, 0);
  });

  it('When nothing listens at the relay\'s address, then the email fails as "unavailable"', async () => {
    // Arrange: a port that was free a moment ago
    const probe = await startSmtpServer();
    await probe.stop();
    const transport = new SmtpTransport(probe.url);

    // Act
    const failure = await failureOf(transport.send(email('anyone@example.test'))).finally(() => transport.close());

    // Assert
    assert.equal(failure.kind, 'unavailable', failure.err.message);
  });
});
