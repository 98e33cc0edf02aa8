/**
 * The audit log read (GET /audit-events, decision 0031), on a real database migrated like the
 * service's: the repository pages newest first by id without gap or duplicate, filtered by user
 * and by events; the use case lets only a role holding audit:read now read it, answers nothing
 * but the listed `details` keys and bounded user agents, and records every read after it.
 * The sessions port is a fake (a live session per actor); users, permissions and the audit log
 * are the real repositories.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { AUDIT_USER_AGENT_MAX } from '@warren/shared/contracts/audit';
import { AppError } from '@warren/shared/errors';
import { AuditRepository } from '../src/db/audit-repository.js';
import { UsersRepository } from '../src/db/users-repository.js';
import { boundedUserAgent, knownDetails, listAuditEvents } from '../src/domain/audit-events.js';
import type { AuthDeps } from '../src/domain/deps.js';
import type { AuditLog, SessionRecord, SessionStore } from '../src/domain/ports.js';
import type { Pool } from '@warren/shared/db/database';
import { migratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database.js';
import { planNodes, rowsRead } from '../../../test/support/query-plan.js';

describe('the audit log read', () => {
  let db: MigratedDatabase;
  let audit: AuditRepository;
  let users: UsersRepository;
  const ids = { admin: '', manager: '', employee: '' };
  /** Live sessions of the fake sessions port: session id → user id. */
  const live = new Map<string, string>();

  before(async () => {
    db = await migratedDatabase('auth');
    audit = new AuditRepository(db.pool);
    users = new UsersRepository(db.pool);
    for (const role of ['admin', 'manager', 'employee'] as const) {
      const { rows } = await db.pool.query<{ id: string }>(
        `INSERT INTO users (email, name, role, password_hash, email_verified_at) VALUES ($1, $2, $3, 'x', now()) RETURNING id`,
        [`${role}@warren.test`, `The ${role}`, role],
      );
      ids[role] = rows[0]?.id as string;
    }
  });
  after(() => db.drop());
  beforeEach(async () => {
    await db.pool.query('TRUNCATE audit_log');
  });

  const sessions = {
    async findLive(sessionId: string): Promise<SessionRecord | undefined> {
      const userId = live.get(sessionId);
      if (!userId) return undefined;
      const now = new Date();
      return { id: sessionId, userId, createdAt: now, lastUsedAt: now, expiresAt: new Date(now.getTime() + 60_000), revokedAt: null, userAgent: null, ip: null };
    },
  } as SessionStore;

  function deps(overrides: Partial<AuthDeps> = {}): AuthDeps {
    return { users, sessions, audit, auditTrail: audit, ...overrides } as AuthDeps;
  }
  function actor(role: keyof typeof ids) {
    const sessionId = randomUUID();
    live.set(sessionId, ids[role]);
    return { userId: ids[role], sessionId, ip: '192.0.2.1', userAgent: 'test runner' };
  }
  async function eventsInTable(): Promise<{ event: string; user_id: string | null; actor_id: string | null; details: Record<string, unknown> }[]> {
    return (await db.pool.query('SELECT event, user_id, actor_id, details FROM audit_log ORDER BY id')).rows;
  }

  describe('permissions', () => {
    it('Then audit:read is held by admins alone', async () => {
      assert.ok((await users.permissionsOf('admin')).includes('audit:read'));
      assert.ok(!(await users.permissionsOf('manager')).includes('audit:read'));
      assert.ok(!(await users.permissionsOf('employee')).includes('audit:read'));
    });
  });

  describe('repository', () => {
    it('When events are paged newest first, then every event comes once, in id order, with the names of its user and actor', async () => {
      // Arrange: 7 events of the employee, 5 of nobody, 1 role change by the admin
      for (let i = 0; i < 7; i++) await audit.record(i % 2 ? 'login_failed' : 'login_succeeded', { userId: ids.employee, ip: `10.0.0.${i}` });
      for (let i = 0; i < 5; i++) await audit.record('login_failed', { ip: '10.9.9.9', details: { reason: 'unknown_email' } });
      await audit.record('role_changed', { userId: ids.manager, actorId: ids.admin, details: { from: 'employee', to: 'manager', sessionsEnded: 0 } });

      // Act: pages of 5
      const seen: string[] = [];
      let before: string | undefined;
      for (;;) {
        const rows = await audit.page({ limit: 5, before });
        seen.push(...rows.map((r) => r.id));
        if (rows.length < 5) break;
        before = rows[rows.length - 1]?.id;
      }

      // Assert
      const all = await audit.page({ limit: 100 });
      assert.equal(all.length, 13);
      assert.deepEqual(seen, all.map((r) => r.id), 'pages add up to one large page');
      assert.deepEqual([...seen].sort((a, b) => Number(b) - Number(a)), seen, 'newest (largest id) first');
      assert.equal(new Set(seen).size, seen.length, 'no duplicate');
      const change = all[0];
      assert.equal(change?.event, 'role_changed');
      assert.deepEqual([change?.userName, change?.userEmail, change?.actorName, change?.actorEmail], ['The manager', 'manager@warren.test', 'The admin', 'admin@warren.test']);
      const anonymous = all.find((r) => r.userId === null);
      assert.deepEqual([anonymous?.userName, anonymous?.actorName], [null, null]);
    });

    it('When filtered by user, events or both, then only those come, and an unknown user or a cursor past the oldest is an empty page', async () => {
      await audit.record('login_failed', { userId: ids.employee });
      await audit.record('login_succeeded', { userId: ids.employee });
      await audit.record('login_failed', { userId: ids.manager });
      await audit.record('account_locked', { userId: ids.employee });
      await audit.record('logout', { userId: ids.employee });

      const events = async (q: Parameters<AuditRepository['page']>[0]) => (await audit.page(q)).map((r) => r.event);
      assert.deepEqual(await events({ limit: 50, userId: ids.employee }), ['logout', 'account_locked', 'login_succeeded', 'login_failed']);
      assert.deepEqual(await events({ limit: 50, events: ['login_failed'] }), ['login_failed', 'login_failed']);
      assert.deepEqual(await events({ limit: 50, userId: ids.employee, events: ['login_failed', 'account_locked'] }), ['account_locked', 'login_failed']);
      assert.deepEqual(await events({ limit: 50, userId: randomUUID() }), []);
      const oldest = (await audit.page({ limit: 50 })).at(-1)?.id as string;
      assert.deepEqual(await events({ limit: 50, before: oldest }), []);
      assert.equal((await events({ limit: 50, before: '9223372036854775807' })).length, 5, 'the largest id there can be: from the newest');
    });

    it('When a flood of one kind of event is the newest, then a page of other kinds, of everyone or of one user, reads a bounded number of rows, not the flood', async () => {
      // Arrange: what an attacker can write without an account (decision 0012 bounds the rate per
      // address, nothing bounds the total): failed sign-ins with unknown emails and refused tries
      // at one account, newer than everything else; below them, the ordinary events of many users.
      const flood = 60_000;
      await db.pool.query(
        `INSERT INTO audit_log (event, user_id, ip) SELECT (ARRAY['logout','session_revoked','login_succeeded','role_changed'])[1 + (g / 10) % 4], CASE WHEN g % 10 = 0 THEN $1::uuid ELSE gen_random_uuid() END, '10.0.0.1' FROM generate_series(1, 4000) g`,
        [ids.employee],
      );
      await db.pool.query(`INSERT INTO audit_log (event, user_id, ip) SELECT 'login_throttled', $1::uuid, '198.51.100.7' FROM generate_series(1, $2::int)`, [ids.employee, flood]);
      await db.pool.query(`INSERT INTO audit_log (event, ip, details) SELECT 'login_failed', '198.51.100.7', '{"reason":"unknown_email"}' FROM generate_series(1, $1::int)`, [flood]);
      await db.pool.query('ANALYZE audit_log');
      const sessions = ['logout', 'logout_all', 'session_revoked', 'refresh_reused'] as const;
      const asks: Parameters<AuditRepository['page']>[0][] = [
        { limit: 51, events: [...sessions] },
        { limit: 51, events: ['login_succeeded', 'role_changed'] },
        { limit: 51, userId: ids.employee, events: ['login_succeeded'] },
        { limit: 51, userId: ids.employee, events: [...sessions] },
        { limit: 51, userId: ids.employee, events: ['role_changed'], before: '9223372036854775807' },
        { limit: 51, userId: ids.employee },
        { limit: 51, userId: ids.employee, before: '9223372036854775807' },
      ];
      for (const q of asks) {
        // Act: the statement the repository sends, run under EXPLAIN ANALYZE
        const statements: { text: string; values: unknown[] }[] = [];
        const capturing = { query: (text: string, values: unknown[]) => (statements.push({ text, values }), db.pool.query(text, values)) } as unknown as Pool;
        const rows = await new AuditRepository(capturing).page(q);
        const { text, values } = statements[0] as { text: string; values: unknown[] };
        const read = rowsRead((await planNodes(db.pool, text, values, { analyze: true })).filter((n) => n['Relation Name'] === 'audit_log'));

        // Assert: the right page, found without reading through the flood
        assert.equal(rows.length, 51, JSON.stringify(q));
        assert.ok(rows.every((r) => (!q.events || q.events.includes(r.event as never)) && (!q.userId || r.userId === q.userId)), JSON.stringify(q));
        assert.deepEqual(rows.map((r) => BigInt(r.id)), rows.map((r) => BigInt(r.id)).sort((a, b) => (a < b ? 1 : -1)), 'newest first');
        const bound = 4 * (q.events?.length ?? 1) * q.limit;
        assert.ok(read <= bound, `${JSON.stringify(q)}: ${read} audit_log rows read for a page of ${q.limit} (at most ${bound}); the flood is ${2 * flood}`);
      }
    });

    it('Then reads by user and by event have indexes', async () => {
      const { rows } = await db.pool.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_log'");
      const defs = rows.map((r) => r.indexdef);
      assert.ok(defs.some((d) => d.includes('(user_id, id)')), defs.join('\n'));
      assert.ok(defs.some((d) => d.includes('(event, id)')), defs.join('\n'));
      assert.ok(defs.some((d) => d.includes('(at)')), 'housekeeping deletes by age');
    });
  });

  describe('use case', () => {
    it('When an admin reads, then a page comes with nextCursor, and the read is recorded after it (not in its own answer) with the actor, the subject and the filter', async () => {
      for (let i = 0; i < 3; i++) await audit.record('login_failed', { userId: ids.employee, ip: '198.51.100.4', userAgent: 'curl/8', details: { reason: 'wrong_password' } });
      const admin = actor('admin');

      const first = await listAuditEvents(deps(), { ...admin, subjectUserId: ids.employee, events: ['login_failed'], limit: 2 });

      assert.deepEqual(first.items.map((i) => i.event), ['login_failed', 'login_failed']);
      assert.equal(first.nextCursor, first.items[1]?.id);
      assert.deepEqual(first.items[0]?.user, { name: 'The employee', email: 'employee@warren.test' });
      assert.equal(first.items[0]?.ip, '198.51.100.4');
      assert.deepEqual(first.items[0]?.details, { reason: 'wrong_password' });
      authRpc.listAuditEvents.response.parse(first); // what the RPC server checks before answering
      const second = await listAuditEvents(deps(), { ...admin, subjectUserId: ids.employee, events: ['login_failed'], limit: 2, before: first.nextCursor as string });
      assert.equal(second.items.length, 1);
      assert.equal(second.nextCursor, null);

      const reads = (await eventsInTable()).filter((e) => e.event === 'audit_read');
      assert.equal(reads.length, 2, 'every page is recorded');
      assert.deepEqual(reads[0], { event: 'audit_read', user_id: ids.employee, actor_id: ids.admin, details: { events: ['login_failed'], limit: 2, returned: 2 } });
      assert.deepEqual(reads[1]?.details, { events: ['login_failed'], before: first.nextCursor, limit: 2, returned: 1 });
      const everything = await listAuditEvents(deps(), { ...admin, limit: 50 });
      assert.deepEqual(everything.items.map((i) => i.event), ['audit_read', 'audit_read', 'login_failed', 'login_failed', 'login_failed'], 'the earlier reads show, this one does not');
      assert.deepEqual(everything.items[0]?.actor, { name: 'The admin', email: 'admin@warren.test' });
    });

    it('When a manager or an employee asks (even with a token that says otherwise), then 403 missing_permission, nothing read and nothing recorded', async () => {
      await audit.record('login_succeeded', { userId: ids.employee });
      let read = false;
      const spy = { page: async () => ((read = true), []) };
      for (const role of ['manager', 'employee'] as const) {
        await assert.rejects(listAuditEvents(deps({ auditTrail: spy }), { ...actor(role), limit: 10 }), (e: unknown) => e instanceof AppError && e.status === 403 && e.code === 'missing_permission');
      }
      assert.equal(read, false);
      assert.deepEqual((await eventsInTable()).map((e) => e.event), ['login_succeeded']);
    });

    it('When the session has ended, then 401 session_ended', async () => {
      const gone = { userId: ids.admin, sessionId: randomUUID() };
      await assert.rejects(listAuditEvents(deps(), { ...gone, limit: 10 }), (e: unknown) => e instanceof AppError && e.code === 'session_ended');
    });

    it('When the read cannot be recorded, then the read fails too', async () => {
      const down = async () => Promise.reject(new Error('database down'));
      const failing: AuditLog = { record: down, recordOrCount: down };
      await assert.rejects(listAuditEvents(deps({ audit: failing }), { ...actor('admin'), limit: 10 }), /database down/);
    });

    it('When details hold keys that are not listed (a secret by mistake) or listed keys of the wrong shape, then the answer leaves them out', async () => {
      await db.pool.query(
        `INSERT INTO audit_log (event, user_id, details) VALUES ('login_succeeded', $1, $2)`,
        [ids.employee, { sessionId: 'not-a-uuid', reason: 'wrong_password', password: 'hunter2', refreshToken: 'abc', code: '123456', emailed: 'yes', sessionsEnded: 2, nested: { token: 'x' } }],
      );
      const page = await listAuditEvents(deps(), { ...actor('admin'), limit: 10 });
      assert.deepEqual(page.items[0]?.details, { reason: 'wrong_password', sessionsEnded: 2 });
      assert.doesNotMatch(JSON.stringify(page), /hunter2|refreshToken|123456|"token"/);
      assert.deepEqual(knownDetails(null), {});
    });

    it('When a stored user agent is long or hostile, then the answer holds at most 256 characters, cut with … and never inside a surrogate pair', async () => {
      const long = `Mozilla/5.0 \u202e${'\u0085\u009b\t'.repeat(100)}${'x'.repeat(200)}`.slice(0, 512);
      const emojiAtCut = `${'a'.repeat(AUDIT_USER_AGENT_MAX - 2)}\u{1F600}${'b'.repeat(100)}`;
      await audit.record('login_succeeded', { userId: ids.employee, userAgent: long });
      await audit.record('login_succeeded', { userId: ids.employee, userAgent: emojiAtCut });
      await audit.record('login_succeeded', { userId: ids.employee, userAgent: 'a'.repeat(AUDIT_USER_AGENT_MAX) });

      const page = await listAuditEvents(deps(), { ...actor('admin'), limit: 10 });

      const [exact, emoji, hostile] = page.items.map((i) => i.userAgent as string);
      assert.equal(exact, 'a'.repeat(AUDIT_USER_AGENT_MAX), 'exactly the limit: kept whole');
      assert.equal(emoji, `${'a'.repeat(AUDIT_USER_AGENT_MAX - 2)}…`, 'the emoji would be cut in half: it goes whole');
      assert.equal(hostile?.length, AUDIT_USER_AGENT_MAX);
      assert.ok(hostile?.startsWith('Mozilla/5.0 \u202e') && hostile.endsWith('…'));
      authRpc.listAuditEvents.response.parse(page);
      assert.equal(boundedUserAgent(null), null);
    });
  });
});
