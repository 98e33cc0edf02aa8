/**
 * One authenticated socket: the ws end of a SocketFeed (live/socket-feed.ts), which decides what
 * notifications it gets and in what order. Sends respect backpressure: a client whose unsent
 * data passes `maxBufferedBytes` is closed (4008) so a slow reader cannot grow the server's
 * memory; a feed that cannot go on without a gap closes it too (1013/1011: resume with ?after=).
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { isDatabaseUnavailable } from '@warren/shared/db/unavailable';
import type { Logger } from '@warren/shared/logger';
import { traceIdOf } from '@warren/shared/trace-context';
import type { InboxEntry } from '../domain/notification.js';
import type { FeedSink, SocketFeed } from '../live/socket-feed.js';
import { CLOSE } from './close-codes.js';
import type { OutboundFrame } from './outbound-frames.js';
import type { SocketMetrics } from './socket-metrics.js';

export interface ConnectionDeps {
  openFeed: (userId: string, sink: FeedSink) => SocketFeed;
  logger: Logger;
  metrics?: SocketMetrics | undefined;
  maxBufferedBytes: number;
}

export class ClientConnection implements FeedSink {
  readonly feed: SocketFeed;
  /** While a batch is being sent (together): the unsent bytes when it began. */
  private batchStartBuffered: number | undefined;

  constructor(
    readonly ws: WebSocket,
    /** The connection under `ws` (the upgraded socket): held while a batch's frames are written. */
    private readonly socket: Duplex,
    readonly userId: string,
    /** The session of the token that authenticated the socket (a renewal may change it). */
    public sessionId: string,
    private readonly deps: ConnectionDeps,
  ) {
    this.feed = deps.openFeed(userId, this);
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /**
   * Sends a frame unless the client has stopped reading; returns false if the socket is gone.
   * `live`: the entry of a live notification frame, timed from its createdAt and logged (debug)
   * with its send's trace id.
   */
  send(frame: OutboundFrame, live?: InboxEntry): boolean {
    if (!this.open) return false;
    // Inside a batch the earlier frames of the batch wait in the corked socket, held by us, not
    // by a client that stopped reading: what the client has left unread is what there was when
    // the batch began.
    const unread = this.batchStartBuffered ?? this.ws.bufferedAmount;
    if (unread > this.deps.maxBufferedBytes) {
      this.deps.logger.warn('slow consumer closed', { userId: this.userId, bufferedBytes: unread });
      this.ws.close(CLOSE.slowConsumer, 'slow consumer');
      // A client that does not read will not read the close frame either.
      setTimeout(() => this.ws.terminate(), 1000).unref();
      return false;
    }
    this.ws.send(JSON.stringify(frame));
    if (live) this.sentLive(live);
    return true;
  }

  /**
   * ws writes each frame with its own cork and uncork; corked once more around a batch, the
   * frames wait in the socket and leave in one write when it is uncorked.
   */
  together(sends: () => void): void {
    this.batchStartBuffered = this.ws.bufferedAmount;
    this.socket.cork();
    try {
      sends();
    } finally {
      this.batchStartBuffered = undefined;
      this.socket.uncork();
    }
  }

  private sentLive(entry: InboxEntry): void {
    const createdAt = Date.parse(entry.notification.createdAt);
    if (Number.isFinite(createdAt)) this.deps.metrics?.deliveryLatency.observe(Math.max(0, Date.now() - createdAt) / 1000);
    // Checked first: on the hot path the line is usually off, and building it costs.
    if (this.deps.logger.isDebugEnabled()) {
      this.deps.logger.debug('notification frame sent', {
        userId: this.userId,
        notificationId: entry.notification.id,
        ...(entry.traceparent ? { traceId: traceIdOf(entry.traceparent) } : {}),
      });
    }
  }

  get backlogged(): boolean {
    return this.ws.bufferedAmount > this.deps.maxBufferedBytes / 2;
  }

  /** Waits until the socket's send buffer is mostly empty (a slow client is closed by send()). */
  async drained(): Promise<void> {
    while (this.open && this.ws.bufferedAmount > this.deps.maxBufferedBytes / 4) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  abort(err: Error): void {
    if (!this.open) return;
    const unavailable = isDatabaseUnavailable(err);
    this.deps.logger.warn('socket re-sync failed; closed so the client resumes', { userId: this.userId, err: err.message });
    this.ws.resume();
    this.ws.close(unavailable ? CLOSE.tryAgainLater : CLOSE.internalError, unavailable ? 'database unavailable' : 'internal error');
  }
}
