/**
 * Sending a requested email: render the named template, hand it to the transport, remember the
 * AMQP message id. Idempotent by message id, and at least once rather than at most once:
 * - an id already recorded is acked without sending (a redelivery, a duplicate publish);
 * - the id is recorded only after the transport accepted the email, so a crash between the two
 *   sends it again when the message is redelivered. A second copy is the lesser evil: recording
 *   first would lose the email whenever the send then failed. The Message-ID header is derived
 *   from the message id, so a mail client can fold such copies into one;
 * - two deliveries of one id at the same moment in this process run one after the other (a
 *   duplicate publish with prefetch > 1 would otherwise pass the check twice). Between replicas
 *   that race remains, with the same outcome as a crash: a second copy.
 */
import type { EmailRequested } from '@warren/shared/contracts/email';
import { AppError } from '@warren/shared/errors';
import { renderEmail, type RenderedEmail } from './email-templates.js';
import type { EmailSender, Logger, Mailbox, SentEmails } from './ports.js';

export interface SendEmailDeps {
  transport: EmailSender;
  sentEmails: SentEmails;
  mailFrom: Mailbox;
  logger: Logger;
}

export type SendEmail = (request: EmailRequested, messageId: string) => Promise<void>;

export function createSendEmail(deps: SendEmailDeps): SendEmail {
  const inFlight = new Map<string, Promise<void>>();
  return async (request, messageId) => {
    const earlier = inFlight.get(messageId) ?? Promise.resolve();
    const run = earlier.catch(() => undefined).then(() => sendOnce(deps, request, messageId));
    inFlight.set(messageId, run);
    try {
      await run;
    } finally {
      if (inFlight.get(messageId) === run) inFlight.delete(messageId);
    }
  };
}

async function sendOnce(deps: SendEmailDeps, request: EmailRequested, messageId: string): Promise<void> {
  // Never the address itself, the code or the body: the domain is enough to spot a bad relay.
  const meta = { messageId, template: request.template, recipientDomain: domainOf(request.to) };
  if (await deps.sentEmails.wasSent(messageId)) {
    deps.logger.info('email already sent, not sending it again', meta);
    return;
  }
  let rendered: RenderedEmail;
  try {
    rendered = renderEmail(request.template, request.variables);
  } catch (err) {
    // 422: the request's content can never be rendered, so the consumer dead-letters it at once.
    throw new AppError({
      status: 422,
      code: 'email_not_renderable',
      title: 'Unprocessable Content',
      detail: `cannot render ${request.template}: ${(err as Error).message}`,
    });
  }
  await deps.transport.send({
    from: deps.mailFrom,
    to: request.to,
    ...rendered,
    messageId: headerMessageId(messageId, deps.mailFrom),
  });
  try {
    await deps.sentEmails.recordSent(messageId);
  } catch (err) {
    // The email is out: failing the message now would only make its redelivery send it again.
    deps.logger.warn('email sent but not recorded; a redelivery of it would be sent again', {
      ...meta,
      err: (err as Error).message,
    });
  }
  deps.logger.info('email sent', meta);
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** `<message id@sender's domain>`, when the AMQP id is safe inside a header (publishers use UUIDs). */
function headerMessageId(messageId: string, from: Mailbox): string | undefined {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(messageId)) return undefined;
  return `<${messageId}@${domainOf(from.address)}>`;
}
