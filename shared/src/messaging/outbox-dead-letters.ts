/**
 * The way back for outbox rows the relay could never publish (outbox-relay.ts moves them to
 * `outbox_dead_letters` with why): list them, replay them into the outbox once the cause is
 * fixed, or discard one that never will be. Payloads are shown only when asked: they may hold
 * personal data.
 *
 * A replay checks each row against the contract first (outbox.ts): one that would fail again is
 * kept, with why, rather than sent round in a loop. Typical causes it fixes: a replica of an
 * older version that did not know a newer message type (or value) dead-lettered it during a
 * rolling deploy; an operator corrected a payload in SQL. A replayed row goes back to the
 * outbox with its message id (consumers dedupe by it), behind the rows already there.
 */
import { inTransaction, type Pool } from '../db/database.js';
import { checkOutboxMessage, type OutboxCatalogue } from './outbox.js';

export interface OutboxDeadLetter {
  /** The id it had in the outbox. */
  outboxId: number;
  messageId: string;
  routingKey: string;
  error: string;
  /** When the change it reports was written. */
  createdAt: Date;
  deadLetteredAt: Date;
  /** Its payload's size as JSON text. */
  bytes: number;
  /** Only when asked for. */
  payload?: unknown;
}

export interface OutboxDeadLetterListing {
  total: number;
  items: OutboxDeadLetter[];
}

/** Which dead letters: at most `limit`, oldest first, or only the one with `messageId`. */
export interface Selection {
  limit?: number | undefined;
  messageId?: string | undefined;
}

export interface OutboxReplayResult {
  /** Back in the outbox, with the id each has there now. */
  replayed: (OutboxDeadLetter & { newOutboxId: number })[];
  /** Left in place: they would fail again. */
  kept: (OutboxDeadLetter & { why: string })[];
}

interface Row {
  outboxId: number;
  messageId: string;
  routingKey: string;
  payload: unknown;
  error: string;
  createdAt: Date;
  deadLetteredAt: Date;
  bytes: number;
}

const COLUMNS = `outbox_id AS "outboxId", message_id AS "messageId", routing_key AS "routingKey", payload, error,
  created_at AS "createdAt", dead_lettered_at AS "deadLetteredAt", octet_length(payload::text) AS bytes`;
const SELECTED = `($1::uuid IS NULL OR message_id = $1) ORDER BY outbox_id LIMIT $2`;
const params = (s: Selection) => [s.messageId ?? null, s.limit ?? null];

function item({ payload, ...row }: Row, withPayload: boolean): OutboxDeadLetter {
  return withPayload ? { ...row, payload } : row;
}

export async function listOutboxDeadLetters(pool: Pool, opts: Selection & { withPayloads?: boolean }): Promise<OutboxDeadLetterListing> {
  const { rows } = await pool.query<Row>(`SELECT ${COLUMNS} FROM outbox_dead_letters WHERE ${SELECTED}`, params(opts));
  const { rows: count } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_dead_letters');
  return { total: count[0]?.n ?? 0, items: rows.map((r) => item(r, opts.withPayloads ?? false)) };
}

/**
 * Moves the selected dead letters that now pass their schema back to the outbox, in one
 * transaction (oldest first, so a user's replayed changes keep their order among themselves).
 * Rows another replay is moving at the same moment are skipped, not replayed twice.
 */
export async function replayOutboxDeadLetters(pool: Pool, catalogue: OutboxCatalogue, opts: Selection): Promise<OutboxReplayResult> {
  return inTransaction(pool, async (tx) => {
    const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM outbox_dead_letters WHERE ${SELECTED} FOR UPDATE SKIP LOCKED`, params(opts));
    const result: OutboxReplayResult = { replayed: [], kept: [] };
    for (const row of rows) {
      const check = checkOutboxMessage(catalogue, row.routingKey, row.payload);
      if (!check.ok) {
        result.kept.push({ ...item(row, false), why: check.error });
        continue;
      }
      const { rows: inserted } = await tx.query<{ id: number }>(
        `WITH replayed AS (DELETE FROM outbox_dead_letters WHERE outbox_id = $1 RETURNING message_id, routing_key, payload)
         INSERT INTO outbox (message_id, routing_key, payload) SELECT message_id, routing_key, payload FROM replayed
         RETURNING id`,
        [row.outboxId],
      );
      result.replayed.push({ ...item(row, false), newOutboxId: inserted[0]?.id as number });
    }
    return result;
  });
}

/** Deletes the dead letters with `messageId` for good (none, if there is no such dead letter); what was deleted. */
export async function discardOutboxDeadLetter(pool: Pool, messageId: string): Promise<OutboxDeadLetter[]> {
  const { rows } = await pool.query<Row>(
    `DELETE FROM outbox_dead_letters WHERE message_id = $1 RETURNING ${COLUMNS}`,
    [messageId],
  );
  return rows.map((r) => item(r, false));
}
