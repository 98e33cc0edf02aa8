/**
 * The mechanics every queue consumer shares: on each (re)connection declare its queue (with
 * what the queue needs: bindings, dead-letter and delay queues), set prefetch and subscribe; remember which channel a message came on (an ack must go to
 * that channel); on stop, cancel, wait for in-flight handlers, close.
 *
 * A consumer the broker cancels while the connection stays up (its queue deleted, or, in a
 * cluster, gone with its node) is resubscribed at once, with backoff, rather than at the next
 * reconnection, which may never come. Each attempt runs on a fresh channel: a refused
 * declaration or consume closes the channel it ran on, and the connection manager only
 * replaces its own channels on a reconnection.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../logger.js';
import type { Broker } from './broker.js';
import { declareTopology, type Queue } from './topology.js';

export type OnMessage = (ch: Channel, msg: ConsumeMessage) => Promise<void>;

export interface SubscriptionOptions {
  name: string;
  /** Declared on every (re)connection, with what it needs. */
  queue: Queue;
  /** The queue consumed, when not `queue` itself: a work queue's retry lane (declared along with it). */
  consumes?: string;
  prefetch: number;
  logger: Logger;
  /** First pause between resubscription attempts after a cancel (default 250 ms; doubles up to 5 s). */
  resubscribeBackoffMs?: number;
}

const MAX_RESUBSCRIBE_BACKOFF_MS = 5000;

export class Subscription {
  private readonly channel: ChannelWrapper;
  /** Where the consumer is: the manager's channel, or one opened to resubscribe after a cancel. */
  private current: { ch: Channel; consumerTag: string } | undefined;
  /** The channel a resubscription opened, if any (ours to close). */
  private own: Channel | undefined;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Channels whose consumer the broker cancelled. amqplib hands a cancel to the consumer's
   * callback as soon as it reads it, which can be before the code awaiting `consume` has
   * recorded the channel as current (consume-ok and the cancel in one read of the socket):
   * `consumingOn` looks here, so such a cancel is not lost.
   */
  private readonly cancelled = new WeakSet<Channel>();
  private readonly untrack: () => void;

  constructor(
    private readonly broker: Broker,
    private readonly opts: SubscriptionOptions,
    private readonly onMessage: OnMessage,
  ) {
    this.channel = broker.channel(opts.name, {
      confirm: false,
      setup: async (raw) => {
        const ch = raw as Channel;
        // A new connection: a channel of an earlier resubscription went with the old one, and
        // so did the consumer until it subscribes here.
        this.current = undefined;
        this.closeOwn();
        const consumerTag = await this.subscribe(ch);
        if (consumerTag) this.consumingOn(ch, consumerTag);
      },
    });
    this.untrack = broker.trackConsumer({ name: opts.name, isConsuming: () => this.isConsuming() });
  }

  /** Whether a consumer is on the queue now: subscribed, and not cancelled by the broker since. */
  isConsuming(): boolean {
    const cur = this.current;
    return !this.stopping && cur !== undefined && !this.cancelled.has(cur.ch);
  }

  async waitReady(): Promise<void> {
    await this.channel.waitForConnect();
  }

  /** Stops taking new messages, waits for those in progress (up to `timeoutMs`), closes. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopping = true;
    this.untrack();
    const cur = this.current;
    if (cur) await cur.ch.cancel(cur.consumerTag).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    this.closeOwn();
    await this.channel.close();
  }

  /** Declares the queue and consumes it on `ch`; the consumer's tag, or none when stopping. */
  private async subscribe(ch: Channel): Promise<string | undefined> {
    await declareTopology(ch, [this.opts.queue]);
    if (this.stopping) return undefined;
    await ch.prefetch(this.opts.prefetch);
    const { consumerTag } = await ch.consume(this.consumed(), (msg) => {
      if (!msg) {
        this.cancelled.add(ch);
        void this.resubscribe(ch);
        return;
      }
      const p = this.onMessage(ch, msg);
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    });
    return consumerTag;
  }

  /**
   * After the broker cancelled the consumer on `cancelled`: subscribe again on a new channel,
   * until it works, the subscription stops, or a reconnection's setup has subscribed anew.
   */
  private async resubscribe(cancelled: Channel): Promise<void> {
    const { logger, name } = this.opts;
    const queue = this.consumed();
    const stillNeeded = () => !this.stopping && this.current?.ch === cancelled;
    if (!stillNeeded()) return;
    logger.warn('consumer cancelled by the broker; resubscribing', { subscription: name, queue });
    const started = Date.now();
    for (let attempt = 1, backoff = this.opts.resubscribeBackoffMs ?? 250; ; attempt++, backoff = Math.min(backoff * 2, MAX_RESUBSCRIBE_BACKOFF_MS)) {
      const connection = this.broker.manager.connection;
      // No connection: the reconnection's setup subscribes again.
      if (!connection || !stillNeeded()) return;
      let ch: Channel | undefined;
      try {
        ch = await connection.createChannel();
        // A refusal closes this channel with an error; it is reported by the awaited call.
        ch.on('error', () => undefined);
        const consumerTag = await this.subscribe(ch);
        if (!consumerTag || !stillNeeded()) {
          await ch.close().catch(() => undefined);
          return;
        }
        const previous = this.own;
        this.own = ch;
        // An earlier resubscription's channel (the cancelled one, or older) is ours to close;
        // the manager's own channel stays with it.
        if (previous) void previous.close().catch(() => undefined);
        logger.info('consumer resubscribed', { subscription: name, queue, attempt, afterMs: Date.now() - started });
        this.consumingOn(ch, consumerTag);
        return;
      } catch (err) {
        void ch?.close().catch(() => undefined);
        logger.warn('resubscribe failed; retrying', { subscription: name, queue, attempt, err: (err as Error).message });
      }
      await sleep(backoff * (0.5 + Math.random() * 0.5));
    }
  }

  private consumed(): string {
    return this.opts.consumes ?? this.opts.queue.name;
  }

  /** The consumer is now on `ch`; if the broker has cancelled it there already, subscribe again. */
  private consumingOn(ch: Channel, consumerTag: string): void {
    this.current = { ch, consumerTag };
    if (this.cancelled.has(ch)) void this.resubscribe(ch);
  }

  private closeOwn(): void {
    const own = this.own;
    this.own = undefined;
    if (own) void own.close().catch(() => undefined);
  }
}

/**
 * Ack/nack on the channel the message came from. If that channel died meanwhile, the
 * broker has already requeued the message for redelivery, so there is nothing to settle.
 */
export function settle(fn: () => void): void {
  try {
    fn();
  } catch {
    /* channel closed: the broker redelivers */
  }
}
