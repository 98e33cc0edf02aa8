/**
 * Composition root of the main backend: config → logger → database → broker (publisher, RPC
 * client to auth) → HTTP. The public REST API of Warren lives here; auth is reached over RPC.
 */
import { fileURLToPath } from 'node:url';
import { connectAuthClient } from '@warren/shared/auth/auth-client';
import { createHttpApp } from '@warren/shared/http/app';
import type { RunningService } from '@warren/shared/lifecycle';
import type { Logger } from '@warren/shared/logger';
import { Publisher } from '@warren/shared/messaging/publisher';
import { defineService, readiness } from '@warren/shared/service-kit';
import type { MainConfig } from './config.js';
import { IdempotencyRepository } from './db/idempotency-repository.js';
import { purgeExpired } from './db/housekeeping.js';
import { startHousekeeping } from '@warren/shared/db/batched-delete';
import { mainBackendApi } from './http/api.js';
import { mountAuditRoutes } from './http/audit-routes.js';
import { mountAuthRoutes } from './http/auth-routes.js';
import { mountNotificationRoutes, notificationRoutes } from './http/notification-routes.js';
import { authRateLimit } from './http/rate-limit.js';
import { requireLiveSession } from './http/require-live-session.js';
import { SessionLiveness } from './http/session-liveness.js';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { mountSessionRoutes } from './http/session-routes.js';
import { mountUserRoutes } from './http/user-routes.js';
import { notificationBatchRequester, notificationRequester } from './messaging/notification-requests.js';
import { requireAuth, requirePermission } from '@warren/shared/auth/require-auth';
import { EndedSessions } from '@warren/shared/auth/ended-sessions';
import { SessionEndedSubscription } from '@warren/shared/auth/session-ended-subscription';
import { eventsPublishedBy, topology } from '@warren/shared/contracts/topology';
import { routeResources } from '@warren/shared/messaging/topology';

const MIGRATIONS_DIR = fileURLToPath(new URL('./db/migrations', import.meta.url));

export type MainBackendService = RunningService;

export function createMainBackendService(config: MainConfig, opts: { logger?: Logger } = {}): RunningService {
  return defineService(config, { ...opts, name: 'main backend' }, async ({ logger, metrics, closers, openDatabase, openBroker, listen }) => {
    const pool = await openDatabase(MIGRATIONS_DIR);
    const broker = await openBroker();
    const t = topology(config.brokerNamespace);
    // Declares the notification requests queue (notification.requested and .batch.requested): a
    // request accepted before any notification replica ever started still lands in it. The same
    // list gives main-backend's broker user its permissions (contracts/broker-users.ts).
    const publisher = closers.add(
      'publisher',
      new Publisher({ broker, logger, metrics, declares: routeResources(...eventsPublishedBy(t, 'main-backend')) }),
      (p) => p.close(),
    );
    const { rpc, verifier } = await connectAuthClient({ broker, namespace: config.brokerNamespace, settings: config.authClient, logger, metrics, closers });
    // Ended sessions announced by auth are refused at once; what this replica missed while not
    // subscribed is caught by the session check below, which uses only answers taken since the
    // current subscription began (an end may have been announced in a gap).
    const ended = closers.add('ended sessions', new EndedSessions(), (e) => e.stop());
    const endedLive = new SessionEndedSubscription({
      broker,
      namespace: config.brokerNamespace,
      logger,
      onEnded: (m) => ended.end(m.sessionId, Date.parse(m.expiresAt)),
    });
    closers.add('session-ended subscription', endedLive, (s) => s.close());
    const liveness = new SessionLiveness({
      ask: async (sessionId) => (await rpc.call(authRpc.sessionActive, { sessionId })).active,
      freshMs: config.sessionCheckCacheSeconds * 1000,
      staleMs: config.sessionCheckStaleSeconds * 1000,
      heardSince: () => endedLive.listeningSince(),
      logger,
    });
    await endedLive.waitReady();
    const idempotency = new IdempotencyRepository(pool);
    startHousekeeping(closers, logger, (signal) => purgeExpired(pool, { signal }));
    const rateLimit = authRateLimit(pool, config.authRateLimitPerMinute);
    closers.add('rate limit store', rateLimit.store, (s) => s.shutdown());
    const app = await createHttpApp({
      logger,
      metrics,
      corsOrigins: config.corsOrigins,
      bodyLimit: config.httpBodyLimit,
      ownBodyPaths: [notificationRoutes.sendBatch.path],
      trustProxy: config.trustProxy,
      readiness: readiness(pool, broker),
      api: mainBackendApi,
      guards: { authenticate: [requireAuth(verifier, ended), requireLiveSession(liveness)], permission: requirePermission },
      mount: (routes) => {
        mountAuthRoutes(routes, { rpc, verifier, rateLimit: rateLimit.handler });
        mountSessionRoutes(routes, { rpc });
        mountUserRoutes(routes, { rpc });
        mountAuditRoutes(routes, { rpc });
        mountNotificationRoutes(routes, {
          idempotency,
          publishRequest: notificationRequester(publisher, config.brokerNamespace),
          publishBatchRequest: notificationBatchRequester(publisher, config.brokerNamespace),
          bodyLimit: config.httpBodyLimit,
        });
      },
    });
    await listen(app);
  });
}
