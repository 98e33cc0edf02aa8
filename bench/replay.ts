/**
 * Replay on reconnect: the recipient's socket is closed after it saw one marker notification;
 * `count` notifications are then sent and stored while no socket is open (the unread count
 * tells when all are stored). A socket then connects with `?after=<marker id>`: the figure is
 * the time from opening that socket to its `count`-th notification, and the frames must come
 * oldest first (ids strictly increasing), each once, none missing.
 */
import type { Session } from './accounts.js';
import { DeliveryTracker } from './delivery-tracker.js';
import type { HttpClient } from './http-client.js';
import type { SendConnections } from './send-connections.js';
import { send, title } from './notifications.js';
import { openSocket } from './socket-client.js';
import { nowMs, runBounded, waitUntil } from './stats.js';

export interface ReplayResult {
  missed: number;
  replayed: number;
  duplicates: number;
  outOfOrder: number;
  inOrderAndComplete: boolean;
  seconds: number;
  /** Part of `seconds` spent before the ready frame (upgrade, token check, unread count). */
  readySeconds: number;
  /** How long storing the missed notifications took (not part of the figure). */
  storeSeconds: number;
}

export async function measureReplay(opts: { http: HttpClient; sender: SendConnections; notificationUrl: string; wsUrl: string; admin: Session; runId: string; count: number; concurrency: number }): Promise<ReplayResult> {
  const { http, sender, admin, runId, count } = opts;

  // 1. A socket sees one marker: its id is where the client's knowledge ends.
  const marker = new DeliveryTracker(runId, 'mark', 1);
  const first = openSocket(opts.wsUrl, admin.accessToken, { onNotification: marker.onNotification });
  await first.ready;
  await send(sender, admin.userId, title(runId, 'mark', 0));
  if (!(await marker.waitComplete(10_000))) throw new Error('marker notification not delivered');
  const after = marker.lastSeenId;
  await first.close();

  // 2. While offline: `count` are sent and stored.
  const unread = async () => (await http.get<{ count: number }>(`${opts.notificationUrl}/inbox/unread-count`, admin.accessToken)).body.count;
  const before = await unread();
  const storeStart = nowMs();
  let refused = 0;
  await runBounded(count, opts.concurrency, async (i) => {
    if ((await send(sender, admin.userId, title(runId, 'miss', i))) !== 202) refused += 1;
  });
  if (refused > 0) throw new Error(`${refused} sends refused while preparing the replay`);
  if (!(await waitUntil(async () => (await unread()) >= before + count, 60_000, 100))) throw new Error('missed notifications not stored in time');
  const storeSeconds = (nowMs() - storeStart) / 1000;

  // 3. Reconnect with ?after= and time the catch-up.
  const tracker = new DeliveryTracker(runId, 'miss', count);
  const start = nowMs();
  const socket = openSocket(opts.wsUrl, admin.accessToken, { after, onNotification: tracker.onNotification });
  try {
    await socket.ready;
    const readyAt = nowMs();
    await tracker.waitComplete(60_000);
    return {
      missed: count,
      replayed: tracker.received,
      duplicates: tracker.duplicates,
      outOfOrder: tracker.outOfOrder,
      inOrderAndComplete: tracker.complete && tracker.duplicates === 0 && tracker.outOfOrder === 0,
      seconds: ((tracker.complete ? tracker.lastAt : nowMs()) - start) / 1000,
      readySeconds: (readyAt - start) / 1000,
      storeSeconds,
    };
  } finally {
    await socket.close();
  }
}
