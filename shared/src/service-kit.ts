/**
 * The pieces every service's composition root assembles in the same order:
 * logger and metrics → database (created if missing, migrated) → broker → HTTP server.
 * Each service's `service.ts` wires its own use cases between them.
 */
import type { Server } from 'node:http';
import type { PlatformConfig } from './config.js';
import { close, listen, portOf } from './http/server.js';
import { Closers, type RunningService } from './lifecycle.js';
import { createPool, ensureDatabase, isDatabaseUp, type Pool } from './db/database.js';
import { migrate } from './db/migrate.js';
import type { HttpApp, ReadinessCheck } from './http/app.js';
import { chooseLogFormat, createLogger, type Logger } from './logger.js';
import { Broker } from './messaging/broker.js';
import { createMetrics, type Metrics } from './metrics.js';
import { randomBytes } from 'node:crypto';

export interface Observability {
  logger: Logger;
  metrics: Metrics;
}

export function createObservability(config: PlatformConfig, logger?: Logger): Observability {
  return {
    logger:
      logger ??
      createLogger({
        service: config.service,
        env: config.appEnv,
        level: config.logLevel,
        format: chooseLogFormat({ logFormat: config.logFormat, nodeEnv: config.nodeEnv, isTTY: process.stdout.isTTY }),
      }),
    metrics: createMetrics(config.service, config.appEnv),
  };
}

export async function openDatabase(config: PlatformConfig, migrationsDir: string, logger: Logger): Promise<Pool> {
  await ensureDatabase(config.databaseUrl, logger);
  await migrate(config.databaseUrl, migrationsDir, logger);
  return createPool(config.databaseUrl, config.databasePoolMax, logger);
}

/** Connects (waiting up to `timeoutMs`) and returns the broker; it reconnects by itself after. */
export async function openBroker(config: PlatformConfig, logger: Logger, timeoutMs = 15_000): Promise<Broker> {
  const broker = new Broker({
    url: config.rabbitmqUrls,
    connectionName: `${config.brokerNamespace}:${config.service}:${process.pid}:${randomBytes(3).toString('hex')}`,
    logger,
  });
  try {
    await broker.waitConnected(timeoutMs);
  } catch (err) {
    await broker.close();
    throw new Error(`could not connect to RabbitMQ within ${timeoutMs} ms: ${(err as Error).message}`);
  }
  return broker;
}

export function readiness(pool: Pool, broker: Broker): ReadinessCheck[] {
  return [
    { name: 'database', check: () => isDatabaseUp(pool) },
    { name: 'broker', check: () => broker.isConnected() },
    // Connected but deaf (a queue it may not re-declare, retried with backoff) is not ready either.
    { name: 'consumers', check: () => broker.isConnected() && broker.idleConsumers().length === 0 },
  ];
}

/** What a service's start function gets: every opener registers its undo on the Closers stack. */
export interface StartKit extends Observability {
  closers: Closers;
  openDatabase(migrationsDir: string): Promise<Pool>;
  openBroker(): Promise<Broker>;
  /** Listens on the configured host and port; the service's port() reports it. */
  listen(app: HttpApp): Promise<Server>;
}

/**
 * The frame of every composition root: observability, a Closers stack undone in reverse by
 * stop(), the HTTP server whose port tests read, and the started/stopped log lines.
 * `start` wires the service's own pieces in order.
 */
export function defineService(
  config: PlatformConfig,
  opts: { logger?: Logger; name: string },
  start: (kit: StartKit) => Promise<void>,
): RunningService {
  const { logger, metrics } = createObservability(config, opts.logger);
  const closers = new Closers(logger);
  let server: Server | undefined;
  const kit: StartKit = {
    logger,
    metrics,
    closers,
    openDatabase: async (dir) => closers.add('database', await openDatabase(config, dir, logger), (p) => p.end()),
    openBroker: async () => closers.add('broker', await openBroker(config, logger), (b) => b.close()),
    listen: async (app) => {
      server = await listen(app, config.port, config.httpHost);
      closers.add('http', server, close);
      return server;
    },
  };
  return {
    logger,
    port: () => portOf(server as Server),
    async start() {
      // Said once, before anything can fail: a mistyped variable is often why a start goes wrong.
      for (const { variable, didYouMean } of config.lookalikes) {
        logger.warn('environment variable not read by this service: a typo?', { variable, didYouMean });
      }
      await start(kit);
      logger.info(`${opts.name} started`, { port: server ? portOf(server) : undefined, namespace: config.brokerNamespace });
    },
    async stop() {
      await closers.closeAll();
      // debug: a process stopped by a signal says "stopped" once, in lifecycle.ts.
      logger.debug(`${opts.name} stopped`);
    },
  };
}
