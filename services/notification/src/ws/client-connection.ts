/**
 * One authenticated socket. It delivers the user's notifications strictly in seq order, never
 * twice and without gaps: first the catch-up (`?after=`) read from the database page by page,
 * then live batches. While it is catching up, live batches only mark it "behind" and the
 * catch-up reads on from the database until nothing is left, so nothing is buffered in memory.
 * `lastSeq` is the newest notification sent; a live entry at or below it is a duplicate.
 * Sends respect backpressure: a client whose unsent data passes `maxBufferedBytes` is closed
 * (4008) so a slow reader cannot grow the server's memory.
 */
import type { WebSocket } from 'ws';
import type { Logger } from '@warren/shared/logger';
import type { InboxEntry } from '../domain/notification.js';
import { CLOSE } from './close-codes.js';
import type { OutboundFrame } from './outbound-frames.js';

export interface ConnectionDeps {
  readAfter: (userId: string, afterSeq: number, limit: number) => Promise<InboxEntry[]>;
  logger: Logger;
  maxBufferedBytes: number;
}

const PAGE = 500;

export class ClientConnection {
  private lastSeq = 0;
  /** True until begin(): live batches that arrive while the socket is set up only mark it behind. */
  private catchingUp = true;
  private behind = false;

  constructor(
    readonly ws: WebSocket,
    readonly userId: string,
    /** The session of the token that authenticated the socket (a renewal may change it). */
    public sessionId: string,
    private readonly deps: ConnectionDeps,
  ) {}

  /** Starts delivery after `startSeq`: the catch-up runs, then live delivery. */
  async begin(startSeq: number): Promise<void> {
    this.lastSeq = startSeq;
    this.catchingUp = false;
    await this.catchUp();
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Sends a frame unless the client has stopped reading; returns false if the socket is gone. */
  send(frame: OutboundFrame): boolean {
    if (!this.open) return false;
    if (this.ws.bufferedAmount > this.deps.maxBufferedBytes) {
      this.deps.logger.warn('slow consumer closed', { userId: this.userId, bufferedBytes: this.ws.bufferedAmount });
      this.ws.close(CLOSE.slowConsumer, 'slow consumer');
      // A client that does not read will not read the close frame either.
      setTimeout(() => this.ws.terminate(), 1000).unref();
      return false;
    }
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Live entries of this user, in seq order (the sequencer guarantees batch order). */
  deliver(entries: InboxEntry[]): void {
    if (this.catchingUp) {
      this.behind = true;
      return;
    }
    for (const e of entries) {
      if (e.seq <= this.lastSeq) continue;
      if (!this.send({ type: 'notification', notification: e.notification })) return;
      this.lastSeq = e.seq;
    }
  }

  /** Reads from the database everything newer than what was sent, until caught up. */
  async catchUp(): Promise<void> {
    if (this.catchingUp) {
      this.behind = true;
      return;
    }
    this.catchingUp = true;
    try {
      for (;;) {
        this.behind = false;
        const rows = await this.deps.readAfter(this.userId, this.lastSeq, PAGE);
        for (const e of rows) {
          // The replay goes at the client's pace: a page sent in one burst would pass
          // maxBufferedBytes before even a healthy client could read, and be closed as slow.
          if (this.ws.bufferedAmount > this.deps.maxBufferedBytes / 2) await this.drained();
          if (!this.send({ type: 'notification', notification: e.notification })) return;
          this.lastSeq = e.seq;
        }
        if (rows.length === PAGE) await this.drained();
        else if (!this.behind) return;
      }
    } finally {
      this.catchingUp = false;
    }
  }

  /** Waits until the socket's send buffer is mostly empty (a slow client is closed by send()). */
  private async drained(): Promise<void> {
    while (this.open && this.ws.bufferedAmount > this.deps.maxBufferedBytes / 4) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
