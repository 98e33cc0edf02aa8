/**
 * Retention: notifications older than NOTIFICATION_RETENTION_DAYS are deleted by the
 * housekeeping job, in small batches with a pause between them, so pruning never holds long
 * locks or starves the inserts. Every replica may run it; SKIP LOCKED keeps them out of each
 * other's way.
 */
import type { InboxPruning, Logger } from './ports.js';

export class RetentionPruner {
  constructor(
    private readonly inbox: InboxPruning,
    private readonly days: number,
    private readonly logger: Logger,
    private readonly batchSize = 1000,
  ) {}

  /** Deletes every expired row, a batch at a time; returns how many. */
  async pruneAll(signal?: AbortSignal): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.inbox.pruneOlderThan(this.days, this.batchSize);
      total += n;
      if (n < this.batchSize || signal?.aborted) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (total > 0) this.logger.info('old notifications pruned', { count: total, olderThanDays: this.days });
    return total;
  }
}
