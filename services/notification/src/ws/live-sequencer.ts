/**
 * Puts live batches back in commit order. Each stored batch has a contiguous number; batches
 * from different replicas may arrive out of order. A batch that arrives early waits (briefly)
 * for the missing ones; if they do not come (a replica's publish was lost), every socket
 * re-syncs from the database instead. A batch numbered at or below what was already delivered
 * is history and ignored (its rows reached the sockets through the database).
 */
import type { InboxEntry } from '../domain/notification.js';

export interface SequencerHandlers {
  deliver: (entries: InboxEntry[]) => void;
  resyncAll: () => void;
}

export class LiveSequencer {
  private readonly early = new Map<number, InboxEntry[]>();
  private gapTimer: NodeJS.Timeout | undefined;

  constructor(
    private next: number,
    private readonly handlers: SequencerHandlers,
    private readonly gapWaitMs = 300,
  ) {}

  receive(batch: number, entries: InboxEntry[]): void {
    if (batch < this.next) return;
    this.early.set(batch, entries);
    this.drain();
    if (this.early.size > 0) this.gapTimer ??= setTimeout(() => this.giveUpOnGap(), this.gapWaitMs);
  }

  private drain(): void {
    for (let entries = this.early.get(this.next); entries; entries = this.early.get(this.next)) {
      this.early.delete(this.next);
      this.next += 1;
      this.handlers.deliver(entries);
    }
    if (this.early.size === 0) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
    }
  }

  private giveUpOnGap(): void {
    this.gapTimer = undefined;
    if (this.early.size === 0) return;
    this.next = Math.max(...this.early.keys()) + 1;
    this.early.clear();
    this.handlers.resyncAll();
  }

  /** After a broker reconnect: whatever was missed is read from the database by every socket. */
  reset(next: number): void {
    this.next = Math.max(this.next, next);
    this.early.clear();
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }

  stop(): void {
    clearTimeout(this.gapTimer);
  }
}
