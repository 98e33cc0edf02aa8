/**
 * The notification service's memory, read from its own /metrics (prom-client's default
 * process and Node.js metrics), so it works the same on a stack the benchmark started and on
 * one that was already running.
 */
import type { HttpClient } from './http-client.js';

export interface MemorySample {
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
}

function gauge(text: string, name: string): number {
  // Lines look like: process_resident_memory_bytes{service="notification",env="dev"} 123456
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  const value = line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
  if (!Number.isFinite(value)) throw new Error(`metric ${name} not found in /metrics`);
  return value;
}

export async function sampleMemory(http: HttpClient, notificationUrl: string): Promise<MemorySample> {
  const res = await http.get<string>(`${notificationUrl}/metrics`);
  if (res.status !== 200 || typeof res.body !== 'string') throw new Error(`GET /metrics answered ${res.status}`);
  return {
    rssBytes: gauge(res.body, 'process_resident_memory_bytes'),
    heapUsedBytes: gauge(res.body, 'nodejs_heap_size_used_bytes'),
    externalBytes: gauge(res.body, 'nodejs_external_memory_bytes'),
  };
}
