/**
 * A real SMTP server inside the test process (smtp-server, on port 0 unless told otherwise). It
 * keeps every email it accepts, raw and parsed by mailparser into the few parts a test reads:
 * envelope, headers, subject, text and HTML bodies. Tests wait for an email instead of
 * sleeping, and read a one-time code out of it with `codeIn`.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedEmail {
  /** MAIL FROM and RCPT TO, as the server saw them. */
  envelope: { from: string; to: string[] };
  /** Header values by lower-case name, unfolded, encoded words decoded (the first of repeated ones). */
  headers: Record<string, string>;
  subject: string;
  /** The text/plain part with its transfer encoding undone and LF line ends ('' if none). */
  text: string;
  /** The text/html part, decoded the same way ('' if none). */
  html: string;
  raw: string;
}

export interface SmtpServerOptions {
  /** Listen on this port, e.g. to bring back a server that a test stopped. Default 0 (any). */
  port?: number;
  /** Recipients for which RCPT TO is answered `550 5.1.1` (a permanent rejection). */
  rejectRecipient?: (address: string) => boolean;
  /**
   * Recipients for which RCPT TO is answered with a temporary refusal, as a greylisting relay
   * does: the 4xx code to answer (450 or 451; 421 also closes the session, as a relay that
   * will not take mail for that recipient now may do), or undefined to accept. Asked at every
   * RCPT TO, so a test can lift it.
   */
  deferRecipient?: (address: string) => 421 | 450 | 451 | undefined;
  /** Emails (by their recipients) whose end of DATA is answered with this 4xx instead of 250 (421 closes the session). */
  deferData?: (recipients: string[]) => 421 | 451 | undefined;
  /**
   * Sessions answered `421 4.3.2` (and closed) at the greeting or at MAIL FROM, as an overloaded
   * or stopping relay does, whatever the email; undefined to serve. Asked for every session.
   */
  closeSession?: () => 'greeting' | 'mail-from' | undefined;
  /** Pause before answering a deferral, as Postfix does before every error reply (smtpd_error_sleep_time, 1 s). */
  deferDelayMs?: number;
}

/** One RCPT TO the server answered, in order. */
export interface RecipientAttempt {
  address: string;
  /** 250 accepted, 421/450/451 deferred, 550 rejected. */
  answer: number;
}

export interface TestSmtpServer {
  /** smtp://127.0.0.1:<port>, ready for SMTP_URL. */
  url: string;
  port: number;
  messages: ReceivedEmail[];
  /** Every RCPT TO so far and how it was answered (how often a sender tried a recipient). */
  recipientAttempts: RecipientAttempt[];
  /** Sessions refused with 421 by `closeSession` so far. */
  closedSessions: number;
  /** The first email (already received or still to come) that matches; rejects after timeoutMs. */
  waitForMessage(predicate?: (m: ReceivedEmail) => boolean, timeoutMs?: number): Promise<ReceivedEmail>;
  stop(): Promise<void>;
}

export async function startSmtpServer(opts: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ReceivedEmail[] = [];
  const recipientAttempts: RecipientAttempt[] = [];
  const waiters = new Set<(m: ReceivedEmail) => void>();
  let closedSessions = 0;
  /** A 421 reply: smtp-server sends it and closes the session, as RFC 5321 says a 421 does. */
  const closing = (text: string) => Object.assign(new Error(text), { responseCode: 421 });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // stop() should not wait for the idle connections of a client's pool.
    closeTimeout: 100,
    onConnect(_session, callback) {
      if (opts.closeSession?.() !== 'greeting') return callback();
      closedSessions++;
      callback(closing('4.3.2 Service not available, closing transmission channel'));
    },
    onMailFrom(_address, _session, callback) {
      if (opts.closeSession?.() !== 'mail-from') return callback();
      closedSessions++;
      callback(closing('4.3.2 Too busy, closing transmission channel'));
    },
    onRcptTo(address, _session, callback) {
      if (opts.rejectRecipient?.(address.address)) {
        recipientAttempts.push({ address: address.address, answer: 550 });
        const err = Object.assign(new Error('5.1.1 Recipient address rejected: no such user'), { responseCode: 550 });
        return callback(err);
      }
      const deferred = opts.deferRecipient?.(address.address);
      if (deferred !== undefined) {
        recipientAttempts.push({ address: address.address, answer: deferred });
        const err = Object.assign(new Error('4.7.1 Recipient address rejected: greylisted, try again later'), { responseCode: deferred });
        if (opts.deferDelayMs) return void setTimeout(() => callback(err), opts.deferDelayMs);
        return callback(err);
      }
      recipientAttempts.push({ address: address.address, answer: 250 });
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        const deferred = opts.deferData?.(envelope.to);
        if (deferred !== undefined) return callback(Object.assign(new Error('4.3.0 Try again later'), { responseCode: deferred }));
        parseEmail(Buffer.concat(chunks).toString('utf8'), envelope).then((message) => {
          messages.push(message);
          for (const w of [...waiters]) w(message);
          callback();
        }, callback);
      });
    },
  });
  server.on('error', () => undefined); // a client dropping its connection is not a test failure

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    recipientAttempts,
    get closedSessions() {
      return closedSessions;
    },
    waitForMessage(predicate = () => true, timeoutMs = 5000) {
      // A predicate that throws (say, codeIn on an email without a code) just does not match.
      const matches = (m: ReceivedEmail) => {
        try {
          return predicate(m);
        } catch {
          return false;
        }
      };
      const found = messages.find(matches);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching email within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        const waiter = (m: ReceivedEmail) => {
          if (!matches(m)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(m);
        };
        waiters.add(waiter);
      });
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The 6-digit one-time code in an email's text; throws if there is none. */
export function codeIn(message: ReceivedEmail): string {
  const match = /\b(\d{6})\b/.exec(message.text);
  if (!match?.[1]) throw new Error(`no 6-digit code in the email "${message.subject}"`);
  return match[1];
}

export async function parseEmail(raw: string, envelope: ReceivedEmail['envelope']): Promise<ReceivedEmail> {
  const parsed = await simpleParser(raw);
  // Header values as the test reads them: plain strings (address headers as their text form).
  const headers: Record<string, string> = {};
  for (const line of parsed.headerLines) {
    const value = parsed.headers.get(line.key);
    headers[line.key] ??= typeof value === 'string' ? value : value && 'text' in value ? String(value.text) : line.line.slice(line.key.length + 1).trim();
  }
  return {
    envelope,
    headers,
    subject: parsed.subject ?? '',
    text: (parsed.text ?? '').replace(/\r\n/g, '\n'),
    html: typeof parsed.html === 'string' ? parsed.html : '',
    raw,
  };
}
