/**
 * Outbox lag as gauges: how many rows wait to be published and how old the oldest is, read
 * every `everyMs` (15 s by default) from the partial index on unpublished rows. A growing age
 * means the relay is not getting rows out (broker down, or every round failing); the count
 * tells how much will follow once it does. The count stops at COUNT_CAP so the check stays
 * cheap however far behind the relay is.
 */
import { Gauge } from 'prom-client';
import type { Pool } from '../db/database.js';
import type { Closers } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { startPeriodicJob } from '../periodic-job.js';

const COUNT_CAP = 100_000;

export interface OutboxLag {
  pending: number;
  oldestAgeSeconds: number;
}

export async function readOutboxLag(pool: Pool): Promise<OutboxLag> {
  const { rows } = await pool.query<{ pending: number; age: number | null }>(
    `SELECT (SELECT count(*)::int FROM (SELECT 1 FROM outbox WHERE published_at IS NULL LIMIT ${COUNT_CAP}) capped) AS pending,
            (SELECT extract(epoch FROM now() - created_at)::float8 FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 1) AS age`,
  );
  return { pending: rows[0]?.pending ?? 0, oldestAgeSeconds: Math.max(0, rows[0]?.age ?? 0) };
}

export function startOutboxLagGauge(opts: { pool: Pool; closers: Closers; logger: Logger; metrics: Metrics; everyMs?: number }): void {
  const registers = [opts.metrics.registry];
  const pending = new Gauge({ name: 'outbox_pending_messages', help: `Outbox rows not yet published at the last check (every 15 s; counted up to ${COUNT_CAP})`, registers });
  const age = new Gauge({ name: 'outbox_oldest_pending_age_seconds', help: 'Age of the oldest unpublished outbox row at the last check (0: none waiting)', registers });
  startPeriodicJob(opts.closers, {
    name: 'outbox lag check',
    everyMs: opts.everyMs ?? 15_000,
    firstRunInMs: 0,
    logger: opts.logger,
    run: async () => {
      const lag = await readOutboxLag(opts.pool);
      pending.set(lag.pending);
      age.set(lag.oldestAgeSeconds);
    },
  });
}
