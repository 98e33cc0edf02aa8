/**
 * The send-email use case through its ports alone (domain/ports.ts): an email that cannot be
 * rendered fails in a way the consumer dead-letters at once, and nothing is sent or recorded.
 * The contract's schema refuses such a request before it reaches the use case, so only a
 * direct call can show the use case's own guard. The stand-ins record calls; they are the
 * ports' shapes, not a database or a broker (the full path runs in email-sending.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EmailRequested } from '@warren/shared/contracts/email';
import { createLogger } from '@warren/shared/logger';
import { classifyFailure } from '@warren/shared/messaging/failure-kind';
import type { EmailSender, OutgoingEmail, SentEmails } from '../src/domain/ports.js';
import { createSendEmail } from '../src/domain/send-email.js';

function recordingPorts() {
  const sent: OutgoingEmail[] = [];
  const recorded: string[] = [];
  const transport: EmailSender = { send: async (email) => void sent.push(email) };
  const sentEmails: SentEmails = { wasSent: async (id) => recorded.includes(id), recordSent: async (id) => void recorded.push(id) };
  return { sent, recorded, transport, sentEmails };
}

const logger = createLogger({ service: 'notification', env: 'test', level: 'error' });
const mailFrom = { name: 'Warren', address: 'no-reply@warren.test' };

describe('send-email through its ports', () => {
  it('When a request cannot be rendered, then it fails as permanent (dead-lettered at once) and nothing is sent or recorded', async () => {
    // Arrange: verify_email without its code, which the message schema would have refused.
    const ports = recordingPorts();
    const sendEmail = createSendEmail({ ...ports, mailFrom, logger });
    const request = { to: 'dave@example.test', template: 'verify_email', variables: {}, requestedAt: new Date().toISOString() } as EmailRequested;

    // Act
    const failure = await sendEmail(request, 'c0ffee00-0000-4000-8000-000000000001').then(
      () => undefined,
      (err: unknown) => err,
    );

    // Assert
    assert.ok(failure, 'the send fails');
    assert.deepEqual(classifyFailure(failure), { kind: 'permanent', reason: 'permanent_error' });
    assert.match((failure as Error).message, /cannot render verify_email/);
    assert.deepEqual(ports.sent, []);
    assert.deepEqual(ports.recorded, []);
  });

  it('When a request renders, then it goes out once with a Message-ID of its message id, and a second delivery is not sent', async () => {
    // Arrange
    const ports = recordingPorts();
    const sendEmail = createSendEmail({ ...ports, mailFrom, logger });
    const request: EmailRequested = {
      to: 'erin@example.test',
      template: 'password_changed',
      variables: { name: 'Erin' },
      requestedAt: new Date().toISOString(),
    };

    // Act
    await sendEmail(request, 'message-1');
    await sendEmail(request, 'message-1');

    // Assert
    assert.equal(ports.sent.length, 1);
    assert.equal(ports.sent[0]?.to, 'erin@example.test');
    assert.equal(ports.sent[0]?.messageId, '<message-1@warren.test>');
    assert.deepEqual(ports.recorded, ['message-1']);
  });
});
