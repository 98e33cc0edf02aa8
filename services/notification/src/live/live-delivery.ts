/**
 * Live delivery, one home (decision 0021): how a stored notification reaches the sockets of its
 * user on every replica, and how a socket gets back what the live path lost.
 *
 * - publishing: the store hands each committed batch (and each read change) to `publishStored` /
 *   `announceRead`, which put it on the live fanout exchange (the `LiveBus`);
 * - sequencing: whatever arrives from the exchange goes through the BatchSequencer (commit order
 *   across replicas), then to the SocketFeed of every socket of each user (id order per user,
 *   duplicates dropped);
 * - resync: a gap that does not fill, a batch too far ahead, or a re-subscription after a broker
 *   reconnect makes every socket of this replica read what it missed from the database (which
 *   batch was lost is unknown, so so are the users it concerned);
 * - the gateway hook: the ws layer serves its sockets (`serve`) and opens a feed per socket
 *   (`openFeed`); live delivery calls nothing else of it.
 */
import type { LiveMessage } from '@warren/shared/contracts/live';
import type { Logger } from '@warren/shared/logger';
import type { InboxEntry } from '../domain/notification.js';
import type { ReadAnnouncement } from '../domain/ports.js';
import { BatchSequencer, DEFAULT_SEQUENCER_LIMITS, type SequencerLimits } from './batch-sequencer.js';
import type { OutboundFrame } from '../ws/outbound-frames.js';
import { SocketFeed, type FeedSink, type FeedStore } from './socket-feed.js';

/** Where live messages go out to every replica (LiveExchange). */
export interface LiveBus {
  publish(message: LiveMessage): Promise<void>;
}

/** The database side: where the sequence starts and what sockets catch up from. */
export interface LiveStore extends FeedStore {
  /** The number of the last stored batch: live batches numbered up to it are history. */
  lastBatch(): Promise<number>;
}

/** One socket as live delivery sees it. */
export interface LiveSocket {
  readonly feed: SocketFeed;
  send(frame: unknown): boolean;
}

/** The sockets this replica holds (the ws layer's registry). */
export interface LiveSockets {
  of(userId: string): Iterable<LiveSocket>;
  all(): Iterable<LiveSocket>;
}

/** What the ws layer is given. */
export interface LiveGatewayHook {
  serve(sockets: LiveSockets): void;
  openFeed(userId: string, sink: FeedSink): SocketFeed;
}

export interface LiveDeliveryDeps {
  bus: LiveBus;
  store: LiveStore;
  logger: Logger;
}

const NO_SOCKETS: LiveSockets = { of: () => [], all: () => [] };

export class LiveDelivery implements LiveGatewayHook {
  private sockets = NO_SOCKETS;
  private readonly sequencer: BatchSequencer;
  /** A re-anchor in flight, and whether another was asked for meanwhile (they coalesce). */
  private reanchoring: Promise<void> | undefined;
  private reanchorAgain = false;

  /** `lastBatch` is the store's last batch number when the subscription starts. */
  constructor(
    private readonly deps: LiveDeliveryDeps,
    lastBatch: number,
    limits: SequencerLimits = DEFAULT_SEQUENCER_LIMITS,
  ) {
    this.sequencer = new BatchSequencer(
      lastBatch + 1,
      {
        deliver: (entries) => this.fanOut(entries),
        resync: () => this.resyncSockets(),
        reanchor: () => void this.reanchor(),
      },
      limits,
    );
  }

  // Publishing: after the store committed.

  async publishStored(batch: number, entries: InboxEntry[]): Promise<void> {
    await this.deps.bus.publish({ kind: 'notifications', batch, entries });
  }

  async announceRead(change: ReadAnnouncement): Promise<void> {
    const { userId, unreadCount } = change;
    if ('all' in change) return this.deps.bus.publish({ kind: 'read', userId, all: true, unreadCount });
    await this.deps.bus.publish(change.unread ? { kind: 'unread', userId, ids: change.ids, unreadCount } : { kind: 'read', userId, ids: change.ids, unreadCount });
  }

  // Receiving: what the exchange hands over.

  receive(message: LiveMessage): void {
    if (message.kind === 'notifications') return this.sequencer.receive(message.batch, message.entries);
    const frame: OutboundFrame = message.kind === 'unread'
      ? { type: 'unread', ids: message.ids, unreadCount: message.unreadCount }
      : message.ids
      ? { type: 'read', ids: message.ids, unreadCount: message.unreadCount }
      : { type: 'read', all: true, unreadCount: message.unreadCount };
    for (const socket of this.sockets.of(message.userId)) socket.send(frame);
  }

  /** The subscription was re-made after a reconnect: what was published meanwhile is gone. */
  resubscribed(): void {
    void this.reanchor();
  }

  // The gateway hook.

  serve(sockets: LiveSockets): void {
    this.sockets = sockets;
  }

  openFeed(userId: string, sink: FeedSink): SocketFeed {
    return new SocketFeed(userId, sink, this.deps.store);
  }

  stop(): void {
    this.sequencer.stop();
  }

  private fanOut(entries: InboxEntry[]): void {
    const byUser = new Map<string, InboxEntry[]>();
    for (const e of entries) {
      const list = byUser.get(e.userId);
      if (list) list.push(e);
      else byUser.set(e.userId, [e]);
    }
    for (const [userId, list] of byUser) for (const socket of this.sockets.of(userId)) socket.feed.deliver(list);
  }

  private resyncSockets(): void {
    for (const socket of this.sockets.all()) socket.feed.resync();
  }

  /**
   * Restarts the sequence after the database's last batch, then re-syncs every socket: batches
   * up to it are committed, so the sockets' database reads cover them. One at a time; requests
   * meanwhile coalesce into one more round.
   */
  private async reanchor(): Promise<void> {
    if (this.reanchoring) {
      this.reanchorAgain = true;
      return this.reanchoring;
    }
    this.reanchoring = (async () => {
      do {
        this.reanchorAgain = false;
        try {
          this.sequencer.reset((await this.deps.store.lastBatch()) + 1);
        } catch (err) {
          // The sockets' own reads will fail too and close them: their clients resume with ?after=.
          this.deps.logger.warn('live delivery could not re-anchor on the database', { err: (err as Error).message });
        }
        this.resyncSockets();
      } while (this.reanchorAgain);
    })().finally(() => {
      this.reanchoring = undefined;
    });
    return this.reanchoring;
  }
}
