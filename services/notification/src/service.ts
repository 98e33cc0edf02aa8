/**
 * Composition root of the notification service: config → logger → database → broker (consumers
 * of notification and email requests, RPC client for the JWKS) → HTTP inbox + WebSocket gateway.
 * `stop()` stops taking messages first, then closes sockets, HTTP, broker, SMTP and pool.
 */
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { connectAuthClient } from '@warren/shared/auth/auth-client';
import { createHttpApp } from '@warren/shared/http/app';
import { close, listen, portOf } from '@warren/shared/http/server';
import { Closers, type RunningService } from '@warren/shared/lifecycle';
import { maskUrl, type Logger } from '@warren/shared/logger';
import { createObservability, openBroker, openDatabase, readiness } from '@warren/shared/service-kit';
import type { NotificationConfig } from './config.js';
import { InboxRepository } from './db/inbox-repository.js';
import { SentEmailsRepository } from './db/sent-emails-repository.js';
import { createSendEmail } from './domain/send-email.js';
import type { EmailTransport } from './email/email-transport.js';
import { LogTransport } from './email/log-transport.js';
import { SmtpTransport } from './email/smtp-transport.js';
import { mountInboxRoutes } from './http/inbox-routes.js';
import { createEmailConsumer } from './messaging/email-consumer.js';
import { createNotificationConsumer } from './messaging/notification-consumer.js';
import { SocketRegistry } from './ws/socket-registry.js';
import { WsGateway } from './ws/ws-gateway.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./db/migrations', import.meta.url));

export type NotificationService = RunningService;

export function createNotificationService(config: NotificationConfig, opts: { logger?: Logger } = {}): NotificationService {
  const { logger, metrics } = createObservability(config, opts.logger);
  const closers = new Closers(logger);
  let server: Server | undefined;

  return {
    logger,
    port: () => portOf(server as Server),

    async start() {
      const pool = closers.add('database', await openDatabase(config, MIGRATIONS_DIR, logger), (p) => p.end());
      const inbox = new InboxRepository(pool);
      const broker = closers.add('broker', await openBroker(config, logger), (b) => b.close());
      const { rpc, verifier } = await connectAuthClient(broker, config, logger, metrics);
      closers.add('rpc client', rpc, (r) => r.close());

      const registry = new SocketRegistry();
      const app = createHttpApp({
        logger,
        metrics,
        corsOrigins: config.corsOrigins,
        bodyLimit: config.httpBodyLimit,
        readiness: readiness(pool, broker),
        mount: (a) => mountInboxRoutes(a, { verifier, inbox }),
      });
      server = closers.add('http', await listen(app, config.port, config.httpHost), close);
      const gateway = new WsGateway({
        verifier,
        registry,
        unreadCount: (userId) => inbox.unreadCount(userId),
        logger,
        maxPayloadBytes: config.wsMaxPayloadBytes,
        heartbeatMs: config.wsHeartbeatMs,
      });
      closers.add('websocket', gateway, (g) => g.close());
      gateway.attach(server);

      const requests = createNotificationConsumer(
        broker,
        config.brokerNamespace,
        config.consumerPrefetch,
        {
          inbox,
          logger,
          deliver: (entries) => {
            for (const e of entries) registry.sendToUser(e.userId, { type: 'notification', notification: e.notification });
          },
        },
        logger,
        metrics,
      );
      closers.add('notification consumer', requests, (c) => c.stop());
      await requests.waitReady();

      const mailer = closers.add('mailer', createMailer(config, logger), (m) => m.close());
      const emails = createEmailConsumer(
        broker,
        config.brokerNamespace,
        createSendEmail({ transport: mailer, sentEmails: new SentEmailsRepository(pool), mailFrom: config.mailFrom, logger }),
        logger,
        metrics,
      );
      closers.add('email consumer', emails, (c) => c.stop());
      await emails.waitReady();
      logger.info('notification service started', { port: portOf(server), namespace: config.brokerNamespace });
    },

    async stop() {
      // Reverse order: consumers stop taking messages first, sockets and HTTP close, then the
      // broker, the mailer and the pool.
      await closers.closeAll();
      logger.info('notification service stopped');
    },
  };
}

/** SMTP when SMTP_URL is set; otherwise (never in production, config refuses it) the log. */
function createMailer(config: NotificationConfig, logger: Logger): EmailTransport {
  if (config.smtpUrl) {
    logger.info('emails are sent by SMTP', { smtp: maskUrl(config.smtpUrl) });
    return new SmtpTransport(config.smtpUrl);
  }
  logger.warn('SMTP_URL is unset: emails are written to the log instead of being sent');
  return new LogTransport(logger);
}
