/**
 * Fixture for the messaging integration tests: a fresh namespace with its whole system map declared,
 * a raw amqplib channel to inspect queues, and factories for Brokers, Publishers, Consumers,
 * RPC servers and clients. Everything a fixture creates is registered for cleanup; the test
 * file runs `runCleanups` in afterEach/after, which also deletes the namespace.
 */
import { randomUUID } from 'node:crypto';
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import type { z } from 'zod';
import { notificationRequestedSchema, type NotificationRequestedInput } from '@warren/shared/contracts/notifications';
import { allResources, topology, type Topology } from '@warren/shared/contracts/topology';
import type { Logger } from '@warren/shared/logger';
import { Broker } from '@warren/shared/messaging/broker';
import { Consumer, type MessageMeta } from '@warren/shared/messaging/consumer';
import { Publisher } from '@warren/shared/messaging/publisher';
import { RpcClient } from '@warren/shared/messaging/rpc-client';
import { RpcServer, type RpcRoute } from '@warren/shared/messaging/rpc-server';
import { declareTopology, routeResources } from '@warren/shared/messaging/topology';
import { createMetrics, type Metrics } from '@warren/shared/metrics';
import { deleteNamespace, RABBITMQ_URL, uniqueNamespace } from '../../test/support/env.js';
import { captureLogs, type CapturedLogs } from '../../test/support/logs.js';
import { within } from './helpers.js';

export type Cleanup = () => Promise<unknown>;
export const cleanups: Cleanup[] = [];

export async function runCleanups() {
  while (cleanups.length > 0) {
    const fn = cleanups.pop() as Cleanup;
    await fn().catch((err: unknown) => console.error('cleanup failed:', (err as Error).message));
  }
}

export interface Fixture {
  ns: string;
  t: Topology;
  queue: string;
  dlq: string;
  logs: CapturedLogs;
  metrics: Metrics;
  /** Raw amqplib channel, for inspecting queues and publishing raw bytes. */
  ch: Channel;
  broker(name: string, logger?: Logger): Broker;
  publisher(broker: Broker): Publisher;
  consumer(
    broker: Broker,
    handler: (payload: z.output<typeof notificationRequestedSchema>, meta: MessageMeta) => Promise<void>,
    opts?: { maxAttempts?: number; prefetch?: number; concurrency?: number; logger?: Logger },
  ): Promise<Consumer<typeof notificationRequestedSchema>>;
  rpcServer(broker: Broker, routes: RpcRoute[], logger?: Logger): Promise<RpcServer>;
  rpcClient(broker: Broker, timeoutMs: number): Promise<RpcClient>;
  messageCount(queue: string): Promise<number>;
}

export async function fixture(): Promise<Fixture> {
  const ns = uniqueNamespace();
  const t = topology(ns);
  const queue = t.queues.notificationRequests.name;
  const logs = captureLogs('messaging-test');
  const metrics = createMetrics('messaging-test', 'test');

  cleanups.push(() => deleteNamespace(ns));
  const conn: ChannelModel = await amqplib.connect(RABBITMQ_URL);
  conn.on('error', () => undefined);
  cleanups.push(() => conn.close());
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  await declareTopology(ch, allResources(t));

  return {
    ns,
    t,
    queue,
    dlq: t.queues.notificationRequests.deadLetterQueue,
    logs,
    metrics,
    ch,
    broker(name, logger = logs.logger) {
      const broker = new Broker({ url: RABBITMQ_URL, connectionName: `${ns}:${name}`, logger });
      cleanups.push(() => broker.close());
      return broker;
    },
    publisher(broker) {
      const publisher = new Publisher({ broker, logger: logs.logger, metrics, declares: routeResources(t.events.notificationRequested) });
      cleanups.push(() => publisher.close());
      return publisher;
    },
    async consumer(broker, handler, opts = {}) {
      const consumer = new Consumer({
        broker,
        logger: opts.logger ?? logs.logger,
        metrics,
        name: 'test',
        queue: t.queues.notificationRequests,
        schema: notificationRequestedSchema,
        prefetch: opts.prefetch ?? 1,
        maxAttempts: opts.maxAttempts,
        concurrency: opts.concurrency,
        handler,
      });
      cleanups.push(() => consumer.stop(2000));
      await within(consumer.waitReady(), 5000, 'consumer ready');
      return consumer;
    },
    async rpcServer(broker, routes, logger = logs.logger) {
      const server = new RpcServer({ broker, queue: t.queues.authRpc, routes, logger, metrics });
      cleanups.push(() => server.stop(2000));
      await within(server.waitReady(), 5000, 'rpc server ready');
      return server;
    },
    async rpcClient(broker, timeoutMs) {
      const client = new RpcClient({ broker, exchange: t.exchanges.rpc, timeoutMs, logger: logs.logger, metrics });
      cleanups.push(() => client.close());
      await within(client.waitReady(), 5000, 'rpc client ready');
      return client;
    },
    async messageCount(q) {
      return (await ch.checkQueue(q)).messageCount;
    },
  };
}

export function notification(overrides: Partial<NotificationRequestedInput> = {}): NotificationRequestedInput {
  return {
    notificationId: randomUUID(),
    title: 'Hello',
    body: 'A test notification',
    recipients: { roles: ['employee'] },
    requestedAt: new Date().toISOString(),
    ...overrides,
  };
}

export async function counterValue(metrics: Metrics, name: 'messagesDeadLettered' | 'messagesPublished', labels: Record<string, string>) {
  const { values } = await metrics[name].get();
  const match = values.find((v) =>
    Object.entries(labels).every(([k, val]) => (v.labels as Record<string, string | number | undefined>)[k] === val),
  );
  return match?.value ?? 0;
}

/** How many messages of `queue` the consumer counted with this outcome (ack, retry, dead_letter, ...). */
export async function outcomeCount(metrics: Metrics, queue: string, outcome: string) {
  const { values } = await metrics.messagesConsumed.get();
  return values.find((v) => v.labels.queue === queue && v.labels.outcome === outcome)?.value ?? 0;
}

/** All messages currently in `queue`, taken off it (noAck). */
export async function drain(ch: Channel, queue: string) {
  const out: amqplib.GetMessage[] = [];
  for (;;) {
    const msg = await ch.get(queue, { noAck: true });
    if (!msg) return out;
    out.push(msg);
  }
}
