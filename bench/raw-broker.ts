/**
 * The raw broker ceiling: what RabbitMQ on this machine does with no service in between.
 * amqplib directly (not the project's Publisher/Consumer, so nothing of ours is in the
 * figure): one connection publishes persistent messages, the size of a notification request,
 * to a durable quorum queue on a confirm channel with at most `window` unconfirmed; another
 * connection consumes them at the same time with manual acks (prefetch 500, one ack per
 * message, as the services do). Rate = messages / (first publish → last ack).
 */
import amqplib from 'amqplib';
import { cpuMsPer, type CpuSnapshot } from './cpu-accounting.js';
import { requestedMessage } from './notifications.js';
import { nowMs } from './stats.js';

export interface RawBrokerResult {
  /** The rate of each repetition; `perSecond` and the rest are the median one's. */
  repetitions?: number[];
  messages: number;
  messageBytes: number;
  perSecond: number;
  /** Publish side alone: first publish → last confirm. */
  publishPerSecond: number;
  seconds: number;
  client: string;
  /** CPU milliseconds per message, by process (RabbitMQ and this benchmark). */
  cpuMsPerMessage?: Record<string, number>;
}

async function measureOnce(opts: { rabbitmqUrl: string; namespace: string; userId: string; count: number; window?: number; cpuSnapshot?: () => CpuSnapshot }): Promise<RawBrokerResult> {
  const { count } = opts;
  const window = opts.window ?? 1000;
  const queue = `${opts.namespace}.raw`;
  const payload = requestedMessage(opts.userId, 'bench raw 0');
  const pubConn = await amqplib.connect(opts.rabbitmqUrl);
  const subConn = await amqplib.connect(opts.rabbitmqUrl);
  try {
    const pub = await pubConn.createConfirmChannel();
    const sub = await subConn.createChannel();
    await pub.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await pub.purgeQueue(queue);
    await sub.prefetch(500);

    let acked = 0;
    let lastAck = 0;
    let doneConsuming: () => void = () => undefined;
    const consumed = new Promise<void>((resolve) => (doneConsuming = resolve));
    await sub.consume(queue, (msg) => {
      if (!msg) return;
      sub.ack(msg);
      if (++acked === count) {
        lastAck = nowMs();
        doneConsuming();
      }
    });

    const cpuBefore = opts.cpuSnapshot?.();
    const start = nowMs();
    let confirmed = 0;
    let lastConfirm = 0;
    let failed = 0;
    let wake: (() => void) | undefined;
    const onConfirm = (err: unknown) => {
      if (err) failed += 1;
      confirmed += 1;
      if (confirmed === count) lastConfirm = nowMs();
      wake?.();
    };
    for (let sent = 0; sent < count; sent++) {
      // Keep at most `window` messages unconfirmed, like a producer that must know each is safe.
      while (sent - confirmed >= window) await new Promise<void>((r) => (wake = r));
      const ok = pub.publish('', queue, payload, { persistent: true, contentType: 'application/json', messageId: String(sent) }, onConfirm);
      if (!ok) await new Promise((r) => pub.once('drain', r));
    }
    // Bounded by the caller's phase timeout.
    await consumed;
    while (confirmed < count) await new Promise<void>((r) => (wake = r));
    if (failed > 0) throw new Error(`${failed} publishes were nacked by the broker`);
    const cpuAfter = opts.cpuSnapshot?.();

    await sub.close();
    await pub.deleteQueue(queue);
    await pub.close();
    const seconds = (lastAck - start) / 1000;
    return {
      messages: count,
      messageBytes: payload.length,
      perSecond: count / seconds,
      publishPerSecond: count / ((lastConfirm - start) / 1000),
      seconds,
      cpuMsPerMessage: cpuBefore && cpuAfter ? cpuMsPer(cpuBefore, cpuAfter, count) : undefined,
      client: 'amqplib (no project code): confirm channel, window 1000, persistent, quorum queue; consumer prefetch 500, manual ack per message',
    };
  } finally {
    await pubConn.close().catch(() => undefined);
    await subConn.close().catch(() => undefined);
  }
}

/**
 * The broker's rate swings with whatever else the machine does (seconds-long runs), so the
 * ceiling is the median of `repetitions` runs.
 */
export async function measureRawBroker(opts: Parameters<typeof measureOnce>[0] & { repetitions: number }): Promise<RawBrokerResult> {
  const runs: RawBrokerResult[] = [];
  for (let i = 0; i < opts.repetitions; i++) runs.push(await measureOnce(opts));
  const sorted = [...runs].sort((a, b) => a.perSecond - b.perSecond);
  const median = sorted[Math.floor(sorted.length / 2)] as RawBrokerResult;
  return { ...median, repetitions: runs.map((r) => Math.round(r.perSecond)) };
}
