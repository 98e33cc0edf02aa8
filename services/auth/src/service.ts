/**
 * Composition root of the auth service: config → logger → database → keys → broker (RPC
 * server) → HTTP (health, readiness and metrics only: auth is reached through RabbitMQ).
 * `stop()` undoes it in reverse order.
 */
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { topology } from '@warren/shared/contracts/topology';
import type { Pool } from '@warren/shared/db/database';
import { createHttpApp } from '@warren/shared/http/app';
import { close, listen, portOf } from '@warren/shared/http/server';
import type { RunningService } from '@warren/shared/lifecycle';
import type { Logger } from '@warren/shared/logger';
import type { Broker } from '@warren/shared/messaging/broker';
import { RpcServer } from '@warren/shared/messaging/rpc-server';
import { createObservability, openBroker, openDatabase, readiness } from '@warren/shared/service-kit';
import type { AuthConfig } from './config.js';
import { SessionsRepository } from './db/sessions-repository.js';
import { SigningKeysRepository } from './db/signing-keys-repository.js';
import { UsersRepository } from './db/users-repository.js';
import { bootstrapAdmin } from './domain/bootstrap-admin.js';
import { SigningKeys } from './domain/signing-keys.js';
import { authRpcRoutes } from './messaging/rpc-routes.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./db/migrations', import.meta.url));

export type AuthService = RunningService;

export function createAuthService(config: AuthConfig, opts: { logger?: Logger } = {}): AuthService {
  const { logger, metrics } = createObservability(config, opts.logger);
  let pool: Pool | undefined;
  let broker: Broker | undefined;
  let rpcServer: RpcServer | undefined;
  let server: Server | undefined;

  return {
    logger,
    port: () => portOf(server as Server),

    async start() {
      pool = await openDatabase(config, MIGRATIONS_DIR, logger);
      if (!config.keyEncryptionKey) {
        logger.warn('AUTH_KEY_ENCRYPTION_KEY is not set: signing keys are stored unencrypted');
      }
      const users = new UsersRepository(pool);
      const keys = new SigningKeys(new SigningKeysRepository(pool), config.keyEncryptionKey, logger);
      await keys.ensureActiveKey();
      await bootstrapAdmin(users, config.bootstrapAdmin, logger);

      broker = await openBroker(config, logger);
      const t = topology(config.brokerNamespace);
      const deps = {
        users,
        sessions: new SessionsRepository(pool),
        keys,
        logger,
        settings: {
          issuer: config.jwtIssuer,
          audience: config.jwtAudience,
          accessTokenTtlSeconds: config.accessTokenTtlSeconds,
          refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
        },
      };
      rpcServer = new RpcServer(broker, config.brokerNamespace, t.authRpcQueue, authRpcRoutes(deps), logger, metrics);
      await rpcServer.waitReady();

      const app = createHttpApp({
        logger,
        metrics,
        corsOrigins: [],
        bodyLimit: config.httpBodyLimit,
        readiness: readiness(pool, broker),
        mount: () => undefined,
      });
      server = await listen(app, config.port, config.httpHost);
      logger.info('auth service started', { port: portOf(server), namespace: config.brokerNamespace });
    },

    async stop() {
      await rpcServer?.stop();
      await close(server);
      await broker?.close();
      await pool?.end();
      logger.info('auth service stopped');
    },
  };
}
