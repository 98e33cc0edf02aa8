/**
 * Refusals anyone can repeat at an account for nothing are counted into one row a minute, not
 * kept as a row each (decision 0031, amendment), on a real database migrated like the
 * service's: repeats inside the window raise the row's `details.repeats`, one after it starts a
 * new row, other accounts, kinds and details are never merged, 50 refusals at once through the
 * service's pool size leave a few rows whose counts add up to 50 (none lost, no deadlock), and
 * the look for the row reads a few index entries however large the account's flood.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Pool } from '@warren/shared/db/database';
import { AuditRepository } from '../src/db/audit-repository.js';
import { knownDetails } from '../src/domain/audit-events.js';
import { recordRefusal, REFUSAL_COUNT_WINDOW_SECONDS } from '../src/domain/audit-refusals.js';
import type { AuditEntry, AuditEvent, AuditLog } from '../src/domain/ports.js';
import { migratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database.js';
import { planNodes, rowsRead } from '../../../test/support/query-plan.js';

/** The auth service's pool (DATABASE_POOL_MAX's default): as many statements at once as a replica runs. */
const SERVICE_POOL = 10;

interface Row {
  id: string;
  event: string;
  user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  at: Date;
  details: Record<string, unknown>;
}

describe('counting repeated refusals in the audit log', () => {
  let db: MigratedDatabase;
  let audit: AuditRepository;
  const [ann, bob] = [randomUUID(), randomUUID()];

  before(async () => {
    db = await migratedDatabase('auth', SERVICE_POOL);
    audit = new AuditRepository(db.pool);
  });
  after(() => db.drop());
  beforeEach(async () => {
    await db.pool.query('TRUNCATE audit_log');
  });

  const rows = async (): Promise<Row[]> => (await db.pool.query<Row>('SELECT id::text, event, user_id, ip, user_agent, at, details FROM audit_log ORDER BY audit_log.id')).rows;
  const count = (event: AuditEvent, userId: string, entry: AuditEntry = {}) =>
    audit.recordOrCount(event, { ...entry, userId }, REFUSAL_COUNT_WINDOW_SECONDS);
  /** Makes every row look written `seconds` earlier, as if that much time had passed. */
  const age = (seconds: number) => db.pool.query(`UPDATE audit_log SET at = at - make_interval(secs => $1)`, [seconds]);
  const total = (rs: Row[]) => rs.reduce((sum, r) => sum + Number(r.details.repeats ?? 1), 0);

  it('When an account is refused again within the window, from other addresses and devices, then its row counts them and keeps the first address', async () => {
    // Act
    await count('login_throttled', ann, { ip: '2001:db8:0:1::1', userAgent: 'first/1.0' });
    await count('login_throttled', ann, { ip: '2001:db8:0:2::1', userAgent: 'x'.repeat(512) });
    await count('login_throttled', ann, { ip: '198.51.100.7', userAgent: 'third' });

    // Assert
    const [row, ...more] = await rows();
    assert.equal(more.length, 0, 'one row');
    assert.equal(row?.ip, '2001:db8:0:1::1');
    assert.equal(row?.user_agent, 'first/1.0');
    assert.equal(row?.details.repeats, 3);
    const lastAt = Date.parse(row?.details.lastAt as string);
    assert.ok(lastAt >= (row?.at.getTime() as number) && Date.now() - lastAt < 10_000, `lastAt ${row?.details.lastAt}`);
    assert.deepEqual(Object.keys(knownDetails(row?.details)).sort(), ['lastAt', 'repeats'], 'both keys leave auth, in their shape');
  });

  it('When the repeat comes after the window, then it starts a new row and the old one keeps its count', async () => {
    await count('login_refused_locked', ann);
    await count('login_refused_locked', ann);
    await age(REFUSAL_COUNT_WINDOW_SECONDS - 5);
    await count('login_refused_locked', ann);
    assert.equal((await rows()).length, 1, 'still inside the window: counted');

    await age(10);
    await count('login_refused_locked', ann);

    const [old, fresh] = await rows();
    assert.equal(old?.details.repeats, 3);
    assert.deepEqual(fresh?.details, {}, 'a new row, once');
    await count('login_refused_locked', ann);
    assert.deepEqual((await rows()).map((r) => r.details.repeats ?? 1), [3, 2], 'later repeats go to the new row');
  });

  it('When refusals are of other accounts, other kinds or other details, then they are not merged', async () => {
    const [s1, s2, s3] = [randomUUID(), randomUUID(), randomUUID()];
    // Two accounts, two kinds; a third kind with details
    for (let i = 0; i < 3; i++) {
      await count('login_throttled', ann);
      await count('login_throttled', bob);
      await count('login_refused_locked', ann);
    }
    // Reused tokens of two sessions, alternating: each session its own row
    for (let i = 0; i < 4; i++) await count('refresh_reused', ann, { details: { sessionId: i % 2 ? s2 : s1 } });
    // A reset that was emailed is recorded plainly; those past the cap are counted, apart from it
    await audit.record('password_reset_requested', { userId: ann, details: { emailed: true } });
    await count('password_reset_requested', ann, { details: { emailed: false } });
    await count('password_reset_requested', ann, { details: { emailed: false } });
    // The same kind and details written plainly (an event that is never counted) is not counted into either
    await audit.record('login_failed', { userId: ann, details: { reason: 'wrong_password' } });
    await audit.record('login_failed', { userId: ann, details: { reason: 'wrong_password' } });
    // A user id in another case is the same uuid, so the same account
    await count('login_throttled', bob.toUpperCase());
    // One more session, once
    await count('refresh_reused', ann, { details: { sessionId: s3 } });

    const summary = (await rows()).map((r) => `${r.event} ${r.user_id === ann ? 'ann' : 'bob'} ${JSON.stringify({ ...r.details, lastAt: undefined })}`);
    assert.deepEqual(summary, [
      'login_throttled ann {"repeats":3}',
      'login_throttled bob {"repeats":4}',
      'login_refused_locked ann {"repeats":3}',
      `refresh_reused ann {"repeats":2,"sessionId":"${s1}"}`,
      `refresh_reused ann {"repeats":2,"sessionId":"${s2}"}`,
      'password_reset_requested ann {"emailed":true}',
      'password_reset_requested ann {"emailed":false,"repeats":2}',
      'login_failed ann {"reason":"wrong_password"}',
      'login_failed ann {"reason":"wrong_password"}',
      `refresh_reused ann {"sessionId":"${s3}"}`,
    ]);
  });

  it('When a refusal has no account (an unknown email), then it is a row of its own each time', async () => {
    const seen: string[] = [];
    const spy: AuditLog = {
      record: async (event, entry) => void seen.push(`record ${event} ${entry?.userId ?? '-'}`),
      recordOrCount: async (event, entry, window) => void seen.push(`count ${event} ${entry.userId} ${window}`),
    };
    await recordRefusal(spy, 'login_throttled', { ip: '203.0.113.5' });
    await recordRefusal(spy, 'login_throttled', { userId: ann, ip: '203.0.113.5' });
    await recordRefusal(spy, 'login_refused_locked', { userId: undefined });
    assert.deepEqual(seen, ['record login_throttled -', `count login_throttled ${ann} 60`, 'record login_refused_locked -']);
  });

  it('When 50 refusals of one account arrive at once, then a few rows hold them, their counts add up to 50, and none waits on another for ever', async () => {
    for (const [round, userId] of [ann, bob, randomUUID()].entries()) {
      // Act: 50 at once through the service's pool size, from 50 addresses
      const settled = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => count('login_throttled', userId, { ip: `2001:db8:${round}:${i}::1`, userAgent: `flood/${i}` })),
      );

      // Assert
      assert.deepEqual(settled.filter((s) => s.status === 'rejected'), [], 'no deadlock, no failure');
      const mine = (await rows()).filter((r) => r.user_id === userId);
      assert.equal(total(mine), 50, `round ${round}: every refusal counted once (${mine.map((r) => r.details.repeats ?? 1).join('+')})`);
      assert.ok(mine.length <= SERVICE_POOL, `round ${round}: ${mine.length} rows, at most one per statement running at once`);
    }
    // Another burst in the same window goes into those rows
    await Promise.all(Array.from({ length: 50 }, () => count('login_throttled', ann)));
    const anns = (await rows()).filter((r) => r.user_id === ann);
    assert.equal(total(anns), 100);
  });

  it('When the account already has a flood of rows, then finding the row to count in reads a few index entries, not the flood', async () => {
    // Arrange: 60 000 refusals of Ann's older than the window (as written before this change), other kinds and accounts after them
    await db.pool.query(
      `INSERT INTO audit_log (event, user_id, ip, at) SELECT 'login_throttled', $1::uuid, '198.51.100.7', now() - interval '2 hours' FROM generate_series(1, 60000)`,
      [ann],
    );
    await db.pool.query(`INSERT INTO audit_log (event, user_id, ip) SELECT 'login_failed', $1::uuid, '198.51.100.8' FROM generate_series(1, 20000)`, [ann]);
    await db.pool.query(`INSERT INTO audit_log (event, user_id, ip) SELECT 'login_throttled', gen_random_uuid(), '198.51.100.9' FROM generate_series(1, 20000)`);
    await db.pool.query('ANALYZE audit_log');

    for (const [event, details] of [['login_throttled', {}], ['refresh_reused', { sessionId: randomUUID() }], ['login_refused_locked', {}]] as const) {
      // Act: the repository's statement under EXPLAIN ANALYZE, twice (a new row, then counted into it), rolled back
      for (const round of ['insert', 'count']) {
        const statements: { text: string; values: unknown[] }[] = [];
        const capturing = { query: (text: string, values: unknown[]) => (statements.push({ text, values }), Promise.resolve({ rows: [] })) } as unknown as Pool;
        await new AuditRepository(capturing).recordOrCount(event, { userId: ann, details }, REFUSAL_COUNT_WINDOW_SECONDS);
        const { text, values } = statements[0] as { text: string; values: unknown[] };
        const client = await db.pool.connect();
        let read: number;
        try {
          await client.query('BEGIN');
          if (round === 'count') await client.query(text, values);
          read = rowsRead((await planNodes(client, text, values, { analyze: true })).filter((n) => n['Relation Name'] === 'audit_log' && n['Node Type'] !== 'ModifyTable'));
        } finally {
          await client.query('ROLLBACK');
          client.release();
        }

        // Assert
        assert.ok(read <= 3 * 8, `${event}, ${round}: ${read} audit_log rows read (the account holds 80 000)`);
      }
    }
  });
});
