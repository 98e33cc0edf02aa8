/**
 * A fresh database of the test's own, migrated like a service's, without starting the service:
 * for tests of repositories, relays and operator commands. `drop()` removes it.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool, ensureDatabase, type Pool } from '@warren/shared/db/database';
import { migrate } from '@warren/shared/db/migrate';
import { dropDatabase, testDatabaseUrl } from './env.js';
import { captureLogs } from './logs.js';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');

export interface MigratedDatabase {
  pool: Pool;
  url: string;
  drop(): Promise<void>;
}

/** `dir`: the service's folder under services/ (`auth`, `main-backend`, `notification`). */
export async function migratedDatabase(dir: string, poolSize = 2): Promise<MigratedDatabase> {
  const { logger } = captureLogs(dir, 'warn');
  const url = testDatabaseUrl(dir);
  await ensureDatabase(url, logger);
  await migrate(url, join(root, 'services', dir, 'src', 'db', 'migrations'), logger);
  const pool = createPool(url, poolSize, logger);
  return {
    pool,
    url,
    drop: async () => {
      await pool.end();
      await dropDatabase(url);
    },
  };
}
