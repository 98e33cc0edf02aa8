/**
 * A broker cancel that amqplib hands to the consumer before the subscriber has recorded where
 * it consumes: consume-ok and basic.cancel read from the socket in one go (a queue deleted right
 * after the subscription, more likely with Nagle off). The callback then runs before the code
 * awaiting `consume` continues. Fake channels make that order certain: each cancels its
 * consumer inside `consume`, before the promise it returns has been awaited.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConsumeMessage } from 'amqplib';
import { topology } from '@warren/shared/contracts/topology';
import type { Broker } from '@warren/shared/messaging/broker';
import { Subscription } from '@warren/shared/messaging/subscription';
import { captureLogs } from '../../test/support/logs.js';
import { waitFor } from './helpers.js';

type Callback = (msg: ConsumeMessage | null) => void;

class FakeChannel {
  readonly consumers = new Map<string, Callback>();
  closed = false;

  constructor(
    private readonly tag: string,
    /** Cancel the consumer as soon as it is made, as a broker whose queue was just deleted does. */
    private readonly cancelAtOnce: boolean,
  ) {}

  on() {
    return this;
  }
  async assertExchange() {}
  async assertQueue() {}
  async bindQueue() {}
  async prefetch() {}
  async cancel(consumerTag: string) {
    this.consumers.delete(consumerTag);
  }
  async close() {
    this.closed = true;
  }

  consume(_queue: string, callback: Callback): Promise<{ consumerTag: string }> {
    const ok = Promise.resolve({ consumerTag: this.tag });
    if (this.cancelAtOnce) callback(null);
    else this.consumers.set(this.tag, callback);
    return ok;
  }
}

/** A broker whose first `cancelled` channels (the manager's first) have their consumer cancelled at once. */
function fakeBroker(cancelled: number) {
  const channels: FakeChannel[] = [];
  const open = () => {
    const ch = new FakeChannel(`ctag-${channels.length + 1}`, channels.length < cancelled);
    channels.push(ch);
    return ch;
  };
  const broker = {
    channel(_name: string, opts: { setup: (ch: unknown) => Promise<unknown> }) {
      const ready = opts.setup(open());
      return { waitForConnect: () => ready, close: async () => undefined };
    },
    manager: { connection: { createChannel: async () => open() } },
    trackConsumer: () => () => undefined,
  } as unknown as Broker;
  return { broker, channels };
}

describe('A consumer cancelled before its subscription has recorded it', () => {
  for (const cancelled of [1, 3]) {
    it(`When the broker cancels the consumer on ${cancelled} channel(s) right after consume-ok, then it subscribes again and ends up consuming`, async () => {
      // Arrange
      const { broker, channels } = fakeBroker(cancelled);
      const logs = captureLogs('subscription-race');
      const queue = topology('warren.fake').queues.emailRequests;

      // Act
      const subscription = new Subscription(broker, { name: 'race', queue, prefetch: 1, logger: logs.logger, resubscribeBackoffMs: 10 }, async () => undefined);
      await subscription.waitReady();

      // Assert: a consumer on the channel after the cancelled ones, and only there
      await waitFor(() => channels[cancelled]?.consumers.size === 1, `a consumer on channel ${cancelled + 1}`, 3000);
      assert.equal(channels.length, cancelled + 1);
      assert.equal(logs.lines.filter((l) => l.message === 'consumer resubscribed').length, cancelled);
      assert.ok(subscription.isConsuming());
      await subscription.stop(100);
      assert.equal(channels[cancelled]?.consumers.size, 0, 'stop cancels it where it is');
    });
  }
});
