/**
 * Fakes for the ports of live delivery: an inbox that numbers rows and batches like the
 * database does (seq global and increasing, batch contiguous), a fanout exchange that loops
 * back to the replica and can lose messages, and sockets that record what they were sent.
 */
import type { LiveMessage } from '@warren/shared/contracts/live';
import type { InboxEntry } from '../../src/domain/notification.js';
import type { LiveBus, LiveSocket, LiveSockets, LiveStore } from '../../src/live/live-delivery.js';
import type { FeedSink, SocketFeed } from '../../src/live/socket-feed.js';

export const ALICE = '0d9f3a57-9c1e-4c55-8a39-5b7e0f0b7a01';
export const BOB = '6a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

export function entry(seq: number, userId = ALICE): InboxEntry {
  return {
    userId,
    seq,
    notification: { id: seq.toString(16).padStart(16, '0'), notificationId: '00000000-0000-4000-8000-000000000000', sender: null, type: 'general', title: `n${seq}`, body: '', data: {}, createdAt: '', readAt: null },
  };
}

/** The inbox: committed rows and the last batch number, with a switch to make it fail. */
export class FakeStore implements LiveStore {
  readonly rows: InboxEntry[] = [];
  private seq = 0;
  last = 0;
  reads = 0;
  failing: Error | undefined;
  /** Set to hold every read until release() (a slow database). */
  gate: Promise<void> | undefined;

  /** Commits one insert: a row per user, the next batch number; returns what the store publishes. */
  commit(userIds: string[]): { batch: number; entries: InboxEntry[] } {
    const entries = userIds.map((u) => entry(++this.seq, u));
    this.rows.push(...entries);
    this.last += 1;
    return { batch: this.last, entries };
  }

  async lastBatch(): Promise<number> {
    if (this.failing) throw this.failing;
    return this.last;
  }

  async latestSeq(userId: string): Promise<number> {
    if (this.failing) throw this.failing;
    return this.rows.filter((r) => r.userId === userId).at(-1)?.seq ?? 0;
  }

  async readAfter(userId: string, afterSeq: number, limit: number): Promise<InboxEntry[]> {
    this.reads += 1;
    // Read when asked: rows committed while the answer is held back are not in it.
    const rows = this.rows.filter((r) => r.userId === userId && r.seq > afterSeq).slice(0, limit);
    await this.gate;
    if (this.failing) throw this.failing;
    return rows;
  }
}

/** The fanout exchange as one replica hears it; `lose` drops the next messages of a kind. */
export class LoopbackBus implements LiveBus {
  hear: (m: LiveMessage) => void = () => undefined;
  readonly lost: LiveMessage[] = [];
  private toLose = 0;

  lose(count = 1): void {
    this.toLose += count;
  }

  async publish(message: LiveMessage): Promise<void> {
    if (this.toLose > 0) {
      this.toLose -= 1;
      this.lost.push(message);
      return;
    }
    this.hear(message);
  }
}

/** A socket: records the frames it was sent (notification titles in `titles`). */
export class FakeSocket implements FeedSink, LiveSocket {
  readonly frames: Record<string, unknown>[] = [];
  feed!: SocketFeed;
  open = true;
  backlogged = false;
  aborted: Error | undefined;

  constructor(readonly userId: string) {}

  send(frame: unknown): boolean {
    if (!this.open) return false;
    this.frames.push(frame as Record<string, unknown>);
    return true;
  }

  async drained(): Promise<void> {}

  together(sends: () => void): void {
    sends();
  }

  abort(err: Error): void {
    this.aborted = err;
    this.open = false;
  }

  get titles(): string[] {
    return this.frames.filter((f) => f.type === 'notification').map((f) => (f.notification as { title: string }).title);
  }
}

export class FakeSockets implements LiveSockets {
  readonly list: FakeSocket[] = [];
  of(userId: string): FakeSocket[] {
    return this.list.filter((s) => s.userId === userId);
  }
  all(): FakeSocket[] {
    return [...this.list];
  }
}

/** Lets pending promise callbacks (database reads) run; timers stay where the test put them. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}
