/**
 * The notification service's configuration: the kit's variables (logging, broker, database pool,
 * HTTP), its port and database, what an auth client reads, plus consumer, socket and email settings.
 */
import { z } from 'zod';
import { authClientSettings, authClientVariables } from '@warren/shared/auth/config';
import { loadConfig, type Env, type PortVariable } from '@warren/shared/config';
import { defaultNamespace } from '@warren/shared/contracts/topology';
import { parseMailbox } from './email/mailbox.js';

/** Read by the container healthcheck too (deploy/healthcheck.mjs). */
export const HTTP_PORT: PortVariable = { variable: 'NOTIFICATION_PORT', defaults: { dev: 3002, qa: 4002 } };

const int = z.coerce.number().int();

const SMTP_PROTOCOLS = ['smtp:', 'smtps:'];
const smtpUrl = z
  .string({ error: 'required when NODE_ENV=production (outside production, unset means emails are only logged)' })
  .refine((v) => {
    try {
      return SMTP_PROTOCOLS.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, 'must be a URL starting with smtp:// or smtps://');

const mailbox = z
  .string()
  .refine((v) => parseMailbox(v) !== undefined, 'must be a mailbox such as "Warren <no-reply@example.com>" or no-reply@example.com');

export function loadNotificationConfig(env: Env = process.env) {
  // In production an unset SMTP_URL would silently log emails (codes included) instead of
  // sending them, so there it is required. Decided here, where NODE_ENV is at hand, rather than
  // after parsing, so that it is reported together with every other bad variable.
  const production = env.NODE_ENV === 'production';
  return loadConfig(
    {
      service: 'notification',
      port: HTTP_PORT,
      database: { variable: 'NOTIFICATION_DATABASE_URL', name: (appEnv) => `warren_notification_${appEnv}` },
      brokerNamespace: defaultNamespace,
      variables: (appEnv) =>
        z.object({
          ...authClientVariables(appEnv),
          /** Messages stored per transaction, and how long a partial batch may wait for more. */
          NOTIFICATION_BATCH_SIZE: int.min(1).max(1000).default(100),
          NOTIFICATION_BATCH_WAIT_MS: int.min(0).max(1000).default(10),
          NOTIFICATION_RETENTION_DAYS: int.min(1).max(3650).default(180),
          /** Largest frame a client may send (bytes); bigger ones close the socket with 1009. */
          WS_MAX_PAYLOAD_BYTES: int.min(256).max(1_048_576).default(16_384),
          /** Interval of server pings; a socket that has not answered the previous one is dropped. */
          WS_HEARTBEAT_MS: int.min(1000).max(300_000).default(30_000),
          /** Unsent bytes a socket may hold before it is closed as a slow consumer (4008). */
          WS_MAX_BUFFERED_BYTES: int.min(16_384).max(64 * 1_048_576).default(1_048_576),
          WS_MAX_CONNECTIONS: int.min(1).max(1_000_000).default(20_000),
          WS_MAX_CONNECTIONS_PER_USER: int.min(1).max(1000).default(10),
          /** Sockets one client address may hold before they authenticate; past it the upgrade is refused with 429. */
          WS_MAX_UNAUTHENTICATED_PER_ADDRESS: int.min(1).max(100_000).default(20),
          /** How many reverse proxies in front are trusted to set X-Forwarded-For (0: none). */
          TRUST_PROXY: int.min(0).max(10).default(0),
          SMTP_URL: production ? smtpUrl : smtpUrl.optional(),
          MAIL_FROM: mailbox.default('Warren <no-reply@warren.localhost>'),
          /**
           * Fresh emails sent at once per replica (and SMTP connections kept open for them). A
           * relay may take a second to answer each deferral (Postfix pauses before error
           * replies), so enough slots that a burst of deferred emails leaves room for the
           * others; Postfix itself sends up to 20 at once to one destination.
           */
          EMAIL_CONCURRENCY: int.min(1).max(64).default(16),
          /**
           * Retried emails sent at once per replica, in slots (and SMTP connections) of their
           * own: deferred emails cycling through the retries never take a fresh email's slot.
           * A few: a retry has waited at least a second already.
           */
          EMAIL_RETRY_CONCURRENCY: int.min(1).max(64).default(4),
          /**
           * Attempts at an email the SMTP server defers (4xx) before it is dead-lettered. Retries
           * wait 1 s, 5 s, then 15 s each, so the default 60 keeps trying for about 15 minutes,
           * the lifetime of a code, well past a greylisting relay's usual few minutes.
           */
          EMAIL_MAX_ATTEMPTS: int.min(1).max(1000).default(60),
        }),
      build: (v) => ({
        authClient: authClientSettings(v),
        batch: { batchSize: v.NOTIFICATION_BATCH_SIZE, maxWaitMs: v.NOTIFICATION_BATCH_WAIT_MS },
        retentionDays: v.NOTIFICATION_RETENTION_DAYS,
        ws: {
          maxPayloadBytes: v.WS_MAX_PAYLOAD_BYTES,
          heartbeatMs: v.WS_HEARTBEAT_MS,
          maxBufferedBytes: v.WS_MAX_BUFFERED_BYTES,
          maxConnections: v.WS_MAX_CONNECTIONS,
          maxConnectionsPerUser: v.WS_MAX_CONNECTIONS_PER_USER,
          maxUnauthenticatedPerAddress: v.WS_MAX_UNAUTHENTICATED_PER_ADDRESS,
          trustProxy: v.TRUST_PROXY,
        },
        trustProxy: v.TRUST_PROXY,
        /** Unset (outside production only): emails are written to the log instead of being sent. */
        smtpUrl: v.SMTP_URL,
        mailFrom: parseMailbox(v.MAIL_FROM) as { name: string; address: string },
        email: { concurrency: v.EMAIL_CONCURRENCY, retryConcurrency: v.EMAIL_RETRY_CONCURRENCY, maxAttempts: v.EMAIL_MAX_ATTEMPTS },
      }),
    },
    env,
  );
}
export type NotificationConfig = ReturnType<typeof loadNotificationConfig>;
