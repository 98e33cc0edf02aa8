/**
 * The mechanics every queue consumer shares: on each (re)connection declare its queue (with
 * what the queue needs: bindings, dead-letter and delay queues), set prefetch and subscribe; remember which channel a message came on (an ack must go to
 * that channel); on stop, cancel, wait for in-flight handlers, close.
 */
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { Broker } from './broker.js';
import { declareTopology, type Queue } from './topology.js';

export type OnMessage = (ch: Channel, msg: ConsumeMessage) => Promise<void>;

export class Subscription {
  private readonly channel: ChannelWrapper;
  private current: { ch: Channel; consumerTag: string } | undefined;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(broker: Broker, opts: { name: string; queue: Queue; prefetch: number }, onMessage: OnMessage) {
    this.channel = broker.channel(opts.name, {
      confirm: false,
      setup: async (raw) => {
        const ch = raw as Channel;
        await declareTopology(ch, [opts.queue]);
        if (this.stopping) return;
        await ch.prefetch(opts.prefetch);
        const { consumerTag } = await ch.consume(opts.queue.name, (msg) => {
          if (!msg) return; // cancelled by the broker; the next reconnect resubscribes
          const p = onMessage(ch, msg);
          this.inFlight.add(p);
          void p.finally(() => this.inFlight.delete(p));
        });
        this.current = { ch, consumerTag };
      },
    });
  }

  async waitReady(): Promise<void> {
    await this.channel.waitForConnect();
  }

  /** Stops taking new messages, waits for those in progress (up to `timeoutMs`), closes. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopping = true;
    const cur = this.current;
    if (cur) await cur.ch.cancel(cur.consumerTag).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    await this.channel.close();
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
