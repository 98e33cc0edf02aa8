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
import { Publisher } from '@warren/shared/messaging/publisher';
import { RpcServer } from '@warren/shared/messaging/rpc-server';
import { createObservability, openBroker, openDatabase, readiness } from '@warren/shared/service-kit';
import type { AuthConfig } from './config.js';
import { AuditRepository } from './db/audit-repository.js';
import { CodesRepository } from './db/codes-repository.js';
import { SessionsRepository } from './db/sessions-repository.js';
import { SigningKeysRepository } from './db/signing-keys-repository.js';
import { UsersRepository } from './db/users-repository.js';
import { bootstrapAdmin } from './domain/bootstrap-admin.js';
import { SigningKeys } from './domain/signing-keys.js';
import type { AuthDeps } from './domain/deps.js';
import { emailRequester } from './messaging/email-requests.js';
import { authRpcRoutes } from './messaging/rpc-routes.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./db/migrations', import.meta.url));

export type AuthService = RunningService;

export function createAuthService(config: AuthConfig, opts: { logger?: Logger } = {}): AuthService {
  const { logger, metrics } = createObservability(config, opts.logger);
  let pool: Pool | undefined;
  let broker: Broker | undefined;
  let rpcServer: RpcServer | undefined;
  let publisher: Publisher | undefined;
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
      const keys = new SigningKeys(new SigningKeysRepository(pool), config.keyEncryptionKey, logger, config.signingKeysReloadSeconds * 1000);
      await keys.ensureActiveKey();
      await bootstrapAdmin(users, config.bootstrapAdmin, logger);

      broker = await openBroker(config, logger);
      const t = topology(config.brokerNamespace);
      publisher = new Publisher(broker, config.brokerNamespace, logger, metrics);
      const deps: AuthDeps = {
        users,
        sessions: new SessionsRepository(pool),
        codes: new CodesRepository(pool),
        audit: new AuditRepository(pool),
        keys,
        requestEmail: emailRequester(publisher, config.brokerNamespace),
        logger,
        settings: {
          issuer: config.jwtIssuer,
          audience: config.jwtAudience,
          accessTokenTtlSeconds: config.accessTokenTtlSeconds,
          refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
          lockout: config.lockout,
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
      await publisher?.close();
      await close(server);
      await broker?.close();
      await pool?.end();
      logger.info('auth service stopped');
    },
  };
}
