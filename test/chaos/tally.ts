/**
 * What became of a row's sends: for every accepted send (a 202), is it in each recipient's
 * inbox exactly once, and on each online recipient's socket exactly once, in id order? Waits
 * (polling, bounded) until every copy arrived, then counts. A copy missing after the wait is
 * lost; a copy there twice is duplicated; a socket frame whose id is not above every id before
 * it on that socket is out of order (a client resuming with ?after= would skip what it passed).
 */
import amqplib from 'amqplib';
import { topology } from '@warren/shared/contracts/topology';
import { retryQueuesOf } from '@warren/shared/messaging/topology';
import { sleep } from '../support/http.js';
import type { Send } from './send-load.js';
import type { SocketFollower } from './socket-followers.js';

export interface Recipient {
  userId: string;
  token: string;
  /** The user's socket, for the users online. */
  socket?: SocketFollower;
}

export interface Counts {
  /** Sends started. */
  sends: number;
  /** Sends answered 202 (after retries). */
  accepted: number;
  /** Sends answered something else than 202, 503 or 504 (given up: a defect). */
  refused: number;
  /** Sends still not accepted when the load stopped and its grace ran out. */
  neverAccepted: number;
  recipients: number;
  online: number;
  /** Inbox rows of the row's notifications, over all recipients; and what accepted × recipients makes. */
  stored: number;
  expectedStored: number;
  /** Socket frames of the row's notifications, over all online recipients; and accepted × online. */
  delivered: number;
  expectedDelivered: number;
  lost: { inbox: number; socket: number };
  duplicated: { inbox: number; socket: number };
  outOfOrder: number;
  /** The first few copies lost, for finding out why: the send's number and the recipient's index. */
  lostSamples: { where: 'inbox' | 'socket'; n: number; recipient: number; id?: string; acceptedAt?: string }[];
  /** Messages in the notification service's dead-letter queues at the end. */
  deadLettered: number;
  /** Notification requests still waiting in their delay queues at the end (a retried copy of one stored already, if any). */
  waitingRetries: number;
}

interface InboxItem {
  id: string;
  data: { row?: string; n?: number };
}

export async function readInbox(notificationUrl: string, token: string, row: string): Promise<InboxItem[]> {
  const items: InboxItem[] = [];
  let before: string | undefined;
  for (;;) {
    const res = await fetch(`${notificationUrl}/inbox?limit=100${before ? `&before=${before}` : ''}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(15_000),
    });
    if (res.status !== 200) throw new Error(`GET /inbox answered ${res.status}: ${await res.text()}`);
    const page = (await res.json()) as { items: InboxItem[]; nextCursor: string | null };
    items.push(...page.items.filter((i) => i.data?.row === row));
    if (!page.nextCursor) return items;
    before = page.nextCursor;
  }
}

/** How many of `ns` are missing from `seen`, and how many entries of `seen` repeat one before them. */
function missingAndRepeated(expected: Set<number>, seen: number[]): { missing: number[]; repeated: number } {
  const counts = new Map<number, number>();
  for (const n of seen) counts.set(n, (counts.get(n) ?? 0) + 1);
  const missing = [...expected].filter((n) => !counts.has(n));
  let repeated = 0;
  for (const c of counts.values()) repeated += c - 1;
  return { missing, repeated };
}

export function outOfOrder(ids: string[]): number {
  let max = '';
  let count = 0;
  for (const id of ids) {
    if (id <= max) count += 1;
    else max = id;
  }
  return count;
}

/**
 * Waits up to `settleMs` until every accepted send is on every socket and in every inbox, then
 * counts. `notificationUrl` is any replica that is up.
 */
export async function tally(opts: {
  row: string;
  sends: Send[];
  recipients: Recipient[];
  notificationUrl: string;
  rabbitUrl: string;
  namespace: string;
  settleMs: number;
}): Promise<Counts> {
  const { row, sends, recipients } = opts;
  const accepted = new Set(sends.filter((s) => s.acceptedAt !== undefined).map((s) => s.n));
  const online = recipients.filter((r) => r.socket);
  const ofRow = (r: Recipient) => (r.socket?.frames ?? []).filter((f) => f.row === row);
  const hasAll = (ns: number[]) => {
    const got = new Set(ns);
    for (const n of accepted) if (!got.has(n)) return false;
    return true;
  };

  const deadline = Date.now() + opts.settleMs;
  while (Date.now() < deadline && !online.every((r) => hasAll(ofRow(r).map((f) => f.n)))) await sleep(200);
  let inboxes: InboxItem[][] = [];
  for (;;) {
    inboxes = await Promise.all(recipients.map((r) => readInbox(opts.notificationUrl, r.token, row).catch(() => [] as InboxItem[])));
    if (inboxes.every((items) => hasAll(items.map((i) => Number(i.data.n)))) || Date.now() > deadline) break;
    await sleep(500);
  }

  const counts: Counts = {
    sends: sends.length,
    accepted: accepted.size,
    refused: sends.filter((s) => s.refused).length,
    neverAccepted: sends.filter((s) => s.acceptedAt === undefined && !s.refused).length,
    recipients: recipients.length,
    online: online.length,
    stored: 0,
    expectedStored: accepted.size * recipients.length,
    delivered: 0,
    expectedDelivered: accepted.size * online.length,
    lost: { inbox: 0, socket: 0 },
    duplicated: { inbox: 0, socket: 0 },
    outOfOrder: 0,
    lostSamples: [],
    ...(await queuedAtEnd(opts.rabbitUrl, opts.namespace)),
  };
  const sample = (where: 'inbox' | 'socket', recipient: number, missing: number[]) => {
    for (const n of missing.slice(0, Math.max(0, 10 - counts.lostSamples.length))) {
      const send = sends.find((x) => x.n === n);
      counts.lostSamples.push({ where, n, recipient, id: send?.id, acceptedAt: send?.acceptedAt === undefined ? undefined : new Date(send.acceptedAt).toISOString() });
    }
  };
  inboxes.forEach((items, recipient) => {
    // Copies of sends that were never accepted (still retrying when the load stopped) are neither lost nor extra.
    const ns = items.map((i) => Number(i.data.n)).filter((n) => accepted.has(n));
    const { missing, repeated } = missingAndRepeated(accepted, ns);
    counts.stored += ns.length;
    counts.lost.inbox += missing.length;
    counts.duplicated.inbox += repeated;
    sample('inbox', recipient, missing);
  });
  recipients.forEach((r, recipient) => {
    if (!r.socket) return;
    const frames = ofRow(r);
    const ns = frames.map((f) => f.n).filter((n) => accepted.has(n));
    const { missing, repeated } = missingAndRepeated(accepted, ns);
    counts.delivered += ns.length;
    counts.lost.socket += missing.length;
    counts.duplicated.socket += repeated;
    counts.outOfOrder += outOfOrder(frames.map((f) => f.id));
    sample('socket', recipient, missing);
  });
  return counts;
}

async function queuedAtEnd(rabbitUrl: string, namespace: string): Promise<{ deadLettered: number; waitingRetries: number }> {
  const conn = await amqplib.connect(rabbitUrl);
  try {
    const ch = await conn.createChannel();
    const { notificationRequests, notificationUsers } = topology(namespace).queues;
    const depth = async (queues: string[]) => {
      let total = 0;
      for (const q of queues) total += (await ch.checkQueue(q)).messageCount;
      return total;
    };
    return {
      deadLettered: await depth([notificationRequests.deadLetterQueue, notificationUsers.deadLetterQueue]),
      waitingRetries: await depth(retryQueuesOf(notificationRequests)),
    };
  } finally {
    await conn.close();
  }
}
