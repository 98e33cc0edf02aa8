/**
 * What a page of "what I sent" costs (GET /notifications/sent, decision 0030): on a database of
 * its own, migrated like the service's, one sender with 20 sends of 10 000 recipients each (about
 * half of them read), among other senders' sends holding as many rows again; each send names
 * 1 000 user ids (the most one send can) and 1 000 unknown ones, so the bounded parts of the
 * items read the largest arrays there can be. Times the repository's page (the first, and one
 * after a cursor) many times, before VACUUM (a fresh visibility map: index-only scans visit
 * the heap) and after it.
 *
 *   node --import tsx bench/sent-list-page.ts
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { migratedDatabase } from '../test/support/migrated-database.js';
import { sentBy } from '../services/notification/src/db/sends-repository.js';

const SENDS = 20;
const RECIPIENTS = 10_000;
const NAMED = 1_000;
const RUNS = 50;

const db = await migratedDatabase('notification', 2);
try {
  const sender = randomUUID();
  const other = randomUUID();
  const named = Array.from({ length: NAMED }, () => randomUUID());
  async function sendsOf(senderId: string) {
    const ids = Array.from({ length: SENDS }, () => randomUUID());
    await db.pool.query(
      `INSERT INTO sends (notification_id, sender_id, title, roles, user_ids, unknown_user_ids)
       SELECT n, $2, 'bench', '{employee}', $3::uuid[], $3::uuid[] FROM unnest($1::uuid[]) AS n`,
      [ids, senderId, named],
    );
    await db.pool.query(
      `INSERT INTO inbox_items (notification_id, user_id, type, title, body, read_at)
       SELECT n, gen_random_uuid(), 'general', 'bench', 'b', CASE WHEN random() < 0.5 THEN now() END
       FROM unnest($1::uuid[]) AS n, generate_series(1, $2)`,
      [ids, RECIPIENTS],
    );
  }
  const t0 = performance.now();
  await sendsOf(other);
  await sendsOf(sender);
  await db.pool.query('ANALYZE');
  console.log(`arranged ${2 * SENDS * RECIPIENTS} inbox rows in ${Math.round(performance.now() - t0)} ms`);

  async function time(label: string) {
    const first = await sentBy(db.pool, sender, SENDS + 1, undefined);
    const cursor = first[9]?.position;
    for (const [name, before] of [['first page', undefined], ['after a cursor', cursor]] as const) {
      const ms: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        await sentBy(db.pool, sender, SENDS + 1, before);
        ms.push(performance.now() - t);
      }
      ms.sort((a, b) => a - b);
      const at = (q: number) => (ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0).toFixed(1);
      console.log(`${label}, ${name}: median ${at(0.5)} ms, p95 ${at(0.95)} ms, min ${at(0)} ms (${RUNS} runs)`);
    }
    const items = first.slice(0, SENDS).map((r) => r.item);
    console.log(`  ${items.length} items, ${items.reduce((n, i) => n + i.recipients, 0)} recipients, ${items.reduce((n, i) => n + i.read, 0)} read, ${JSON.stringify(items).length} bytes of JSON`);
  }
  await time('fresh visibility map');
  await db.pool.query('VACUUM ANALYZE inbox_items');
  await db.pool.query('VACUUM ANALYZE sends');
  await time('after VACUUM');
} finally {
  await db.drop();
}
