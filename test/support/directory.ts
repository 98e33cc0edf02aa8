/**
 * Users the notification service knows without registering them through auth: it stores a
 * notification only for user ids in its directory, which `user.upserted` events build. Tests
 * that address fresh random ids announce them here the way auth does (an event on the broker),
 * then wait until the directory holds them.
 */
import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import pg from 'pg';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { userUpsertedSchema } from '@warren/shared/contracts/users';
import { RABBITMQ_URL } from './env.js';

export async function announceUsers(env: Record<string, string>, userIds: string[], role: 'admin' | 'manager' | 'employee' = 'employee'): Promise<void> {
  // The stack's own broker (a private node or cluster's first node, when the test has one).
  const conn = await amqplib.connect(env.RABBITMQ_URL?.split(',')[0] ?? RABBITMQ_URL);
  try {
    const ch = await conn.createConfirmChannel();
    const exchange = topology(env.BROKER_NAMESPACE as string).exchanges.events.name;
    for (const userId of userIds) {
      const event = userUpsertedSchema.parse({ userId, role, version: 1, occurredAt: new Date().toISOString() });
      ch.publish(exchange, ROUTING_KEYS.userUpserted, Buffer.from(JSON.stringify(event)), {
        messageId: randomUUID(),
        contentType: 'application/json',
        persistent: true,
        type: ROUTING_KEYS.userUpserted,
      });
    }
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
  await waitUntilKnown(env, userIds);
}

/** Waits (10 s at most) until the notification service's directory holds every one of `userIds`. */
export async function waitUntilKnown(env: Record<string, string>, userIds: string[]): Promise<void> {
  const db = new pg.Client({ connectionString: env.NOTIFICATION_DATABASE_URL });
  await db.connect();
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM directory_users WHERE user_id = ANY($1::uuid[])', [userIds]);
      if (rows[0]?.n === userIds.length) return;
      if (Date.now() > deadline) throw new Error(`the directory did not learn ${userIds.length - (rows[0]?.n ?? 0)} of ${userIds.length} users in 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await db.end();
  }
}

/** A fresh random user id, announced to the directory. */
export async function knownUser(env: Record<string, string>): Promise<string> {
  const id = randomUUID();
  await announceUsers(env, [id]);
  return id;
}

/** Waits (10 s at most) until the notification service's directory holds at least `count` users. */
export async function waitForDirectory(env: Record<string, string>, count: number): Promise<void> {
  const db = new pg.Client({ connectionString: env.NOTIFICATION_DATABASE_URL });
  await db.connect();
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM directory_users');
      if ((rows[0]?.n ?? 0) >= count) return;
      if (Date.now() > deadline) throw new Error(`the directory did not hold ${count} users within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await db.end();
  }
}
