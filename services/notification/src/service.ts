/**
 * Composition root of the notification service: config → logger → database → broker (consumers
 * of notification and email requests, RPC client for the JWKS) → HTTP inbox + WebSocket gateway.
 * `stop()` stops taking messages first, then closes sockets, HTTP, broker, SMTP and pool.
 */
import { fileURLToPath } from 'node:url';
import { connectAuthClient } from '@warren/shared/auth/auth-client';
import { EndedSessions } from '@warren/shared/auth/ended-sessions';
import { requireAuth, requirePermission } from '@warren/shared/auth/require-auth';
import { SessionEndedSubscription } from '@warren/shared/auth/session-ended-subscription';
import { createHttpApp } from '@warren/shared/http/app';
import type { RunningService } from '@warren/shared/lifecycle';
import { maskUrl, type Logger } from '@warren/shared/logger';
import { defineService, readiness } from '@warren/shared/service-kit';
import { topology } from '@warren/shared/contracts/topology';
import { ownedQueues, startQueueDepthGauge } from '@warren/shared/messaging/queue-depth';
import { startHousekeeping } from '@warren/shared/db/batched-delete';
import { purgeExpired } from './db/housekeeping.js';
import type { NotificationConfig } from './config.js';
import { InboxRepository } from './db/inbox-repository.js';
import { SentEmailsRepository } from './db/sent-emails-repository.js';
import { createSendEmail } from './domain/send-email.js';
import type { EmailTransport } from './email/email-transport.js';
import { LogTransport } from './email/log-transport.js';
import { SmtpTransport } from './email/smtp-transport.js';
import { mountAsyncApiRoute, notificationApi } from './http/api.js';
import { mountInboxRoutes } from './http/inbox-routes.js';
import { mountSendStatusRoutes } from './http/send-status-routes.js';
import { mountSentRoutes } from './http/sent-routes.js';
import { sendStatus, sentBy } from './db/sends-repository.js';
import { createEmailConsumer } from './messaging/email-consumer.js';
import { createNotificationConsumer } from './messaging/notification-consumer.js';
import { DirectoryRepository } from './db/directory-repository.js';
import { markAllRead, markRead, type ReadStateDeps } from './domain/read-state.js';
import { RetentionPruner } from './domain/retention.js';
import { createDirectoryConsumer } from './messaging/directory-consumer.js';
import { EndedSessionsRepository } from './db/ended-sessions-repository.js';
import { EndedSessionsSync } from './db/ended-sessions-sync.js';
import { createSessionEndedConsumer } from './messaging/session-ended-consumer.js';
import type { ConsumerWiring } from './messaging/consumer-wiring.js';
import { createUserLookup } from './messaging/user-lookup.js';
import { startLiveDelivery } from './live/start-live-delivery.js';
import { WsGateway } from './ws/ws-gateway.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./db/migrations', import.meta.url));

export type NotificationService = RunningService;

export function createNotificationService(config: NotificationConfig, opts: { logger?: Logger } = {}): RunningService {
  return defineService(config, { ...opts, name: 'notification service' }, async ({ logger, metrics, closers, openDatabase, openBroker, listen }) => {
    const pool = await openDatabase(MIGRATIONS_DIR);
    const inbox = new InboxRepository(pool);
    const directory = new DirectoryRepository(pool);
    const broker = await openBroker();
    const wiring: ConsumerWiring = { broker, namespace: config.brokerNamespace, logger, metrics };
    const { rpc, verifier } = await connectAuthClient({ ...wiring, settings: config.authClient, closers });

    // Ended sessions: announced to every replica at once, recorded in the database by a durable
    // consumer, and loaded from it before anyone is served (see ended-sessions-sync.ts).
    const ended = closers.add('ended sessions', new EndedSessions(), (e) => e.stop());
    const endedRepository = new EndedSessionsRepository(pool);
    const endedSync = new EndedSessionsSync(endedRepository, ended, logger);
    const endedLive = new SessionEndedSubscription({
      broker,
      namespace: config.brokerNamespace,
      logger,
      onEnded: (m) => ended.end(m.sessionId, Date.parse(m.expiresAt)),
      onResubscribed: () => void endedSync.syncNow(),
    });
    closers.add('session-ended subscription', endedLive, (s) => s.close());
    await endedLive.waitReady();
    await endedSync.start();
    closers.add('ended sessions sync', endedSync, (s) => s.stop());
    const endedConsumer = createSessionEndedConsumer({ ...wiring, repository: endedRepository, ended });
    closers.add('session-ended consumer', endedConsumer, (c) => c.stop());
    await endedConsumer.waitReady();

    // Live path (live/): publishing after commit, commit order across replicas, re-sync, sockets.
    const live = await startLiveDelivery({ broker, namespace: config.brokerNamespace, inbox, logger, closers });
    const readState: ReadStateDeps = { inbox, announce: (c) => live.announceRead(c) };

    const app = await createHttpApp({
      logger,
      metrics,
      corsOrigins: config.corsOrigins,
      bodyLimit: config.httpBodyLimit,
      trustProxy: config.trustProxy,
      readiness: readiness(pool, broker),
      api: notificationApi,
      // A token of a session that has ended (logout, password reset, ...) is refused at once.
      guards: { authenticate: [requireAuth(verifier, ended)], permission: requirePermission },
      mount: (routes) => {
        mountInboxRoutes(routes, { inbox, readState });
        // Before /notifications/:id, which would take `sent` for a send id.
        mountSentRoutes(routes, { sent: (senderId, limit, before) => sentBy(pool, senderId, limit, before) });
        mountSendStatusRoutes(routes, { status: (id, senderId) => sendStatus(pool, id, senderId) });
        mountAsyncApiRoute(routes);
      },
    });
    const server = await listen(app);
    const gateway = closers.add(
      'websocket',
      new WsGateway({
        verifier,
        ended,
        unreadCount: (u) => inbox.unreadCount(u),
        live,
        markRead: (u, ids) => markRead(readState, u, ids),
        markAllRead: (u) => markAllRead(readState, u),
        logger,
        metrics,
        limits: config.ws,
      }),
      (g) => g.close(),
    );
    gateway.attach(server);

    const directoryConsumer = closers.add('directory consumer', createDirectoryConsumer({ ...wiring, directory }), (c) => c.stop());
    await directoryConsumer.waitReady();
    const requests = createNotificationConsumer({
      ...wiring,
      batch: config.batch,
      deps: {
        inbox,
        directory,
        logger,
        deliver: (batch, entries) => live.publishStored(batch, entries),
        lookupUsers: createUserLookup(rpc),
      },
    });
    closers.add('notification consumer', requests, (c) => c.stop());
    await requests.waitReady();

    const mailer = closers.add('mailer', createMailer(config, logger), (m) => m.close());
    const emails = createEmailConsumer({
      ...wiring,
      settings: config.email,
      sendEmail: createSendEmail({ transport: mailer, sentEmails: new SentEmailsRepository(pool), mailFrom: config.mailFrom, logger }),
    });
    closers.add('email consumer', emails, (c) => c.stop());
    await emails.waitReady();

    // Its work queues' backlog and dead letters, for the on-call person (docs/operations.md).
    startQueueDepthGauge({ broker, closers, logger, metrics, queues: ownedQueues(Object.values(topology(config.brokerNamespace).queues), 'notification') });

    const pruner = new RetentionPruner(inbox, config.retentionDays, logger);
    startHousekeeping(closers, logger, async (signal) => {
      await pruner.pruneAll(signal);
      return purgeExpired(pool, { retentionDays: config.retentionDays, signal });
    });
  });
}

/** SMTP when SMTP_URL is set; otherwise (never in production, config refuses it) the log. */
function createMailer(config: NotificationConfig, logger: Logger): EmailTransport {
  if (config.smtpUrl) {
    logger.info('emails are sent by SMTP', { smtp: maskUrl(config.smtpUrl) });
    // A connection for every email the consumer sends at once, in both lanes: a fresh email
    // never waits for a pooled connection that a deferred one holds.
    return new SmtpTransport(config.smtpUrl, { maxConnections: config.email.concurrency + config.email.retryConcurrency });
  }
  logger.warn('SMTP_URL is unset: emails are written to the log instead of being sent');
  return new LogTransport(logger);
}
