/**
 * Deletes every row a condition matches, a batch at a time, each batch its own short statement:
 * a purge of a million rows never holds a long lock or one huge transaction, and the inserts
 * beside it go on. SKIP LOCKED leaves rows that a request holds right now for the next round,
 * so several replicas purging at once stay out of each other's way.
 */
import type { Logger } from '../logger.js';
import type { Pool } from './database.js';
import type { Closers } from '../lifecycle.js';
import { startPeriodicJob } from '../periodic-job.js';

export interface BatchedDelete {
  table: string;
  /** SQL condition over the table's columns; `$1`, `$2`... are `params`, the batch size comes after them. */
  where: string;
  params?: unknown[];
  batchSize?: number;
  /** Aborted (the service is stopping): no further batch starts. */
  signal?: AbortSignal;
}

/** Returns how many rows went. */
export async function deleteInBatches(pool: Pool, d: BatchedDelete): Promise<number> {
  const params = d.params ?? [];
  const batchSize = d.batchSize ?? 1000;
  const sql = `DELETE FROM ${d.table} WHERE ctid IN (
    SELECT ctid FROM ${d.table} WHERE ${d.where} LIMIT $${params.length + 1} FOR UPDATE SKIP LOCKED)`;
  let total = 0;
  for (;;) {
    const { rowCount } = await pool.query(sql, [...params, batchSize]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize || d.signal?.aborted) return total;
  }
}

/** One line per housekeeping round that deleted anything, with the count per table. */
export function logPurged(logger: Logger, deleted: Record<string, number>): void {
  if (Object.values(deleted).some((n) => n > 0)) logger.info('housekeeping purged old rows', { deleted });
}

/** How often a service's housekeeping runs: expiry is measured in hours and days, not minutes. */
export const HOUSEKEEPING_EVERY_MS = 10 * 60_000;

/**
 * A service's housekeeping: `purge` (the service's purge use case, deleting what is past its
 * retention and answering the count per table) every HOUSEKEEPING_EVERY_MS, first a minute
 * after start, logged when it deleted anything, stopped with the service.
 */
export function startHousekeeping(closers: Closers, logger: Logger, purge: (signal: AbortSignal) => Promise<Record<string, number>>): void {
  startPeriodicJob(closers, {
    name: 'housekeeping',
    everyMs: HOUSEKEEPING_EVERY_MS,
    firstRunInMs: 60_000,
    run: async (signal) => logPurged(logger, await purge(signal)),
    logger,
  });
}
