/**
 * Test isolation: every test run gets its own databases and its own broker namespace, so
 * runs (and parallel test files) never see each other's data or messages. Cleanup drops both.
 */
import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import pg from 'pg';
import { databaseName, maintenanceUrl } from '@warren/shared/db/database';
import { namespaceResources } from '@warren/shared/contracts/topology';

export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const PG_SERVER = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

export function uniqueNamespace(suffix = uniqueSuffix()): string {
  return `warren.test-${suffix}`;
}

export function testDatabaseUrl(service: string, suffix = uniqueSuffix()): string {
  return `${PG_SERVER}/warren_test_${suffix}_${service.replace('-', '_')}`;
}

/** The variables of a whole isolated stack: own namespace, own databases, any free ports. */
export function isolatedEnv(suffix = uniqueSuffix()): Record<string, string> {
  return {
    APP_ENV: 'dev',
    NODE_ENV: 'test',
    LOG_LEVEL: 'debug',
    RABBITMQ_URL,
    BROKER_NAMESPACE: uniqueNamespace(suffix),
    AUTH_DATABASE_URL: testDatabaseUrl('auth', suffix),
    MAIN_DATABASE_URL: testDatabaseUrl('main', suffix),
    NOTIFICATION_DATABASE_URL: testDatabaseUrl('notification', suffix),
    AUTH_PORT: '0',
    MAIN_BACKEND_PORT: '0',
    NOTIFICATION_PORT: '0',
    HTTP_HOST: '127.0.0.1',
  };
}

export async function dropDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: maintenanceUrl(url) });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${databaseName(url)}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Deletes every queue and exchange of a namespace's system map (shared/src/contracts/topology.ts). */
export async function deleteNamespace(namespace: string, extraQueues: string[] = []): Promise<void> {
  const conn = await amqplib.connect(RABBITMQ_URL);
  try {
    const ch = await conn.createChannel();
    const { queues, exchanges } = namespaceResources(namespace);
    for (const q of [...queues, ...extraQueues]) await ch.deleteQueue(q);
    for (const x of exchanges) await ch.deleteExchange(x);
    await ch.close();
  } finally {
    await conn.close();
  }
}
