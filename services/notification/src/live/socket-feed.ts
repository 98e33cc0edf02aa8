/**
 * One socket's stream of notifications: strictly in id (seq) order, never twice and without
 * gaps. First the catch-up read from the database page by page, then live batches. While it is
 * catching up, live batches only mark it "behind" and the catch-up reads on from the database
 * until nothing is left, so nothing is buffered in memory however far behind it is.
 * `lastSeq` is the newest notification sent; a live entry at or below it is a duplicate.
 * A re-sync whose database read fails aborts the socket: carrying on with newer live ids would
 * let the client resume after them and lose the gap for good (decision 0007).
 */
import type { InboxEntry } from '../domain/notification.js';
import type { OutboundFrame } from '../ws/outbound-frames.js';

/** What a feed needs of its socket (the ws layer's ClientConnection). */
export interface FeedSink {
  /** Sends a frame; false if the socket is gone (or was closed as a slow consumer). `live`: the entry of a live frame (timed and logged). */
  send(frame: OutboundFrame, live?: InboxEntry): boolean;
  /** True when the client has a backlog: the catch-up waits for drained() before sending more. */
  readonly backlogged: boolean;
  drained(): Promise<void>;
  /** The feed cannot go on without a gap: the socket closes and the client resumes with ?after=. */
  abort(err: Error): void;
  /** Runs `send`s that go out together: their frames leave in one socket write, not one each. */
  together(sends: () => void): void;
}

/** The database side of a feed. */
export interface FeedStore {
  latestSeq: (userId: string) => Promise<number>;
  readAfter: (userId: string, afterSeq: number, limit: number) => Promise<InboxEntry[]>;
}

const PAGE = 500;

export class SocketFeed {
  private lastSeq = 0;
  /** True until start(): live batches that arrive while the socket is set up only mark it behind. */
  private catchingUp = true;
  private behind = false;

  constructor(
    readonly userId: string,
    private readonly sink: FeedSink,
    private readonly store: FeedStore,
  ) {}

  /**
   * Fixes where delivery starts: after `afterSeq` (the client's ?after=), or after the user's
   * newest notification now. Called before the client is told it is live (`ready`): whatever is
   * stored after the anchor reaches the socket. Read after `ready` (as it was), a notification
   * stored while that read waited for a pool connection was below the anchor and never sent.
   */
  async anchor(afterSeq: number | undefined): Promise<void> {
    this.lastSeq = afterSeq ?? (await this.store.latestSeq(this.userId));
  }

  /** Starts delivery from the anchor: what was stored since, from the database, then live. */
  async start(): Promise<void> {
    this.catchingUp = false;
    await this.catchUp();
  }

  /** Live entries of this user, in seq order (the sequencer guarantees batch order). */
  deliver(entries: InboxEntry[]): void {
    if (this.catchingUp) {
      this.behind = true;
      return;
    }
    // A live batch's frames for this socket in one write: a write per frame was ~17 % of the
    // service's CPU when one socket received a stream of sends.
    this.sink.together(() => {
      for (const e of entries) {
        if (e.seq <= this.lastSeq) continue;
        if (!this.sink.send({ type: 'notification', notification: e.notification }, e)) return;
        this.lastSeq = e.seq;
      }
    });
  }

  /** Live messages may have been lost: read on from the database; a failed read aborts the socket. */
  resync(): void {
    this.catchUp().catch((err: Error) => this.sink.abort(err));
  }

  /** Reads from the database everything newer than what was sent, until caught up. */
  private async catchUp(): Promise<void> {
    if (this.catchingUp) {
      this.behind = true;
      return;
    }
    this.catchingUp = true;
    try {
      for (;;) {
        this.behind = false;
        const rows = await this.store.readAfter(this.userId, this.lastSeq, PAGE);
        for (const e of rows) {
          // The replay goes at the client's pace: a page sent in one burst would pass the
          // buffer limit before even a healthy client could read, and be closed as slow.
          if (this.sink.backlogged) await this.sink.drained();
          if (!this.sink.send({ type: 'notification', notification: e.notification })) return;
          this.lastSeq = e.seq;
        }
        if (rows.length === PAGE) await this.sink.drained();
        else if (!this.behind) return;
      }
    } finally {
      this.catchingUp = false;
    }
  }
}
