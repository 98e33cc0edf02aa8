/**
 * Runs a service's SQL migrations with node-pg-migrate at start. Its advisory lock, in
 * 'wait' mode, makes replicas that start together queue up: one migrates, the others then
 * find nothing left to do.
 */
import { runner } from 'node-pg-migrate';
import type { Logger } from '../logger.js';

export async function migrate(databaseUrl: string, dir: string, logger: Logger): Promise<void> {
  const applied = await runner({
    databaseUrl,
    dir,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    advisoryLockMode: 'wait',
    checkOrder: true,
    log: () => undefined,
    logger: { debug: () => undefined, info: () => undefined, warn: (m: string) => logger.warn(m), error: (m: string) => logger.error(m) },
  });
  if (applied.length > 0) logger.info('migrations applied', { migrations: applied.map((m) => m.name) });
}
