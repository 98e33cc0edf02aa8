/** Where a rendered email goes: an SMTP server, or (in development without SMTP_URL) the log. */
import type { Mailbox } from './mailbox.js';

export interface OutgoingEmail {
  from: Mailbox;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Message-ID header: the same request sent twice carries the same one, so mail clients can fold the copies. */
  messageId?: string;
}

export interface EmailTransport {
  /**
   * Resolves once the email has been accepted. Rejects with PermanentError when the server
   * refused it for good (retrying would get the same answer), with another error when a later
   * attempt may succeed. Error messages never contain the recipient or the content.
   */
  send(email: OutgoingEmail): Promise<void>;
  close(): Promise<void>;
}
