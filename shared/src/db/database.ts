/**
 * PostgreSQL per service: the database is created if it does not exist (several replicas
 * may race to do it; the loser's "already exists" is fine), then a bounded pool serves it.
 */
import pg from 'pg';
import type { Logger } from '../logger.js';
import { isUnavailable } from '../messaging/failure-kind.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// bigint (int8) and numeric come back as strings by default; counts fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505'; // pg_database's own unique index, when two CREATEs race

export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(name)) throw new Error(`unsupported database name in URL: ${name}`);
  return name;
}

/** A URL to the same server's maintenance database, to create or drop others from. */
export function maintenanceUrl(url: string): string {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
}

export async function ensureDatabase(url: string, logger: Logger): Promise<void> {
  const name = databaseName(url);
  const client = new pg.Client({ connectionString: maintenanceUrl(url) });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return;
    await client.query(`CREATE DATABASE "${name}"`);
    logger.info('database created', { database: name });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== DUPLICATE_DATABASE && code !== UNIQUE_VIOLATION) throw err;
  } finally {
    await client.end();
  }
}

/**
 * The longest a query may wait for its answer. A connection that stops answering (a network
 * partition, a failover leaving the old primary's connections half-open) would otherwise hold
 * its caller until the kernel gives up, about 15 minutes: a consumer's batch, and the queue
 * behind it, with it. Past this the query fails as "unavailable" (retried later on a fresh
 * connection) and its connection is discarded. Generous: Warren's queries take milliseconds.
 */
export const QUERY_TIMEOUT_MS = 15_000;

export function createPool(url: string, max: number, logger: Logger): Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    query_timeout: QUERY_TIMEOUT_MS,
    // Lets the kernel notice a dead peer on idle connections too.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // An idle client losing its connection emits here; without a listener it would crash.
  pool.on('error', (err) => logger.error('idle database client failed', { err: err.message }));
  return pool;
}

export async function isDatabaseUp(pool: Pool): Promise<boolean> {
  try {
    await pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/** Runs `fn` in a transaction; commits if it resolves, rolls back if it throws. */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  // A checked-out client has no 'error' listener (the pool listens only while it is idle): a
  // connection the server closes between two queries (a shutdown, pg_terminate_backend) emitted
  // an 'error' nobody heard, and that crashed the process. Heard here, the next query fails as
  // unavailable ("not queryable") and the client is discarded.
  const lost = () => {
    broken = true;
  };
  client.on('error', lost);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    broken ||= isUnavailable(err);
    if (!broken) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.off('error', lost);
    // A connection that failed as unreachable (or timed out) is discarded, not handed out again.
    client.release(broken);
  }
}

/** Runs `fn` in the transaction `db` is the client of, or in a new one when `db` is a pool. */
export function inTransactionOf<T>(db: Pool | PoolClient, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return db instanceof pg.Pool ? inTransaction(db, fn) : fn(db);
}
