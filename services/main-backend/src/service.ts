/**
 * Composition root of the main backend: config → logger → database → broker (publisher, RPC
 * client to auth) → HTTP. The public REST API of Warren lives here; auth is reached over RPC.
 */
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { connectAuthClient } from '@warren/shared/auth/auth-client';
import type { Pool } from '@warren/shared/db/database';
import { createHttpApp } from '@warren/shared/http/app';
import { close, listen, portOf } from '@warren/shared/http/server';
import type { RunningService } from '@warren/shared/lifecycle';
import type { Logger } from '@warren/shared/logger';
import type { Broker } from '@warren/shared/messaging/broker';
import { Publisher } from '@warren/shared/messaging/publisher';
import type { RpcClient } from '@warren/shared/messaging/rpc-client';
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
  let pool: Pool | undefined;
  let broker: Broker | undefined;
  let publisher: Publisher | undefined;
  let rpc: RpcClient | undefined;
  let server: Server | undefined;

  return {
    logger,
    port: () => portOf(server as Server),

    async start() {
      pool = await openDatabase(config, MIGRATIONS_DIR, logger);
      broker = await openBroker(config, logger);
      publisher = new Publisher(broker, config.brokerNamespace, logger, metrics);
      const authClient = await connectAuthClient(broker, config, logger, metrics);
      rpc = authClient.rpc;
      const { verifier } = authClient;
      const idempotency = new IdempotencyRepository(pool);
      const app = createHttpApp({
        logger,
        metrics,
        corsOrigins: config.corsOrigins,
        bodyLimit: config.httpBodyLimit,
        trustProxy: config.trustProxy,
        readiness: readiness(pool, broker),
        mount: (a) => {
          const authenticated = [requireAuth(verifier), requireLiveSession(authClient.rpc, config.sessionCheckCacheSeconds)];
          mountAuthRoutes(a, { ...authClient, rateLimit: authRateLimit(config.authRateLimitPerMinute) });
          mountSessionRoutes(a, { rpc: authClient.rpc, authenticated });
          mountUserRoutes(a, { rpc: authClient.rpc, authenticated });
          mountNotificationRoutes(a, { publisher: publisher as Publisher, idempotency, namespace: config.brokerNamespace, authenticated });
        },
      });
      server = await listen(app, config.port, config.httpHost);
      logger.info('main backend started', { port: portOf(server), namespace: config.brokerNamespace });
    },

    async stop() {
      await close(server);
      await rpc?.close();
      await publisher?.close();
      await broker?.close();
      await pool?.end();
      logger.info('main backend stopped');
    },
  };
}
