/**
 * Composition root of the auth service: config → logger → database → keys → broker (RPC
 * server) → HTTP (health, readiness and metrics only: auth is reached through RabbitMQ).
 * `stop()` undoes it in reverse order.
 */
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { userUpsertedSchema } from '@warren/shared/contracts/users';
import { OutboxRelay } from '@warren/shared/messaging/outbox-relay';
import { createHttpApp } from '@warren/shared/http/app';
import { close, listen, portOf } from '@warren/shared/http/server';
import { Closers, type RunningService } from '@warren/shared/lifecycle';
import type { Logger } from '@warren/shared/logger';
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
  const closers = new Closers(logger);
  let server: Server | undefined;

  return {
    logger,
    port: () => portOf(server as Server),

    async start() {
      const pool = closers.add('database', await openDatabase(config, MIGRATIONS_DIR, logger), (p) => p.end());
      if (!config.keyEncryptionKey) {
        logger.warn('AUTH_KEY_ENCRYPTION_KEY is not set: signing keys are stored unencrypted');
      }
      const users = new UsersRepository(pool);
      const keys = new SigningKeys(new SigningKeysRepository(pool), config.keyEncryptionKey, logger, config.signingKeysReloadSeconds * 1000);
      await keys.ensureActiveKey();
      await bootstrapAdmin(users, config.bootstrapAdmin, logger);

      const broker = closers.add('broker', await openBroker(config, logger), (b) => b.close());
      const publisher = closers.add('publisher', new Publisher(broker, config.brokerNamespace, logger, metrics), (p) => p.close());
      const relay = new OutboxRelay({
        pool,
        publisher,
        exchange: topology(config.brokerNamespace).eventsExchange,
        schemas: { [ROUTING_KEYS.userUpserted]: userUpsertedSchema },
        logger,
      });
      closers.add('outbox relay', relay, (r) => r.stop());
      relay.start();
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
      const app = createHttpApp({
        logger,
        metrics,
        corsOrigins: [],
        bodyLimit: config.httpBodyLimit,
        readiness: readiness(pool, broker),
        mount: () => undefined,
      });
      server = closers.add('http', await listen(app, config.port, config.httpHost), close);
      const rpcServer = new RpcServer(broker, config.brokerNamespace, topology(config.brokerNamespace).authRpcQueue, authRpcRoutes(deps), logger, metrics);
      closers.add('rpc server', rpcServer, (r) => r.stop());
      await rpcServer.waitReady();
      logger.info('auth service started', { port: portOf(server), namespace: config.brokerNamespace });
    },

    async stop() {
      // Reverse order: stop answering RPCs (in-flight ones finish), then HTTP, broker, pool.
      await closers.closeAll();
      logger.info('auth service stopped');
    },
  };
}
