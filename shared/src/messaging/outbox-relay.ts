/**
 * Publishes a service's transactional outbox: rows written in the same transaction as the
 * change they report, published here with confirms and then marked. Several replicas may run
 * it: `FOR UPDATE SKIP LOCKED` gives each row to one of them. A row whose publish fails stays
 * unpublished and is tried again; consumers dedupe, so a republish after a crash is harmless.
 * Each row is checked against its contract schema before it goes out (outbox.ts): a row that
 * can never publish (its payload fails the schema, or no schema knows its routing key) is
 * moved to `outbox_dead_letters`, with why, in the transaction that marks the rest of its
 * batch published, so it never holds back the rows beside or behind it. An unreachable broker
 * is not such a row: the batch waits for the next round. The service runs drain() as a
 * periodic job (periodic-job.ts); published rows are deleted by the service's housekeeping.
 */
import type { z } from 'zod';
import { inTransaction, type Pool, type PoolClient } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { checkOutboxMessage, type OutboxCatalogue } from './outbox.js';
import type { Publisher } from './publisher.js';

export interface OutboxRelayOptions {
  pool: Pool;
  publisher: Pick<Publisher, 'publishValidated'>;
  exchange: string;
  /** The message types the outbox carries, each with the schema its payload must satisfy. */
  schemas: OutboxCatalogue;
  logger: Logger;
  metrics?: Metrics;
  batchSize?: number;
}

interface OutboxRow {
  id: number;
  message_id: string;
  routing_key: string;
  payload: unknown;
}

interface DeadLetter {
  row: OutboxRow;
  reason: 'unknown_type' | 'invalid';
  error: string;
}

export class OutboxRelay {
  constructor(private readonly opts: OutboxRelayOptions) {}

  /** Publishes everything pending now (also what tests call to avoid waiting for a round). */
  async drain(): Promise<void> {
    const batchSize = this.opts.batchSize ?? 100;
    for (;;) {
      const { selected, settled, failure, deadLetters } = await inTransaction(this.opts.pool, async (tx) => {
        const { rows } = await tx.query<OutboxRow>(
          `SELECT id, message_id, routing_key, payload FROM outbox WHERE published_at IS NULL
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
          [batchSize],
        );
        const deadLetters: DeadLetter[] = [];
        const valid: { row: OutboxRow; schema: z.ZodType; body: unknown }[] = [];
        for (const row of rows) {
          const check = checkOutboxMessage(this.opts.schemas, row.routing_key, row.payload);
          if (check.ok) valid.push({ row, schema: check.schema, body: check.body });
          else deadLetters.push({ row, reason: check.reason, error: check.error });
        }
        // Moved before anything is published: if the move fails, the round ends having sent nothing.
        if (deadLetters.length) await moveToDeadLetters(tx, deadLetters);
        // Sent in id order on one confirm channel, confirmed together.
        const outcomes = await Promise.allSettled(
          valid.map((v) => this.opts.publisher.publishValidated(this.opts.exchange, v.row.routing_key, v.schema, v.body, { messageId: v.row.message_id })),
        );
        const done = valid.filter((_, i) => outcomes[i]?.status === 'fulfilled').map((v) => v.row.id);
        if (done.length) await tx.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1)', [done]);
        // A publish that failed (the broker down, or not confirming) leaves its row for the next round.
        const rejected = outcomes.find((o) => o.status === 'rejected');
        return {
          selected: rows.length,
          settled: done.length + deadLetters.length,
          failure: rejected?.reason as Error | undefined,
          deadLetters,
        };
      });
      // Reported once committed: a rolled-back move did not happen.
      for (const d of deadLetters) this.reportDeadLetter(d);
      // A broker failure ends the round (the next one retries); so does a batch that moved nothing.
      if (failure) throw failure;
      if (selected < batchSize || settled === 0) break;
    }
  }

  private reportDeadLetter({ row, reason, error }: DeadLetter): void {
    const known = Object.hasOwn(this.opts.schemas, row.routing_key);
    // The label is bounded: an unknown routing key is whatever text was in the row.
    this.opts.metrics?.outboxDeadLettered.inc({ routing_key: known ? row.routing_key : 'unknown', reason });
    // The payload is not logged: it may carry personal data. The ids find the row.
    this.opts.logger.error('outbox row dead-lettered', {
      outboxId: row.id,
      messageId: row.message_id,
      routingKey: row.routing_key.slice(0, 100),
      reason,
      err: error,
    });
  }
}

/** Out of the outbox and into `outbox_dead_letters`, each with its error, in the caller's transaction. */
async function moveToDeadLetters(tx: PoolClient, deadLetters: DeadLetter[]): Promise<void> {
  await tx.query(
    `WITH moved AS (DELETE FROM outbox WHERE id = ANY($1) RETURNING *)
     INSERT INTO outbox_dead_letters (outbox_id, message_id, routing_key, payload, created_at, error)
     SELECT m.id, m.message_id, m.routing_key, m.payload, m.created_at, e.error
     FROM moved m JOIN unnest($1::bigint[], $2::text[]) AS e(id, error) ON e.id = m.id`,
    [deadLetters.map((d) => d.row.id), deadLetters.map((d) => d.error)],
  );
}
