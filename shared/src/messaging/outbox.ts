/**
 * A service's transactional outbox, typed by its catalogue: the message types it carries, each
 * routing key with the contract schema its payload must satisfy. The contract is the only
 * definition of a message: `writeOutbox` builds every row by parsing through the schema (so a
 * producer that drifts from the contract fails its own transaction, loudly, instead of writing
 * a row no one can publish), and `checkOutboxMessage` is what the relay and a dead-letter
 * replay ask of a stored row before it goes out. Relay: outbox-relay.ts; dead letters:
 * outbox-dead-letters.ts.
 */
import type { z } from 'zod';
import type { Pool, PoolClient } from '../db/database.js';

/** Routing key → the schema of its payload (the producer's half of the contract). */
export type OutboxCatalogue = Record<string, z.ZodType>;

/**
 * What a stored row is worth publishing as: its validated body, or why it never can be
 * (`unknown_type`: no schema for its routing key; `invalid`: its payload fails the schema).
 */
export type OutboxCheck =
  | { ok: true; schema: z.ZodType; body: unknown }
  | { ok: false; reason: 'unknown_type' | 'invalid'; error: string };

/** The longest error text kept with a dead letter or logged (a schema's issues can be many). */
const MAX_ERROR_LENGTH = 500;

export function checkOutboxMessage(catalogue: OutboxCatalogue, routingKey: string, payload: unknown): OutboxCheck {
  // Own properties only: a row routed as `constructor` or `__proto__` names no schema.
  const schema = Object.hasOwn(catalogue, routingKey) ? catalogue[routingKey] : undefined;
  if (!schema) return { ok: false, reason: 'unknown_type', error: `no schema for routing key "${routingKey.slice(0, 100)}"` };
  const parsed = schema.safeParse(payload);
  if (parsed.success) return { ok: true, schema, body: parsed.data };
  return { ok: false, reason: 'invalid', error: describeIssues(parsed.error) };
}

/**
 * "path: message; …" per issue. Zod's messages name what was expected, never a value found,
 * so the error can be logged and kept without the payload's personal data.
 */
function describeIssues(error: z.ZodError): string {
  const text = error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`).join('; ');
  return text.slice(0, MAX_ERROR_LENGTH);
}

/**
 * Writes messages of one type to the outbox, each parsed through its contract schema first (a
 * payload that fails throws, and the caller's transaction rolls back with it). `db` is the
 * client of the transaction that makes the change the messages report. Returns the rows' ids,
 * ascending, in the order of `payloads` (the relay publishes in id order).
 */
export async function writeOutbox<C extends OutboxCatalogue, K extends keyof C & string>(
  db: Pool | PoolClient,
  catalogue: C,
  routingKey: K,
  payloads: readonly z.input<C[K]>[],
): Promise<number[]> {
  const schema = Object.hasOwn(catalogue, routingKey) ? catalogue[routingKey] : undefined;
  if (!schema) throw new Error(`no schema for outbox routing key "${routingKey}"`);
  if (payloads.length === 0) return [];
  const bodies = payloads.map((p) => JSON.stringify(schema.parse(p)));
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO outbox (routing_key, payload)
     SELECT $1, p FROM unnest($2::jsonb[]) WITH ORDINALITY AS m(p, n) ORDER BY n
     RETURNING id`,
    [routingKey, bodies],
  );
  return rows.map((r) => r.id).sort((a, b) => a - b);
}
