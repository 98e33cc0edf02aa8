/**
 * Where a rendered email goes: an SMTP server, or (in development without SMTP_URL) the log.
 * `send` is the domain's EmailSender port; it rejects with PermanentError when the server
 * refused the email for good (retrying would get the same answer), with UnavailableError when
 * the server is out of reach, with another error when a later attempt may succeed.
 */
import type { EmailSender } from '../domain/ports.js';

export interface EmailTransport extends EmailSender {
  close(): Promise<void>;
}
