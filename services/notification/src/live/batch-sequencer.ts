/**
 * Puts live batches back in commit order (decision 0007). Each stored batch has a contiguous
 * number; batches from different replicas may arrive out of order. A batch that arrives early is
 * held (briefly) for the missing ones; if they do not come (a replica's publish was lost), every
 * socket re-syncs from the database instead, once per gap. A batch numbered below the next
 * expected one is history and ignored (its rows reached the sockets live or through the
 * database), so a repeated batch is never delivered twice.
 *
 * What is held is bounded whatever arrives (decision 0021): batches more than `maxHeldBatches`
 * ahead are not held but make the service re-anchor the sequence on the database (a lost run of
 * publishes that long, or a number no replica ever stored); held entries past `maxHeldEntries`
 * end the wait at once. Either way the sockets catch up from the database, which costs a query
 * per socket and loses nothing.
 */
import type { InboxEntry } from '../domain/notification.js';

export interface SequencerHandlers {
  /** The next batch in commit order. */
  deliver: (entries: InboxEntry[]) => void;
  /** A gap was given up on: the sequence already goes on after it; every socket must re-read. */
  resync: () => void;
  /** A batch too far ahead to hold: the sequence must be re-anchored on the database (reset). */
  reanchor: () => void;
}

export interface SequencerLimits {
  /** How long an early batch waits for the missing ones before everything re-syncs. */
  gapWaitMs: number;
  /** Batches further ahead of the next expected one than this are not held. */
  maxHeldBatches: number;
  /** Entries held in all; one more and the wait ends at once. */
  maxHeldEntries: number;
}

export const DEFAULT_SEQUENCER_LIMITS: SequencerLimits = { gapWaitMs: 300, maxHeldBatches: 1000, maxHeldEntries: 20_000 };

export class BatchSequencer {
  private readonly held = new Map<number, InboxEntry[]>();
  private heldEntries = 0;
  private highestHeld = 0;
  private gapTimer: NodeJS.Timeout | undefined;

  constructor(
    private next: number,
    private readonly handlers: SequencerHandlers,
    private readonly limits: SequencerLimits = DEFAULT_SEQUENCER_LIMITS,
  ) {}

  receive(batch: number, entries: InboxEntry[]): void {
    if (!Number.isSafeInteger(batch) || batch < this.next || this.held.has(batch)) return;
    if (batch - this.next >= this.limits.maxHeldBatches) {
      this.dropHeld();
      this.handlers.reanchor();
      return;
    }
    this.held.set(batch, entries);
    this.heldEntries += entries.length;
    this.highestHeld = Math.max(this.highestHeld, batch);
    this.drain();
    if (this.held.size === 0) return;
    if (this.heldEntries > this.limits.maxHeldEntries) return this.giveUpOnGap();
    this.gapTimer ??= setTimeout(() => this.giveUpOnGap(), this.limits.gapWaitMs);
  }

  /** Batches and entries waiting for a gap to fill (what the limits bound). */
  get holding(): { batches: number; entries: number } {
    return { batches: this.held.size, entries: this.heldEntries };
  }

  private drain(): void {
    for (let entries = this.held.get(this.next); entries; entries = this.held.get(this.next)) {
      this.held.delete(this.next);
      this.heldEntries -= entries.length;
      this.next += 1;
      this.handlers.deliver(entries);
    }
    if (this.held.size === 0) this.dropHeld();
  }

  private giveUpOnGap(): void {
    if (this.held.size === 0) return;
    this.next = this.highestHeld + 1;
    this.dropHeld();
    this.handlers.resync();
  }

  /** After a re-anchor: the sockets re-read from the database everything up to `next - 1`. */
  reset(next: number): void {
    this.next = Math.max(this.next, next);
    this.dropHeld();
  }

  stop(): void {
    this.dropHeld();
  }

  private dropHeld(): void {
    this.held.clear();
    this.heldEntries = 0;
    this.highestHeld = 0;
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }
}
