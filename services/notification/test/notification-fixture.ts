/**
 * The notification service alone, in-process on port 0, against the real RabbitMQ and
 * PostgreSQL, with a database and broker namespace of its own (the auth service is not needed:
 * it is asked for keys only when a token is verified). Comes with a Publisher to send it
 * messages, a raw channel to count dead letters, and captured logs. `stop()` drops it all.
 */
import { randomUUID } from 'node:crypto';
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import type { z } from 'zod';
import { emailRequestedSchema, type EmailRequestedInput } from '@warren/shared/contracts/email';
import { ROUTING_KEYS, topology, type Topology } from '@warren/shared/contracts/topology';
import { Broker } from '@warren/shared/messaging/broker';
import { Publisher } from '@warren/shared/messaging/publisher';
import { routeResources } from '@warren/shared/messaging/topology';
import { deleteNamespace, dropDatabase, isolatedEnv, RABBITMQ_URL } from '../../../test/support/env.js';
import { captureLogs, type CapturedLogs } from '../../../test/support/logs.js';
import { loadNotificationConfig } from '../src/config.js';
import { createNotificationService, type NotificationService } from '../src/service.js';

export interface NotificationFixture {
  service: NotificationService;
  logs: CapturedLogs;
  t: Topology;
  /** Publishes an email.requested (validated unless another schema is given); returns its message id. */
  publishEmail(payload: unknown, opts?: { messageId?: string; schema?: z.ZodType }): Promise<string>;
  deadLetterCount(): Promise<number>;
  /** Log lines with this message and, if given, this messageId. */
  linesOf(message: string, messageId?: string): Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startNotification(overrides: Record<string, string> = {}): Promise<NotificationFixture> {
  const env: Record<string, string> = {
    ...isolatedEnv(),
    ...overrides,
  };
  const ns = env.BROKER_NAMESPACE as string;
  const t = topology(ns);
  const logs = captureLogs('notification');
  const service = createNotificationService(loadNotificationConfig(env), { logger: logs.logger });
  await service.start();

  const publisherLogs = captureLogs('publisher');
  const broker = new Broker({ url: RABBITMQ_URL, connectionName: `${ns}:test-publisher`, logger: publisherLogs.logger });
  const publisher = new Publisher({ broker, logger: publisherLogs.logger, declares: routeResources(t.events.emailRequested) });
  const conn: ChannelModel = await amqplib.connect(RABBITMQ_URL);
  conn.on('error', () => undefined);
  const ch: Channel = await conn.createChannel();

  return {
    service,
    logs,
    t,
    publishEmail(payload, opts = {}) {
      return publisher.publish(t.exchanges.events.name, ROUTING_KEYS.emailRequested, opts.schema ?? emailRequestedSchema, payload as never, {
        messageId: opts.messageId ?? randomUUID(),
      });
    },
    async deadLetterCount() {
      return (await ch.checkQueue(t.queues.emailRequests.deadLetterQueue)).messageCount;
    },
    linesOf(message, messageId) {
      return logs.lines.filter((l) => l.message === message && (messageId === undefined || l.messageId === messageId));
    },
    async stop() {
      await service.stop().catch(() => undefined);
      await publisher.close().catch(() => undefined);
      await broker.close().catch(() => undefined);
      await conn.close().catch(() => undefined);
      await Promise.allSettled([dropDatabase(env.NOTIFICATION_DATABASE_URL as string), deleteNamespace(ns)]);
    },
  };
}

export function emailRequest(overrides: Partial<EmailRequestedInput> = {}): EmailRequestedInput {
  return {
    to: 'alice@example.test',
    template: 'verify_email',
    variables: { name: 'Alice', code: randomCode(), expiresInMinutes: 15 },
    requestedAt: new Date().toISOString(),
    ...overrides,
  };
}

/** A 6-digit code unlikely to occur anywhere else in a test's logs (ids, ports, timestamps). */
export function randomCode(): string {
  return String(100_000 + Math.floor(Math.random() * 900_000));
}
