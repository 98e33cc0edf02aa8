/**
 * What the on-call person reads about this replica's sockets (docs/operations.md, "On call"):
 * how many are open now, how they end (by close code), and how long a notification takes from
 * its send being stored to its frame being written to a socket. Registered on the service's own
 * registry, so /metrics of each replica shows its own sockets.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '@warren/shared/metrics';
import { CLOSE } from './close-codes.js';

/** Close codes worth a label of their own; any other a client may send counts as "other" (bounded cardinality). */
const KNOWN_CODES = new Set<number>([1000, 1005, 1006, ...Object.values(CLOSE)]);

export function closeCodeLabel(code: number): string {
  return KNOWN_CODES.has(code) ? String(code) : 'other';
}

export function createSocketMetrics(metrics: Metrics, openSockets: () => number) {
  const registers = [metrics.registry];
  return {
    open: new Gauge({
      name: 'ws_connections_open',
      help: 'Authenticated WebSocket connections this replica holds',
      registers,
      // Read at scrape time: nothing is counted on the connection path.
      collect() {
        this.set(openSockets());
      },
    }),
    opened: new Counter({
      name: 'ws_connections_opened_total',
      help: 'WebSocket connections authenticated and registered',
      registers,
    }),
    closed: new Counter({
      name: 'ws_connections_closed_total',
      help: 'WebSocket connections closed, authenticated or not, by close code (other: a code Warren does not use)',
      labelNames: ['code'] as const,
      registers,
    }),
    deliveryLatency: new Histogram({
      name: 'notification_delivery_seconds',
      help: 'From a notification being stored (its createdAt) to its live frame being written to a socket',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}
export type SocketMetrics = ReturnType<typeof createSocketMetrics>;
