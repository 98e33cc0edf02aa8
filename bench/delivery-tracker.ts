/**
 * Counts what one socket receives for one phase of one run: which indices arrived, how many
 * twice, when the last one came, the ids in arrival order (they must only grow), and the
 * send-to-socket latency of those that carry their send time in `data.sentAt`.
 */
import { indexOf } from './notifications.js';
import type { NotificationFrame } from './socket-client.js';
import { sleep } from './stats.js';

export class DeliveryTracker {
  private readonly seen: Uint8Array;
  received = 0;
  duplicates = 0;
  /** Frames whose id was not greater than the previous frame's id on this socket. */
  outOfOrder = 0;
  firstAt = 0;
  lastAt = 0;
  readonly latenciesMs: number[] = [];
  private lastId = '';

  constructor(
    private readonly runId: string,
    private readonly phase: string,
    readonly expected: number,
  ) {
    this.seen = new Uint8Array(expected);
  }

  /** The socket's onNotification callback. */
  readonly onNotification = (n: NotificationFrame, at: number): void => {
    // Ids are 16 hex digits: string order is creation order.
    if (n.id <= this.lastId) this.outOfOrder += 1;
    this.lastId = n.id;
    const i = indexOf(this.runId, this.phase, n.title);
    if (i === undefined || !(i >= 0 && i < this.expected)) return;
    if (this.seen[i]) {
      this.duplicates += 1;
      return;
    }
    this.seen[i] = 1;
    if (this.received === 0) this.firstAt = at;
    this.received += 1;
    this.lastAt = at;
    const sentAt = n.data.sentAt;
    if (typeof sentAt === 'number') this.latenciesMs.push(at - sentAt);
  };

  get lastSeenId(): string {
    return this.lastId;
  }

  get complete(): boolean {
    return this.received >= this.expected;
  }

  /** Resolves true once every expected notification arrived, false after `timeoutMs`. */
  async waitComplete(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.complete && Date.now() < deadline) await sleep(5);
    return this.complete;
  }
}
