/**
 * Publishes a service's transactional outbox: rows written in the same transaction as the
 * change they report, published here with confirms and then marked. Several replicas may run
 * it: `FOR UPDATE SKIP LOCKED` gives each row to one of them. A row whose publish fails stays
 * unpublished and is tried again; consumers dedupe, so a republish after a crash is harmless.
 * Rows are settled one by one: a row that can never publish (its payload fails its schema, or
 * no schema knows its routing key) is reported once and left in the outbox for an operator,
 * and never holds back the rows beside or behind it; the rows that did publish are marked.
 * The service runs drain() as a periodic job (periodic-job.ts); published rows are deleted by
 * the service's housekeeping.
 */
import type { z } from 'zod';
import { inTransaction, type Pool } from '../db/database.js';
import type { Logger } from '../logger.js';
import { PublishError, type Publisher } from './publisher.js';

export interface OutboxRelayOptions {
  pool: Pool;
  publisher: Publisher;
  exchange: string;
  /** The schema each routing key's payload must satisfy (the producer's half of the contract). */
  schemas: Record<string, z.ZodType>;
  logger: Logger;
  batchSize?: number;
}

interface OutboxRow {
  id: number;
  message_id: string;
  routing_key: string;
  payload: unknown;
}

export class OutboxRelay {
  /** Ids of rows that can never publish, already reported (bounded: reported once each). */
  private readonly unpublishable = new Set<number>();

  constructor(private readonly opts: OutboxRelayOptions) {}

  /** Publishes everything pending now (also what tests call to avoid waiting for a round). */
  async drain(): Promise<void> {
    const batchSize = this.opts.batchSize ?? 100;
    for (;;) {
      const { selected, published, failure } = await inTransaction(this.opts.pool, async (tx) => {
        const { rows } = await tx.query<OutboxRow>(
          `SELECT id, message_id, routing_key, payload FROM outbox WHERE published_at IS NULL
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
          [batchSize],
        );
        const outcomes = await Promise.allSettled(rows.map((r) => this.publish(r)));
        const done = rows.filter((_, i) => outcomes[i]?.status === 'fulfilled').map((r) => r.id);
        if (done.length) await tx.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1)', [done]);
        let transient: Error | undefined;
        outcomes.forEach((o, i) => {
          if (o.status === 'fulfilled') return;
          const err = o.reason as Error;
          if (err instanceof PublishError) transient ??= err;
          else this.reportUnpublishable(rows[i] as OutboxRow, err);
        });
        return { selected: rows.length, published: done.length, failure: transient };
      });
      // A broker failure ends the round (the next one retries); so does a batch that moved nothing.
      if (failure) throw failure;
      if (selected < batchSize || published === 0) break;
    }
  }

  private reportUnpublishable(row: OutboxRow, err: Error): void {
    if (this.unpublishable.has(row.id)) return;
    if (this.unpublishable.size >= 10_000) this.unpublishable.clear();
    this.unpublishable.add(row.id);
    // The payload is not logged: it may carry personal data. The id finds the row.
    this.opts.logger.error('outbox row cannot be published; left in the outbox', {
      outboxId: row.id,
      messageId: row.message_id,
      routingKey: row.routing_key,
      err: err.message.slice(0, 500),
    });
  }

  private async publish(row: OutboxRow): Promise<void> {
    const schema = this.opts.schemas[row.routing_key];
    if (!schema) throw new Error(`no schema for outbox routing key ${row.routing_key}`);
    await this.opts.publisher.publish(this.opts.exchange, row.routing_key, schema, row.payload as never, { messageId: row.message_id });
  }
}
