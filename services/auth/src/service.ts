/**
 * Composition root of the auth service: config → logger → database → keys → broker (RPC
 * server) → HTTP (health, readiness and metrics only: auth is reached through RabbitMQ).
 * `stop()` undoes it in reverse order.
 */
import { fileURLToPath } from 'node:url';
import { eventsPublishedBy, topology } from '@warren/shared/contracts/topology';
import { routeResources } from '@warren/shared/messaging/topology';
import { startHousekeeping } from '@warren/shared/db/batched-delete';
import { startOutboxLagGauge } from '@warren/shared/messaging/outbox-lag';
import { OutboxRelay } from '@warren/shared/messaging/outbox-relay';
import { ownedQueues, startQueueDepthGauge } from '@warren/shared/messaging/queue-depth';
import { startPeriodicJob } from '@warren/shared/periodic-job';
import { warrenApi } from '@warren/shared/contracts/http-api';
import { createHttpApp } from '@warren/shared/http/app';
import type { RunningService } from '@warren/shared/lifecycle';
import type { Logger } from '@warren/shared/logger';
import { Publisher } from '@warren/shared/messaging/publisher';
import { RpcServer } from '@warren/shared/messaging/rpc-server';
import { defineService, readiness } from '@warren/shared/service-kit';
import type { AuthConfig } from './config.js';
import { AuditRepository } from './db/audit-repository.js';
import { CodesRepository } from './db/codes-repository.js';
import { purgeExpired } from './db/housekeeping.js';
import { LoginFailuresRepository } from './db/login-failures-repository.js';
import { AUTH_OUTBOX } from './db/outbox-repository.js';
import { roleChanges } from './db/role-changes.js';
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

export function createAuthService(config: AuthConfig, opts: { logger?: Logger } = {}): RunningService {
  return defineService(config, { ...opts, name: 'auth service' }, async ({ logger, metrics, closers, openDatabase, openBroker, listen }) => {
    const pool = await openDatabase(MIGRATIONS_DIR);
    if (!config.keyEncryptionKey) {
      logger.warn('AUTH_KEY_ENCRYPTION_KEY is not set: signing keys are stored unencrypted');
    }
    const users = new UsersRepository(pool);
    const keys = new SigningKeys(new SigningKeysRepository(pool), config.keyEncryptionKey, logger);
    await keys.ensureActiveKey();
    // No jitter: a rotation retires the old key ACCESS_TOKEN_TTL + SIGNING_KEYS_RELOAD_SECONDS
    // after it, which holds only if every replica re-reads within SIGNING_KEYS_RELOAD_SECONDS.
    startPeriodicJob(closers, {
      name: 'signing keys reload',
      everyMs: config.signingKeysReloadSeconds * 1000,
      jitter: 0,
      run: () => keys.reload(),
      logger,
    });
    await bootstrapAdmin(users, config.bootstrapAdmin, logger);

    const broker = await openBroker();
    const t = topology(config.brokerNamespace);
    // Declares the durable queues of every event auth publishes (user.upserted, session.ended,
    // email.requested): one published before any notification replica ever started still lands
    // in its queue. The same list gives auth's broker user its permissions (contracts/broker-users.ts).
    const publisher = closers.add(
      'publisher',
      new Publisher({ broker, logger, metrics, declares: routeResources(...eventsPublishedBy(t, 'auth')) }),
      (p) => p.close(),
    );
    const relay = new OutboxRelay({
      pool,
      publisher,
      exchange: t.exchanges.events.name,
      schemas: AUTH_OUTBOX,
      logger,
      metrics,
    });
    startPeriodicJob(closers, { name: 'outbox relay round', everyMs: 250, firstRunInMs: 0, run: () => relay.drain(), logger });
    startOutboxLagGauge({ pool, closers, logger, metrics });
    startHousekeeping(closers, logger, (signal) => purgeExpired(pool, { auditRetentionDays: config.auditRetentionDays, signal }));
    const audit = new AuditRepository(pool);
    const sessions = new SessionsRepository(pool, config.accessTokenTtlSeconds);
    const deps: AuthDeps = {
      users,
      roleChanges: roleChanges(users, sessions),
      sessions,
      codes: new CodesRepository(pool),
      loginFailures: new LoginFailuresRepository(pool),
      audit,
      auditTrail: audit,
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
    const app = await createHttpApp({
      logger,
      metrics,
      corsOrigins: [],
      bodyLimit: config.httpBodyLimit,
      readiness: readiness(pool, broker),
      // Auth is reached over RabbitMQ only (docs/messaging.md): its port has just the standard routes.
      api: warrenApi({ title: 'Warren auth', description: 'Health and metrics only.', routes: [], docs: false }),
      mount: () => undefined,
    });
    await listen(app);
    const rpcServer = new RpcServer({ broker, queue: t.queues.authRpc, routes: authRpcRoutes(deps), logger, metrics });
    closers.add('rpc server', rpcServer, (r) => r.stop());
    await rpcServer.waitReady();
    startQueueDepthGauge({ broker, closers, logger, metrics, queues: ownedQueues(Object.values(t.queues), 'auth') });
  });
}
