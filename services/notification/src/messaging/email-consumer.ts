/** Consumes `email.requested` from the durable queue into the send-email use case. */
import { emailRequestedSchema } from '@warren/shared/contracts/email';
import { topology } from '@warren/shared/contracts/topology';
import type { Logger } from '@warren/shared/logger';
import type { Broker } from '@warren/shared/messaging/broker';
import { Consumer, PermanentError } from '@warren/shared/messaging/consumer';
import type { Metrics } from '@warren/shared/metrics';
import type { SendEmail } from '../domain/send-email.js';

/** Emails in flight per replica: enough to keep a few SMTP connections busy. */
const PREFETCH = 10;
/**
 * An unreachable SMTP server is retried with a growing pause (1 s, 2 s, ... 7 s: about half a
 * minute in all) before the message is dead-lettered, long enough for a relay restart, short
 * enough that a verification code still arrives while it is valid.
 */
const MAX_ATTEMPTS = 8;
const RETRY_DELAY_MS = 1000;

export function createEmailConsumer(broker: Broker, namespace: string, sendEmail: SendEmail, logger: Logger, metrics: Metrics) {
  return new Consumer(
    broker,
    {
      name: 'email-requests',
      namespace,
      queue: topology(namespace).emailRequestsQueue,
      schema: emailRequestedSchema,
      prefetch: PREFETCH,
      maxAttempts: MAX_ATTEMPTS,
      retryDelayMs: RETRY_DELAY_MS,
      handler: async (request, meta) => {
        // The message id is what makes sending idempotent; every Warren publisher sets one.
        if (!meta.messageId) throw new PermanentError('email.requested without a message-id: a redelivery could not be recognised');
        await sendEmail(request, meta.messageId);
      },
    },
    logger,
    metrics,
  );
}
