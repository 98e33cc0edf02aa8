/**
 * What became of a send, in words: `GET /notifications/:id` on the notification service gives
 * the rows stored (recipients) and read so far. Until the send is stored (a moment after the
 * 202) the answer is a 404: "Delivering…".
 */
import { plural, problemText } from './format.js';

/**
 * "Delivered to 3 people · 1 read · 1 id matched no user": a send's status (from
 * `GET /notifications/:id`, or an item of `GET /notifications/sent`, which counts the unknown ids).
 */
export function statusText(s, unknownCount = s.unknownUserIds.length) {
  const parts = [s.recipients === 0 ? 'Delivered to nobody (no one matched)' : `Delivered to ${plural(s.recipients, 'person', 'people')}`];
  if (s.recipients > 0) parts.push(`${s.read} read`);
  if (unknownCount) parts.push(`${plural(unknownCount, 'id', 'ids')} matched no user`);
  return parts.join(' · ');
}

/** The status of send `id` as a sentence, and whether it is final enough to stop asking often. */
export async function describeSend(client, id) {
  try {
    const s = await client.notifications.status(id);
    return { text: statusText(s), kind: 'ok', stored: true, status: s };
  } catch (err) {
    if (err?.status === 404) return { text: 'Delivering…', kind: 'pending', stored: false };
    return { text: `Status unavailable: ${problemText(err)}`, kind: 'error', stored: false };
  }
}

/**
 * Keeps `render` fed with the send's status while `alive()` holds: every 2 s for the first
 * 20 s (deliveries and first reads), then every 15 s for five minutes.
 */
export function followSend(client, id, render, alive) {
  const started = Date.now();
  async function tick() {
    if (!alive()) return;
    render(await describeSend(client, id));
    const age = Date.now() - started;
    if (age > 5 * 60_000 || !alive()) return;
    setTimeout(tick, age < 20_000 ? 2000 : 15_000);
  }
  void tick();
}
