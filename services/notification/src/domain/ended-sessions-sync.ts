/**
 * Keeps this replica's set of ended sessions complete. Announcements reach every replica at
 * once through its own queue, but one that arrives while the replica is disconnected or not yet
 * started is lost to it; the durable queue still records it in the database (on whichever
 * replica consumes it). So each replica loads every recorded session on start, re-reads what
 * was recorded lately every `intervalMs`, and at once after a broker reconnect. The re-read
 * overlaps the previous one by a minute: a row's recorded_at is its transaction's start, and
 * it may commit a little after a read that began later.
 */
import type { EndedSessions } from '@warren/shared/auth/ended-sessions';
import type { Logger } from '@warren/shared/logger';
import type { EndedSessionRow } from '../db/ended-sessions-repository.js';

export interface EndedSessionsStore {
  recordedSince(since: Date | undefined): Promise<{ rows: EndedSessionRow[]; now: Date }>;
  prune(): Promise<void>;
}

const OVERLAP_MS = 60_000;
const PRUNE_EVERY_ROUNDS = 300;

export class EndedSessionsSync {
  private since: Date | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private rounds = 0;
  private stopped = false;

  constructor(
    private readonly store: EndedSessionsStore,
    private readonly ended: EndedSessions,
    private readonly logger: Logger,
    private readonly intervalMs = 2000,
  ) {}

  /** Loads every recorded ended session (before the replica serves anyone), then re-reads periodically. */
  async start(): Promise<void> {
    await this.readNew();
    this.schedule();
  }

  /** Re-reads now (after a broker reconnect); a read already under way is enough. */
  syncNow(): Promise<void> {
    const running = (this.running ??= this.readNew()
      .catch((err: Error) => {
        this.logger.warn('reading ended sessions failed', { err: err.message });
      })
      .finally(() => (this.running = undefined)));
    return running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.syncNow().then(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private async readNew(): Promise<void> {
    const { rows, now } = await this.store.recordedSince(this.since);
    for (const r of rows) this.ended.end(r.sessionId, r.expiresAt.getTime());
    this.since = new Date(now.getTime() - OVERLAP_MS);
    if (++this.rounds % PRUNE_EVERY_ROUNDS === 0) await this.store.prune();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
