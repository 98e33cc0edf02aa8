/**
 * Pipeline throughput: HTTP send → main-backend → RabbitMQ → notification service (batched
 * store) → WebSocket, end to end. One socket of the recipient is open; `count` notifications go
 * out, one per POST /notifications or, with `perRequest` > 1, that many per POST
 * /notifications/batch, with at most `concurrency` requests in flight over keep-alive
 * connections. The rate is `count` / (first send → the socket received the last of them), and
 * every delivery must be made: each index received once, none missing.
 */
import type { Session } from './accounts.js';
import { cpuMsPer, type CpuSnapshot } from './cpu-accounting.js';
import { DeliveryTracker } from './delivery-tracker.js';
import { send, sendBatch, title } from './notifications.js';
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
  /** Requests in flight. */
  concurrency: number;
  /** Notifications per request (1: POST /notifications; more: POST /notifications/batch). */
  perRequest: number;
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
  /** Notifications per request (default 1). */
  perRequest?: number;
  /** Titles name this phase (default `pipe`): each phase's deliveries are told apart. */
  phasePrefix?: string;
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
    const run = await measureOnce({ ...opts, warmup: i === 0 ? opts.warmup : 0 }, `${opts.phasePrefix ?? 'pipe'}${i}`);
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
  const perRequest = opts.perRequest ?? 1;
  /** Sends notifications first..first+n-1 of `name` in one request; resolves with how many were accepted. */
  const sendRange = async (name: string, first: number, n: number): Promise<number> => {
    const titles = Array.from({ length: n }, (_, k) => title(runId, name, first + k));
    const status = perRequest === 1 ? await send(sender, admin.userId, titles[0] as string) : await sendBatch(sender, admin.userId, titles);
    return status === 202 ? n : 0;
  };
  const requestsFor = (n: number) => Math.ceil(n / perRequest);
  const sizeOf = (r: number, n: number) => Math.min(perRequest, n - r * perRequest);
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
      await runBounded(requestsFor(opts.warmup), concurrency, async (r) => void (await sendRange('warm', r * perRequest, sizeOf(r, opts.warmup))));
      if (!(await warm.waitComplete(30_000))) throw new Error(`warm-up: ${warm.received}/${opts.warmup} delivered`);
    }

    let accepted = 0;
    let lastAccepted = 0;
    const cpuBefore = opts.cpuSnapshot?.();
    const start = nowMs();
    await runBounded(requestsFor(count), concurrency, async (r) => {
      // Awaited first: `accepted += await …` would read `accepted` before the await and lose the other workers' counts.
      const n = await sendRange(phase, r * perRequest, sizeOf(r, count));
      accepted += n;
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
      perRequest,
      warmup: opts.warmup,
      cpuMsPerNotification: cpuBefore && cpuAfter ? cpuMsPer(cpuBefore, cpuAfter, measured.received) : undefined,
    };
  } finally {
    await socket.close();
  }
}
