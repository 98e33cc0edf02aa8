/**
 * Consumes `email.requested` from the durable queue into the send-email use case, several at
 * once: one recipient's slow or deferring mail server never holds up another's code. A failed
 * email is never waited for here: the consumer sends it through the broker's delay queues
 * (1 s, 5 s, then every 15 s) while the emails behind it go out. A permanent refusal (5xx) is
 * dead-lettered at once, a deferral (4xx) after `maxAttempts`, and an unreachable SMTP server
 * is waited out however long it takes.
 * Retried emails come back to the queue's retry lane, `<ns>.email.requests.retries`, handled
 * in slots of their own (`retryConcurrency`): however many deferred emails are cycling, the
 * `concurrency` slots of fresh ones stay theirs, so a new code goes out at once.
 */
import { emailRequestedSchema } from '@warren/shared/contracts/email';
import { topology } from '@warren/shared/contracts/topology';
import { Consumer, PermanentError } from '@warren/shared/messaging/consumer';
import type { SendEmail } from '../domain/send-email.js';
import type { ConsumerWiring } from './consumer-wiring.js';

export interface EmailConsumerSettings {
  /** Fresh emails handled at once (EMAIL_CONCURRENCY). */
  concurrency: number;
  /** Retried emails handled at once, besides those (EMAIL_RETRY_CONCURRENCY). */
  retryConcurrency: number;
  /** Attempts before a deferred email is dead-lettered (EMAIL_MAX_ATTEMPTS). */
  maxAttempts: number;
}

export function createEmailConsumer({
  broker,
  namespace,
  logger,
  metrics,
  settings,
  sendEmail,
}: ConsumerWiring & { settings: EmailConsumerSettings; sendEmail: SendEmail }) {
  return new Consumer({
    broker,
    logger,
    metrics,
    name: 'email-requests',
    queue: topology(namespace).queues.emailRequests,
    schema: emailRequestedSchema,
    // Twice the slots: the next emails are already here when a slot frees up.
    prefetch: settings.concurrency * 2,
    concurrency: settings.concurrency,
    retryLane: { concurrency: settings.retryConcurrency, prefetch: settings.retryConcurrency * 2 },
    maxAttempts: settings.maxAttempts,
    handler: async (request, meta) => {
      // The message id is what makes sending idempotent; every Warren publisher sets one.
      if (!meta.messageId) throw new PermanentError('email.requested without a message-id: a redelivery could not be recognised');
      await sendEmail(request, meta.messageId);
    },
  });
}
