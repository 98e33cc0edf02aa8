/**
 * The pieces every service's composition root assembles in the same order:
 * logger and metrics → database (created if missing, migrated) → broker → HTTP server.
 * Each service's `service.ts` wires its own use cases between them.
 */
import type { CommonConfig } from './config.js';
import { createPool, ensureDatabase, isDatabaseUp, type Pool } from './db/database.js';
import { migrate } from './db/migrate.js';
import type { ReadinessCheck } from './http/app.js';
import { createLogger, type Logger } from './logger.js';
import { Broker } from './messaging/broker.js';
import { createMetrics, type Metrics } from './metrics.js';
import { randomBytes } from 'node:crypto';

export interface Observability {
  logger: Logger;
  metrics: Metrics;
}

export function createObservability(config: CommonConfig, logger?: Logger): Observability {
  return {
    logger: logger ?? createLogger({ service: config.service, env: config.appEnv, level: config.logLevel }),
    metrics: createMetrics(config.service, config.appEnv),
  };
}

export async function openDatabase(config: CommonConfig, migrationsDir: string, logger: Logger): Promise<Pool> {
  await ensureDatabase(config.databaseUrl, logger);
  await migrate(config.databaseUrl, migrationsDir, logger);
  return createPool(config.databaseUrl, config.databasePoolMax, logger);
}

/** Connects (waiting up to `timeoutMs`) and returns the broker; it reconnects by itself after. */
export async function openBroker(config: CommonConfig, logger: Logger, timeoutMs = 15_000): Promise<Broker> {
  const broker = new Broker({
    url: config.rabbitmqUrl,
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
  ];
}
