/**
 * Queue depth as a gauge: every `everyMs` (15 s by default) a passive `checkQueue` of each queue
 * a service owns (its work queues and their dead-letter queues, its RPC request queue), on a
 * channel of its own. The cost is bounded by the period, not by scrapes: /metrics only reads
 * the last values. A queue the check cannot see (deleted by hand) loses its series until it
 * is back, rather than showing a stale number.
 */
import { Gauge } from 'prom-client';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Closers } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { startPeriodicJob } from '../periodic-job.js';
import type { Broker } from './broker.js';
import { consumedQueuesOf, type Resource } from './topology.js';

/** The queues of `resources` that `owner` consumes, retry lanes and dead-letter queues included: what its on-call person watches. */
export function ownedQueues(resources: readonly Resource[], owner: string): string[] {
  return resources.flatMap((r) => {
    if (r.kind === 'work-queue' && r.owner === owner) return [...consumedQueuesOf(r), r.deadLetterQueue];
    if (r.kind === 'request-queue' && r.owner === owner) return [r.name];
    return [];
  });
}

export interface QueueDepthOptions {
  broker: Broker;
  closers: Closers;
  logger: Logger;
  metrics: Metrics;
  queues: readonly string[];
  everyMs?: number;
}

export function startQueueDepthGauge(opts: QueueDepthOptions): void {
  const registers = [opts.metrics.registry];
  const messages = new Gauge({ name: 'amqp_queue_messages', help: 'Messages ready in the queue at the last check (every 15 s), by queue', labelNames: ['queue'] as const, registers });
  const consumers = new Gauge({ name: 'amqp_queue_consumers', help: 'Consumers of the queue at the last check, by queue', labelNames: ['queue'] as const, registers });
  const channel: ChannelWrapper = opts.closers.add(
    'queue depth channel',
    opts.broker.channel('queue-depth', { confirm: false, setup: async () => undefined }),
    (c) => c.close(),
  );
  startPeriodicJob(opts.closers, {
    name: 'queue depth check',
    everyMs: opts.everyMs ?? 15_000,
    firstRunInMs: 0,
    logger: opts.logger,
    run: async () => {
      // While the broker is away there is nothing to read: the last values stand (and /readyz says why).
      if (!opts.broker.isConnected()) return;
      // The channel opens just after the service starts: the first round waits for it.
      await channel.waitForConnect();
      for (const queue of opts.queues) {
        try {
          const q = await channel.checkQueue(queue);
          messages.set({ queue }, q.messageCount);
          consumers.set({ queue }, q.consumerCount);
        } catch (err) {
          messages.remove({ queue });
          consumers.remove({ queue });
          opts.logger.warn('queue depth check failed', { queue, err: (err as Error).message });
        }
      }
    },
  });
}
