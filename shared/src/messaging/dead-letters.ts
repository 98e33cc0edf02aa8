/**
 * Inspecting and replaying a dead-letter queue, the way back for messages that a consumer gave
 * up on (an outage that outlasted the retries, a bug fixed since). Replaying is safe because every
 * consumer is idempotent by message id: a message that was in fact handled changes nothing twice.
 *
 * - `listDeadLetters` looks without taking: it fetches messages unacknowledged and hands them all
 *   back when it is done (the broker counts that as a delivery of the dead letter; dead-letter
 *   queues have no delivery limit). It shows where each message came from and why it died, never
 *   the body unless asked: bodies may hold one-time codes or personal data.
 * - `replayDeadLetters` publishes each message again, unchanged (same message id, properties and
 *   body, minus the broker's death bookkeeping so the consumer counts its attempts afresh), to
 *   the exchange and routing key it was dead-lettered from, and acknowledges the dead letter only
 *   after the broker confirmed the new copy. A crash in between leaves both; replaying the
 *   leftover again is harmless. It takes at most the messages that were waiting when it started,
 *   so a message that dies again at once is not replayed in a loop.
 */
import type { ChannelModel, ConfirmChannel, GetMessage, MessageProperties, Options } from 'amqplib';
import { ATTEMPTS_HEADER, FAILURES_HEADER, ROUTING_KEY_HEADER } from './envelope.js';

/**
 * Headers a replay starts without: the broker's death and delivery bookkeeping, and the
 * consumer's retry counts (a replayed message gets its full number of attempts again).
 */
const RESET_HEADERS = [
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
  'x-delivery-count',
  ATTEMPTS_HEADER,
  FAILURES_HEADER,
  'x-warren-retry-id',
];
/** How many times a message was replayed from a dead-letter queue (for whoever reads it next). */
export const REPLAYS_HEADER = 'x-warren-replays';

export interface DeadLetter {
  messageId: string | undefined;
  /**
   * Where it is replayed to: the exchange and routing key it had when it entered its work queue
   * (for a copy back from a delay queue: the default exchange and the work queue's name), or the
   * work queue itself when no death record names it.
   */
  exchange: string | undefined;
  routingKey: string | undefined;
  /** The routing key it was first published with (`notification.requested`, ...). */
  publishedAs: string | undefined;
  /** The work queue it died in. */
  queue: string | undefined;
  /**
   * The broker's reason: `rejected` (the consumer gave up on it: its log line "message
   * dead-lettered" with this message id says why), `delivery_limit`, `expired`.
   */
  reason: string | undefined;
  /** The consumer's attempt it died at: 1 means at once (invalid, permanent), more means after retries. */
  attempts: number;
  /** How many times the broker dead-lettered it from that queue (its x-death count). */
  deaths: number;
  deadLetteredAt: Date | undefined;
  /** Earlier replays of this message. */
  replays: number;
  requestId: string | undefined;
  bytes: number;
  /** Only when asked for. */
  body?: string;
}

export interface DeadLetterListing {
  /** Messages waiting in the queue (listed or not). */
  total: number;
  items: DeadLetter[];
}

export interface ReplayResult {
  replayed: DeadLetter[];
  /** Left in the queue: no known origin, unroutable, or not confirmed (with why). */
  kept: (DeadLetter & { why: string })[];
}

interface DeathRecord {
  queue?: unknown;
  reason?: unknown;
  exchange?: unknown;
  'routing-keys'?: unknown;
  count?: unknown;
  time?: unknown;
}

/** Lists up to `limit` dead letters of `deadLetterQueue`, leaving them all in place. */
export async function listDeadLetters(
  conn: ChannelModel,
  deadLetterQueue: string,
  opts: { limit?: number; withBodies?: boolean } = {},
): Promise<DeadLetterListing> {
  const limit = opts.limit ?? 100;
  const ch = await conn.createChannel();
  try {
    const { messageCount } = await ch.checkQueue(deadLetterQueue);
    const items: DeadLetter[] = [];
    // Held unacknowledged, each get returns the next message; closing the channel hands them back.
    while (items.length < Math.min(limit, messageCount)) {
      const msg = await ch.get(deadLetterQueue, { noAck: false });
      if (!msg) break;
      items.push(describe(msg, deadLetterQueue, opts.withBodies ?? false));
    }
    return { total: messageCount, items };
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/**
 * Replays up to `limit` dead letters of `deadLetterQueue` (only the one with `messageId` if
 * given) to where they came from; each is acknowledged after the broker confirmed its copy.
 */
export async function replayDeadLetters(
  conn: ChannelModel,
  deadLetterQueue: string,
  opts: { limit?: number; messageId?: string } = {},
): Promise<ReplayResult> {
  const ch = await conn.createConfirmChannel();
  const returned = new Set<string>();
  ch.on('return', (msg: GetMessage) => returned.add(String(msg.properties.messageId)));
  const result: ReplayResult = { replayed: [], kept: [] };
  try {
    // Only what was waiting at the start: whatever dies again meanwhile stays for the next run.
    const { messageCount } = await ch.checkQueue(deadLetterQueue);
    const limit = Math.min(opts.limit ?? Number.POSITIVE_INFINITY, messageCount);
    for (let seen = 0; seen < messageCount && result.replayed.length < limit; seen++) {
      const msg = await ch.get(deadLetterQueue, { noAck: false });
      if (!msg) break;
      const letter = describe(msg, deadLetterQueue, false);
      // Not the one asked for: held unacknowledged until the channel closes, which puts it back.
      if (opts.messageId !== undefined && letter.messageId !== opts.messageId) continue;
      if (letter.exchange === undefined || letter.routingKey === undefined) {
        result.kept.push({ ...letter, why: 'origin unknown: no x-death record, and the queue is not named <work queue>.dlq' });
        continue;
      }
      const why = await republish(ch, returned, msg, letter);
      if (why) {
        result.kept.push({ ...letter, why });
        continue;
      }
      ch.ack(msg);
      result.replayed.push(letter);
    }
    // The acks above reach the broker before the close below (one channel, frames in order).
    return result;
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/** Publishes a copy to the letter's origin; undefined once confirmed, else why not. */
async function republish(ch: ConfirmChannel, returned: Set<string>, msg: GetMessage, letter: DeadLetter): Promise<string | undefined> {
  const p = msg.properties;
  const headers: Record<string, unknown> = { ...(p.headers ?? {}) };
  for (const h of RESET_HEADERS) delete headers[h];
  headers[REPLAYS_HEADER] = letter.replays + 1;
  const props: Options.Publish = { ...publishProperties(p), headers, mandatory: true };
  // An id to recognise a basic.return by; Warren's messages always carry one.
  const key = String(p.messageId);
  returned.delete(key);
  try {
    await new Promise<void>((resolve, reject) => {
      ch.publish(letter.exchange as string, letter.routingKey as string, msg.content, props, (err) => (err ? reject(err) : resolve()));
    });
  } catch (err) {
    return `the broker did not confirm the copy: ${(err as Error).message}`;
  }
  // basic.return precedes the confirm of an unroutable mandatory message.
  if (returned.delete(key)) return `unroutable: no queue is bound to ${letter.exchange} / ${letter.routingKey}`;
  return undefined;
}

/** The message's own properties, as they were published. */
function publishProperties(p: MessageProperties): Options.Publish {
  const out: Options.Publish = {};
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.contentEncoding !== undefined) out.contentEncoding = p.contentEncoding;
  if (p.deliveryMode !== undefined) out.deliveryMode = p.deliveryMode;
  if (p.priority !== undefined) out.priority = p.priority;
  if (p.correlationId !== undefined) out.correlationId = p.correlationId;
  if (p.messageId !== undefined) out.messageId = p.messageId;
  if (p.timestamp !== undefined) out.timestamp = p.timestamp;
  if (p.type !== undefined) out.type = p.type;
  if (p.appId !== undefined) out.appId = p.appId;
  // `expiration` is not copied: a message that expired once would only expire again.
  return out;
}

function describe(msg: GetMessage, deadLetterQueue: string, withBody: boolean): DeadLetter {
  const headers = msg.properties.headers ?? {};
  const workQueue = deadLetterQueue.endsWith('.dlq') ? deadLetterQueue.slice(0, -'.dlq'.length) : undefined;
  const deaths = Array.isArray(headers['x-death']) ? (headers['x-death'] as DeathRecord[]) : [];
  // The record of its work queue (newest first): how it entered that queue is where it goes back.
  const death = deaths.find((d) => String(d.queue) === workQueue) ?? deaths[0];
  const routingKeys = Array.isArray(death?.['routing-keys']) ? (death['routing-keys'] as unknown[]) : [];
  // Without a usable record, straight back into the work queue (the default exchange routes by queue name).
  const origin =
    death && typeof death.exchange === 'string' && routingKeys.length > 0
      ? { exchange: death.exchange, routingKey: String(routingKeys[0]) }
      : workQueue !== undefined
        ? { exchange: '', routingKey: workQueue }
        : { exchange: undefined, routingKey: undefined };
  const requestId = headers['x-request-id'];
  const replays = Number(headers[REPLAYS_HEADER] ?? 0);
  const earlierAttempts = Number(headers[ATTEMPTS_HEADER] ?? 0);
  return {
    messageId: msg.properties.messageId === undefined ? undefined : String(msg.properties.messageId),
    ...origin,
    publishedAs: stringOr(headers[ROUTING_KEY_HEADER]) ?? stringOr(msg.properties.type) ?? origin.routingKey,
    queue: death ? String(death.queue) : workQueue,
    reason: death ? String(death.reason) : undefined,
    attempts: (Number.isInteger(earlierAttempts) && earlierAttempts > 0 ? earlierAttempts : 0) + 1,
    deaths: death ? Number(death.count ?? 1) : 0,
    deadLetteredAt: deathTime(death?.time),
    replays: Number.isFinite(replays) ? replays : 0,
    requestId: stringOr(requestId),
    bytes: msg.content.length,
    ...(withBody ? { body: msg.content.toString('utf8') } : {}),
  };
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** amqplib decodes an AMQP timestamp as `{'!': 'timestamp', value: seconds}`. */
function deathTime(value: unknown): Date | undefined {
  if (value instanceof Date) return value;
  if (value && typeof value === 'object' && 'value' in value) return new Date(Number((value as { value: unknown }).value) * 1000);
  if (typeof value === 'number') return new Date(value * 1000);
  return undefined;
}
