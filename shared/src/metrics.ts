/**
 * Prometheus metrics. Each service instance gets its own registry (not prom-client's global
 * one), so several services, or replicas, can run in one process in tests.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export function createMetrics(service: string, env: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service, env });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    messagesPublished: new Counter({
      name: 'amqp_messages_published_total',
      help: 'Messages published and confirmed by the broker, by exchange and routing key',
      labelNames: ['exchange', 'routing_key'] as const,
      registers: [registry],
    }),
    messagesConsumed: new Counter({
      name: 'amqp_messages_consumed_total',
      help: 'Messages handled, by queue and outcome (ack, retry, dead_letter)',
      labelNames: ['queue', 'outcome'] as const,
      registers: [registry],
    }),
    messagesDeadLettered: new Counter({
      name: 'amqp_messages_dead_lettered_total',
      help: 'Messages sent to a dead-letter queue, by queue and reason',
      labelNames: ['queue', 'reason'] as const,
      registers: [registry],
    }),
    outboxDeadLettered: new Counter({
      name: 'outbox_messages_dead_lettered_total',
      help: 'Outbox rows that can never be published, moved to outbox_dead_letters, by routing key and reason (invalid, unknown_type)',
      labelNames: ['routing_key', 'reason'] as const,
      registers: [registry],
    }),
    rpcDuration: new Histogram({
      name: 'rpc_client_duration_seconds',
      help: 'RPC round trips by method and outcome',
      labelNames: ['method', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
