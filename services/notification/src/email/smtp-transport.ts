/**
 * Sending by SMTP with nodemailer: one pooled transport per process (connections are reused
 * across emails instead of a TCP + greeting round trip each). Failures are sorted into the
 * three kinds the consumer acts on:
 * - a permanent refusal of this email (5xx to RCPT TO or DATA): dead-lettered at once;
 * - the server out of reach (no connection, a timeout, a 421 "closing" before this email's
 *   transaction: to the greeting, EHLO or MAIL FROM): nothing is wrong with the email, so it is
 *   retried through the broker for as long as the outage lasts;
 * - anything else, a deferral above all (450/451: greylisting, a full mailbox; and a 421 to
 *   this email's RCPT TO or DATA, which a relay may answer for one recipient only): retried
 *   through the broker with back-off, up to the consumer's attempt limit. Counting that 421 is
 *   what lets such an email reach the dead-letter queue instead of cycling for ever.
 * Errors are rewritten without the server's reply text, which usually quotes the recipient's
 * address.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { PermanentError, UnavailableError } from '@warren/shared/messaging/consumer';
import type { OutgoingEmail } from '../domain/ports.js';
import type { EmailTransport } from './email-transport.js';

interface SmtpFailure {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  command?: string;
  message?: string;
}

/** Replies to these commands are about this email or its recipient, not about the session. */
const MESSAGE_COMMANDS = new Set(['RCPT TO', 'DATA']);

export class SmtpTransport implements EmailTransport {
  private readonly transporter: Transporter;

  constructor(url: string, opts: { maxConnections?: number } = {}) {
    this.transporter = nodemailer.createTransport({
      url,
      pool: true,
      // One connection per email the consumer sends at once, so none waits for another's.
      maxConnections: opts.maxConnections ?? 5,
      // A connection that drops mid-send is retried by nodemailer once; after that the
      // broker's retries (with their back-off) take over.
      maxRequeues: 1,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
      // Warren's emails carry no attachments: never let a message read files or fetch URLs.
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async send(email: OutgoingEmail): Promise<void> {
    try {
      await this.transporter.sendMail({
        from: email.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        ...(email.messageId ? { messageId: email.messageId } : {}),
      });
    } catch (err) {
      const failure = err as SmtpFailure;
      const detail = summarize(failure);
      if (isPermanent(failure)) throw new PermanentError(`SMTP server refused the email: ${detail}`);
      if (isUnreachable(failure)) throw new UnavailableError(`SMTP server unreachable: ${detail}`);
      throw new Error(`SMTP send failed: ${detail}`);
    }
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}

function isPermanent(f: SmtpFailure): boolean {
  // 5xx is a permanent refusal (RFC 5321), except 503, a session in the wrong state. A 5xx to
  // AUTH or MAIL FROM says the configuration is wrong, which affects every email and may be
  // fixed while the message is retried, so only replies about this email count.
  if (f.responseCode !== undefined) {
    return f.responseCode >= 500 && f.responseCode !== 503 && MESSAGE_COMMANDS.has(f.command ?? '');
  }
  // No reply at all: nodemailer itself found the envelope or message unsendable.
  return f.code === 'EENVELOPE' || f.code === 'EMESSAGE';
}

/** nodemailer's codes for a connection that could not be made or was lost. */
const CONNECTION_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS']);

function isUnreachable(f: SmtpFailure): boolean {
  // 421: the server is closing the session. Before this email's transaction (greeting, EHLO,
  // MAIL FROM) it says nothing about the email: the relay is overloaded or going away.
  if (f.responseCode === 421) return !closedOnThisEmail(f);
  if (f.responseCode !== undefined) return false;
  return CONNECTION_CODES.has(f.code ?? '');
}

/**
 * A 421 in reply to one of this email's commands. nodemailer reports it as that command's error
 * (RCPT TO, DATA), or, when it had closed the session on the reply first, as "Server closed the
 * connection" (ECONNECTION on CONN; a 421 greeting is EPROTOCOL, one to EHLO is on EHLO, one to
 * MAIL FROM on MAIL FROM). Anything it does not recognise stays "unreachable": retried without
 * limit, never lost.
 */
function closedOnThisEmail(f: SmtpFailure): boolean {
  if (MESSAGE_COMMANDS.has(f.command ?? '')) return true;
  return f.code === 'ECONNECTION' && f.command === 'CONN' && /^Server closed the connection\b/.test(f.message ?? '');
}

function summarize(f: SmtpFailure): string {
  const code = [f.code, f.originalCode].filter(Boolean).join('/') || 'error';
  // "on CONN" would read as a connection failure: it is the session closed on this email.
  const command = f.responseCode === 421 && f.command === 'CONN' && closedOnThisEmail(f) ? 'this email (session closed)' : f.command;
  return `${code}${f.responseCode ? ` ${f.responseCode}` : ''}${command ? ` on ${command}` : ''}`;
}
