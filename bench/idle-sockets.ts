/**
 * Memory per idle authenticated socket: the notification service's resident set size before
 * and after `count` sockets are open, each authenticated (only sockets that received `ready`
 * count). Sockets are spread over the given users (one user may hold at most
 * WS_MAX_CONNECTIONS_PER_USER) and opened in chunks so the handshakes do not time out.
 * The service cannot be made to collect garbage from outside, so each side of the difference
 * is the median of three samples taken after the process has been left idle for a while.
 */
import type { Session } from './accounts.js';
import type { HttpClient } from './http-client.js';
import { sampleMemory, type MemorySample } from './service-memory.js';
import { openSocket, type BenchSocket } from './socket-client.js';
import { sleep } from './stats.js';

export interface IdleSocketsResult {
  requested: number;
  ready: number;
  refused: Record<string, number>;
  users: number;
  rssBeforeMB: number;
  rssAfterMB: number;
  kbPerSocket: number;
  heapKbPerSocket: number;
  openSeconds: number;
}

const CHUNK = 250;
const SETTLE_MS = 3000;

async function settledSample(http: HttpClient, url: string): Promise<MemorySample> {
  await sleep(SETTLE_MS);
  const samples: MemorySample[] = [];
  for (let i = 0; i < 3; i++) {
    samples.push(await sampleMemory(http, url));
    await sleep(1000);
  }
  const median = (k: keyof MemorySample) => (samples.map((s) => s[k]).sort((a, b) => a - b)[1] as number);
  return { rssBytes: median('rssBytes'), heapUsedBytes: median('heapUsedBytes'), externalBytes: median('externalBytes') };
}

async function openChunked(wsUrl: string, users: Session[], count: number, refused: Record<string, number>): Promise<BenchSocket[]> {
  const open: BenchSocket[] = [];
  for (let from = 0; from < count; from += CHUNK) {
    const chunk = Array.from({ length: Math.min(CHUNK, count - from) }, (_, k) => {
      const user = users[(from + k) % users.length] as Session;
      return openSocket(wsUrl, user.accessToken, { readyTimeoutMs: 30_000 });
    });
    const results = await Promise.allSettled(chunk.map((s) => s.ready));
    results.forEach((r, k) => {
      const s = chunk[k] as BenchSocket;
      if (r.status === 'fulfilled') open.push(s);
      else {
        const reason = (r.reason as Error).message.replace(/^closed before ready: /, '');
        refused[reason] = (refused[reason] ?? 0) + 1;
        s.ws.terminate();
      }
    });
  }
  return open;
}

async function closeAll(sockets: BenchSocket[]): Promise<void> {
  for (let from = 0; from < sockets.length; from += CHUNK) {
    await Promise.all(sockets.slice(from, from + CHUNK).map((s) => s.close(2000)));
  }
}

export async function measureIdleSockets(opts: { http: HttpClient; notificationUrl: string; wsUrl: string; users: Session[]; count: number }): Promise<IdleSocketsResult> {
  const { http, notificationUrl, wsUrl, users, count } = opts;
  // Warm-up: the handshake and authentication code paths run once before the baseline.
  await closeAll(await openChunked(wsUrl, users, Math.min(100, count), {}));
  const before = await settledSample(http, notificationUrl);

  const refused: Record<string, number> = {};
  const started = Date.now();
  const sockets = await openChunked(wsUrl, users, count, refused);
  const openSeconds = (Date.now() - started) / 1000;
  try {
    const after = await settledSample(http, notificationUrl);
    const n = Math.max(1, sockets.length);
    return {
      requested: count,
      ready: sockets.length,
      refused,
      users: users.length,
      rssBeforeMB: before.rssBytes / 2 ** 20,
      rssAfterMB: after.rssBytes / 2 ** 20,
      kbPerSocket: (after.rssBytes - before.rssBytes) / n / 1024,
      heapKbPerSocket: (after.heapUsedBytes - before.heapUsedBytes) / n / 1024,
      openSeconds,
    };
  } finally {
    await closeAll(sockets);
  }
}
