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
import { PeriodicJob } from '@warren/shared/periodic-job';
import type { EndedSessionRow } from './ended-sessions-repository.js';

export interface EndedSessionsStore {
  recordedSince(since: Date | undefined): Promise<{ rows: EndedSessionRow[]; now: Date }>;
}

const OVERLAP_MS = 60_000;

export class EndedSessionsSync {
  private since: Date | undefined;
  private readonly job: PeriodicJob;

  constructor(
    private readonly store: EndedSessionsStore,
    private readonly ended: EndedSessions,
    logger: Logger,
    intervalMs = 2000,
  ) {
    this.job = new PeriodicJob({ name: 'reading ended sessions', everyMs: intervalMs, run: () => this.readNew(), logger, unref: true });
  }

  /** Loads every recorded ended session (before the replica serves anyone), then re-reads periodically. */
  async start(): Promise<void> {
    await this.readNew();
    this.job.start();
  }

  /** Re-reads now (after a broker reconnect); a read already under way is enough. */
  syncNow(): Promise<void> {
    return this.job.runNow();
  }

  private async readNew(): Promise<void> {
    const { rows, now } = await this.store.recordedSince(this.since);
    for (const r of rows) this.ended.end(r.sessionId, r.expiresAt.getTime());
    this.since = new Date(now.getTime() - OVERLAP_MS);
  }

  stop(): Promise<void> {
    return this.job.stop();
  }
}
