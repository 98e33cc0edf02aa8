/**
 * Retention: notifications older than NOTIFICATION_RETENTION_DAYS are deleted in the
 * background, in small batches with a pause between them, so pruning never holds long locks
 * or starves the inserts. Every replica may run it; SKIP LOCKED keeps them out of each other's way.
 */
import type { Logger } from '@warren/shared/logger';
import type { InboxRepository } from '../db/inbox-repository.js';

export class RetentionPruner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly inbox: InboxRepository,
    private readonly days: number,
    private readonly logger: Logger,
    private readonly intervalMs = 10 * 60_000,
    private readonly batchSize = 1000,
  ) {}

  start(): void {
    const tick = async () => {
      this.running = this.pruneAll().then(() => undefined, (err: Error) => {
        this.logger.warn('retention round failed', { err: err.message });
      });
      await this.running;
      if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
    };
    this.timer = setTimeout(tick, Math.min(this.intervalMs, 5000));
  }

  /** Deletes every expired row, a batch at a time; returns how many. */
  async pruneAll(): Promise<number> {
    let total = 0;
    while (!this.stopped) {
      const n = await this.inbox.pruneOlderThan(this.days, this.batchSize);
      total += n;
      if (n < this.batchSize) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (total > 0) this.logger.info('old notifications pruned', { count: total, olderThanDays: this.days });
    return total;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
