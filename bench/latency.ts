/**
 * Send-to-socket latency at a fixed rate: sends go out on a fixed schedule (open loop: a slow
 * answer does not delay the next send, so queueing shows up in the figures instead of being
 * hidden), each carrying its send time in `data.sentAt`; the socket subtracts it from the
 * arrival time. Both clocks are this process's monotonic clock.
 */
import type { Session } from './accounts.js';
import { DeliveryTracker } from './delivery-tracker.js';
import type { SendConnections } from './send-connections.js';
import { send, title } from './notifications.js';
import { openSocket } from './socket-client.js';
import { nowMs, percentile, sleep } from './stats.js';

export interface LatencyResult {
  ratePerSecond: number;
  sent: number;
  delivered: number;
  failedSends: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Send → 202 from main-backend (the HTTP + publish-with-confirm half of the latency). */
  acceptP50Ms: number;
  acceptP99Ms: number;
  /** The slowest sends to be answered: when (seconds into the phase) and how long (ms), to spot stalls. */
  slowestAccepts: { atSeconds: number; at: string; ms: number }[];
  /** Sends that left more than 5 ms after their slot (the client could not keep the rate). */
  lateSends: number;
}

export async function measureLatency(opts: { sender: SendConnections; wsUrl: string; admin: Session; runId: string; rate: number; seconds: number }): Promise<LatencyResult> {
  const { sender, admin, runId, rate } = opts;
  const count = Math.round(rate * opts.seconds);
  const tracker = new DeliveryTracker(runId, 'lat', count);
  const socket = openSocket(opts.wsUrl, admin.accessToken, { onNotification: tracker.onNotification });
  try {
    await socket.ready;
    let failedSends = 0;
    let lateSends = 0;
    const acceptMs: number[] = [];
    const accepts: { atSeconds: number; at: string; ms: number }[] = [];
    const inFlight = new Set<Promise<void>>();
    const start = nowMs() + 50;
    for (let i = 0; i < count; i++) {
      const slot = start + (i * 1000) / rate;
      // No busy-wait: on two cores a spinning client would steal CPU from the services.
      const wait = slot - nowMs();
      if (wait > 0) await sleep(wait);
      const sentAt = nowMs();
      if (sentAt - slot > 5) lateSends += 1;
      const p = send(sender, admin.userId, title(runId, 'lat', i), { sentAt }).then(
        (status) => {
          if (status === 202) {
            acceptMs.push(nowMs() - sentAt);
            accepts.push({ atSeconds: Math.round(sentAt - start) / 1000, at: new Date(sentAt).toISOString(), ms: Math.round(nowMs() - sentAt) });
          }
          else failedSends += 1;
        },
        () => void (failedSends += 1),
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await Promise.all(inFlight);
    await tracker.waitComplete(15_000);
    const sorted = [...tracker.latenciesMs].sort((a, b) => a - b);
    acceptMs.sort((a, b) => a - b);
    return {
      ratePerSecond: rate,
      sent: count,
      delivered: tracker.received,
      failedSends,
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? Number.NaN,
      acceptP50Ms: percentile(acceptMs, 50),
      acceptP99Ms: percentile(acceptMs, 99),
      slowestAccepts: accepts.sort((a, b) => b.ms - a.ms).slice(0, 5),
      lateSends,
    };
  } finally {
    await socket.close();
  }
}
