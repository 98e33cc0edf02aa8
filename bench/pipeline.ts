/**
 * Pipeline throughput: HTTP send → main-backend → RabbitMQ → notification service (batched
 * store) → WebSocket, end to end. One socket of the recipient is open; `count` sends go out
 * with at most `concurrency` requests in flight over keep-alive connections. The rate is
 * `count` / (first send → the socket received the last of them), and every delivery must be
 * made: each index received once, none missing.
 */
import type { Session } from './accounts.js';
import { cpuMsPer, type CpuSnapshot } from './cpu-accounting.js';
import { DeliveryTracker } from './delivery-tracker.js';
import { send, title } from './notifications.js';
import type { SendConnections } from './send-connections.js';
import { openSocket } from './socket-client.js';
import { nowMs, runBounded } from './stats.js';

export interface PipelineResult {
  /** The rate of each repetition; the other figures are the median one's. */
  repetitions?: number[];
  sent: number;
  accepted: number;
  delivered: number;
  duplicates: number;
  outOfOrder: number;
  allDelivered: boolean;
  perSecond: number;
  /** Rate at which main-backend answered 202 (the HTTP + publish half alone). */
  acceptedPerSecond: number;
  seconds: number;
  concurrency: number;
  warmup: number;
  /** CPU milliseconds per notification, by process, over the measured sends. */
  cpuMsPerNotification?: Record<string, number>;
}

type PipelineOptions = {
  sender: SendConnections;
  wsUrl: string;
  admin: Session;
  runId: string;
  count: number;
  concurrency: number;
  warmup: number;
  cpuSnapshot?: () => CpuSnapshot;
};

/**
 * Like the raw ceiling, the median of `repetitions` runs (seconds-long runs swing with whatever
 * else the machine does); only the first warms up.
 */
export async function measurePipeline(opts: PipelineOptions & { repetitions: number }): Promise<PipelineResult> {
  const runs: PipelineResult[] = [];
  for (let i = 0; i < opts.repetitions; i++) {
    const run = await measureOnce({ ...opts, warmup: i === 0 ? opts.warmup : 0 }, `pipe${i}`);
    runs.push(run);
    // A run that lost or repeated a delivery is the result: it must not hide behind a median.
    if (!run.allDelivered) return { ...run, repetitions: runs.map((r) => Math.round(r.perSecond)) };
  }
  const sorted = [...runs].sort((a, b) => a.perSecond - b.perSecond);
  const median = sorted[Math.floor(sorted.length / 2)] as PipelineResult;
  return { ...median, warmup: opts.warmup, repetitions: runs.map((r) => Math.round(r.perSecond)) };
}

async function measureOnce(opts: PipelineOptions, phase: string): Promise<PipelineResult> {
  const { sender, admin, runId, count, concurrency } = opts;
  const warm = new DeliveryTracker(runId, 'warm', opts.warmup);
  const measured = new DeliveryTracker(runId, phase, count);
  const socket = openSocket(opts.wsUrl, admin.accessToken, {
    onNotification: (n, at) => {
      warm.onNotification(n, at);
      measured.onNotification(n, at);
    },
  });
  try {
    await socket.ready;
    // Warm-up: JIT, connection pools and the broker channels, not counted.
    if (opts.warmup > 0) {
      await runBounded(opts.warmup, concurrency, async (i) => void (await send(sender, admin.userId, title(runId, 'warm', i))));
      if (!(await warm.waitComplete(30_000))) throw new Error(`warm-up: ${warm.received}/${opts.warmup} delivered`);
    }

    let accepted = 0;
    let lastAccepted = 0;
    const cpuBefore = opts.cpuSnapshot?.();
    const start = nowMs();
    await runBounded(count, concurrency, async (i) => {
      const status = await send(sender, admin.userId, title(runId, phase, i));
      if (status === 202) accepted += 1;
      lastAccepted = nowMs();
    });
    // Everything accepted must arrive; allow generous time, then report what did.
    await measured.waitComplete(Math.max(30_000, count * 5));
    const end = measured.complete ? measured.lastAt : nowMs();
    const cpuAfter = opts.cpuSnapshot?.();
    return {
      sent: count,
      accepted,
      delivered: measured.received,
      duplicates: measured.duplicates,
      outOfOrder: measured.outOfOrder,
      allDelivered: measured.complete && accepted === count && measured.duplicates === 0,
      perSecond: measured.received / ((end - start) / 1000),
      acceptedPerSecond: accepted / ((lastAccepted - start) / 1000),
      seconds: (end - start) / 1000,
      concurrency,
      warmup: opts.warmup,
      cpuMsPerNotification: cpuBefore && cpuAfter ? cpuMsPer(cpuBefore, cpuAfter, measured.received) : undefined,
    };
  } finally {
    await socket.close();
  }
}
