/**
 * Development without an SMTP server: the email is written to the log instead of being sent
 * (the contract's rule for an unset SMTP_URL outside production). The body, with its code, is
 * logged on purpose: it is how a developer reads the code. Config refuses this in production.
 */
import type { Logger } from '@warren/shared/logger';
import type { OutgoingEmail } from '../domain/ports.js';
import type { EmailTransport } from './email-transport.js';

export class LogTransport implements EmailTransport {
  constructor(private readonly logger: Logger) {}

  async send(email: OutgoingEmail): Promise<void> {
    this.logger.info('email written to log (SMTP_URL unset)', { to: email.to, subject: email.subject, body: email.text });
  }

  async close(): Promise<void> {}
}
