/**
 * Composition root of the main backend: config → logger → database → broker (publisher, RPC
 * client to auth) → HTTP. The public REST API of Warren lives here; auth is reached over RPC.
 */
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { connectAuthClient } from '@warren/shared/auth/auth-client';
import { createHttpApp } from '@warren/shared/http/app';
import { close, listen, portOf } from '@warren/shared/http/server';
import { Closers, type RunningService } from '@warren/shared/lifecycle';
import type { Logger } from '@warren/shared/logger';
import { Publisher } from '@warren/shared/messaging/publisher';
import { createObservability, openBroker, openDatabase, readiness } from '@warren/shared/service-kit';
import type { MainConfig } from './config.js';
import { IdempotencyRepository } from './db/idempotency-repository.js';
import { mountAuthRoutes } from './http/auth-routes.js';
import { mountNotificationRoutes } from './http/notification-routes.js';
import { authRateLimit } from './http/rate-limit.js';
import { requireLiveSession } from './http/require-live-session.js';
import { mountSessionRoutes } from './http/session-routes.js';
import { mountUserRoutes } from './http/user-routes.js';
import { requireAuth } from '@warren/shared/auth/require-auth';

const MIGRATIONS_DIR = fileURLToPath(new URL('./db/migrations', import.meta.url));

export type MainBackendService = RunningService;

export function createMainBackendService(config: MainConfig, opts: { logger?: Logger } = {}): MainBackendService {
  const { logger, metrics } = createObservability(config, opts.logger);
  const closers = new Closers(logger);
  let server: Server | undefined;

  return {
    logger,
    port: () => portOf(server as Server),

    async start() {
      const pool = closers.add('database', await openDatabase(config, MIGRATIONS_DIR, logger), (p) => p.end());
      const broker = closers.add('broker', await openBroker(config, logger), (b) => b.close());
      const publisher = closers.add('publisher', new Publisher(broker, config.brokerNamespace, logger, metrics), (p) => p.close());
      const { rpc, verifier } = await connectAuthClient(broker, config, logger, metrics);
      closers.add('rpc client', rpc, (r) => r.close());
      const idempotency = new IdempotencyRepository(pool);
      const app = createHttpApp({
        logger,
        metrics,
        corsOrigins: config.corsOrigins,
        bodyLimit: config.httpBodyLimit,
        trustProxy: config.trustProxy,
        readiness: readiness(pool, broker),
        mount: (a) => {
          const authenticated = [requireAuth(verifier), requireLiveSession(rpc, config.sessionCheckCacheSeconds)];
          mountAuthRoutes(a, { rpc, verifier, rateLimit: authRateLimit(config.authRateLimitPerMinute) });
          mountSessionRoutes(a, { rpc, authenticated });
          mountUserRoutes(a, { rpc, authenticated });
          mountNotificationRoutes(a, { publisher, idempotency, namespace: config.brokerNamespace, authenticated });
        },
      });
      server = closers.add('http', await listen(app, config.port, config.httpHost), close);
      logger.info('main backend started', { port: portOf(server), namespace: config.brokerNamespace });
    },

    async stop() {
      await closers.closeAll();
      logger.info('main backend stopped');
    },
  };
}
