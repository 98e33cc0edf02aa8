/** What /readyz says on each service while a fault lasts: what a load balancer would see. */
import { sleep } from '../support/http.js';
import type { RestartableService } from './restartable-service.js';

export async function readyzStatus(service: RestartableService): Promise<number> {
  const res = await fetch(`${service.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  return res?.status ?? 0;
}

/**
 * Polls every service's /readyz once a second for `ms`; per service, how long after the start
 * it first answered 503 (undefined if never) and the status it answered last.
 */
export async function watchReadiness(services: RestartableService[], ms: number): Promise<Record<string, { first503Ms?: number; last: number }>> {
  const started = Date.now();
  const seen: Record<string, { first503Ms?: number; last: number }> = Object.fromEntries(services.map((s) => [s.label, { last: 0 }]));
  while (Date.now() - started < ms) {
    const round = Date.now();
    const statuses = await Promise.all(services.map(readyzStatus));
    services.forEach((s, i) => {
      const entry = seen[s.label] as { first503Ms?: number; last: number };
      entry.last = statuses[i] as number;
      if (entry.last === 503 && entry.first503Ms === undefined) entry.first503Ms = round - started;
    });
    await sleep(Math.max(0, Math.min(1000 - (Date.now() - round), ms - (Date.now() - started))));
  }
  return seen;
}
