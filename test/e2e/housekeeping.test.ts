/**
 * Housekeeping in each service: its purge, called directly "as of" now, deletes the rows past
 * their retention and keeps the fresh ones, on a real database migrated like the service's own.
 * Batches are small here (2) so every purge has to loop to finish.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Pool } from '@warren/shared/db/database';
import { purgeExpired as purgeAuth } from '../../services/auth/src/db/housekeeping.js';
import { purgeExpired as purgeMain } from '../../services/main-backend/src/db/housekeeping.js';
import { purgeExpired as purgeNotification } from '../../services/notification/src/db/housekeeping.js';
import { migratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';

const DAY = 86_400_000;

async function ids(pool: Pool, sql: string): Promise<string[]> {
  return (await pool.query<{ id: string }>(sql)).rows.map((r) => r.id).sort();
}

describe('housekeeping', () => {
  describe('auth', () => {
    let db: MigratedDatabase;
    before(async () => (db = await migratedDatabase('auth')));
    after(() => db.drop());

    it('When codes, tries, failures, alerts, sessions, outbox rows and audit events pass their retention, then they go and the fresh ones stay', async () => {
      // Arrange: per table, three old rows and one fresh one (timestamps relative to `now`)
      const now = new Date();
      const ago = (ms: number) => new Date(now.getTime() - ms);
      const { pool } = db;
      const { rows } = await pool.query<{ id: string }>(
        "INSERT INTO users (email, name, role, password_hash) VALUES ('hk@warren.test', 'H', 'employee', 'x') RETURNING id",
      );
      const userId = rows[0]?.id as string;
      for (const [tag, at] of [['old1', ago(2 * DAY)], ['old2', ago(3 * DAY)], ['old3', ago(4 * DAY)], ['fresh', ago(60_000)]] as const) {
        await pool.query(
          `INSERT INTO one_time_codes (id, purpose, email_lower, code_hash, expires_at) VALUES ($1, 'verify_email', $2, 'h', $3)`,
          [randomUUID(), tag, at],
        );
        await pool.query(
          `INSERT INTO code_attempts (purpose, email_lower, window_started_at, issue_window_started_at) VALUES ('verify_email', $1, $2, $2)`,
          [tag, at],
        );
        await pool.query(`INSERT INTO login_failures (email_lower, ip, updated_at) VALUES ($1, '10.0.0.1', $2)`, [tag, at]);
        await pool.query(`INSERT INTO outbox (routing_key, payload, published_at) VALUES ($1, '{}', $2)`, [tag, at]);
      }
      // Locked until the future: kept however old its last update
      await pool.query(`INSERT INTO login_failures (email_lower, ip, updated_at, locked_until) VALUES ('locked', '10.0.0.1', $1, $2)`, [
        ago(5 * DAY),
        new Date(now.getTime() + 60_000),
      ]);
      // Never published: kept however old
      await pool.query(`INSERT INTO outbox (routing_key, payload, created_at) VALUES ('pending', '{}', $1)`, [ago(9 * DAY)]);
      const oldSession = randomUUID();
      const freshSession = randomUUID();
      await pool.query(`INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $3, $4), ($2, $3, $5)`, [
        oldSession,
        freshSession,
        userId,
        ago(31 * DAY),
        ago(29 * DAY),
      ]);
      await pool.query(`INSERT INTO refresh_tokens (token_hash, session_id) VALUES ('\\x01', $1), ('\\x02', $2)`, [oldSession, freshSession]);
      await pool.query(`INSERT INTO login_failure_alerts (user_id, window_started_at) VALUES ($1, $2)`, [userId, ago(9 * DAY)]);
      // Audit events: AUDIT_RETENTION_DAYS = 90 below; one a minute past it goes, one a minute short of it stays
      for (const [tag, at] of [['old1', ago(90 * DAY + 60_000)], ['old2', ago(100 * DAY)], ['old3', ago(400 * DAY)], ['fresh', ago(90 * DAY - 60_000)], ['new', ago(60_000)]] as const) {
        await pool.query(`INSERT INTO audit_log (event, user_id, at, details) VALUES ('login_succeeded', $1, $2, $3)`, [userId, at, { tag }]);
      }

      // Act
      const deleted = await purgeAuth(pool, { auditRetentionDays: 90, now, batchSize: 2 });

      // Assert
      assert.deepEqual(deleted, { one_time_codes: 3, code_attempts: 3, login_failures: 3, login_failure_alerts: 1, sessions: 1, outbox: 3, audit_log: 3 });
      assert.deepEqual(await ids(pool, "SELECT details->>'tag' AS id FROM audit_log"), ['fresh', 'new']);
      assert.deepEqual(await ids(pool, 'SELECT email_lower AS id FROM one_time_codes'), ['fresh']);
      assert.deepEqual(await ids(pool, 'SELECT email_lower AS id FROM code_attempts'), ['fresh']);
      assert.deepEqual(await ids(pool, 'SELECT email_lower AS id FROM login_failures'), ['fresh', 'locked']);
      assert.deepEqual(await ids(pool, 'SELECT routing_key AS id FROM outbox'), ['fresh', 'pending']);
      assert.deepEqual(await ids(pool, 'SELECT id::text AS id FROM sessions'), [freshSession]);
      assert.deepEqual(await ids(pool, 'SELECT session_id::text AS id FROM refresh_tokens'), [freshSession], 'refresh tokens go with their session');
      assert.deepEqual(await ids(pool, 'SELECT user_id::text AS id FROM login_failure_alerts'), []);
    });
  });

  describe('main-backend', () => {
    let db: MigratedDatabase;
    before(async () => (db = await migratedDatabase('main-backend')));
    after(() => db.drop());

    it('When Idempotency-Key records are older than a week, then they go and younger ones stay', async () => {
      // Arrange
      const now = new Date();
      const user = randomUUID();
      for (const [key, days] of [['a', 8], ['b', 9], ['c', 30], ['young', 6]] as const) {
        await pool().query(
          `INSERT INTO idempotency_keys (user_id, key, request_hash, notification_id, created_at) VALUES ($1, $2, '\\x00', $3, $4)`,
          [user, key, randomUUID(), new Date(now.getTime() - days * DAY)],
        );
      }

      // Act
      const deleted = await purgeMain(pool(), { now, batchSize: 2 });

      // Assert
      assert.deepEqual(deleted, { idempotency_keys: 3 });
      assert.deepEqual(await ids(pool(), 'SELECT key AS id FROM idempotency_keys'), ['young']);
    });
    const pool = () => db.pool;
  });

  describe('notification', () => {
    let db: MigratedDatabase;
    before(async () => (db = await migratedDatabase('notification')));
    after(() => db.drop());

    it('When sent-email records, sends and ended sessions pass their retention, then they go and the fresh ones stay', async () => {
      // Arrange
      const now = new Date();
      const ago = (ms: number) => new Date(now.getTime() - ms);
      const { pool } = db;
      for (const [tag, days] of [['old1', 31], ['old2', 40], ['old3', 400], ['fresh', 29]] as const) {
        await pool.query('INSERT INTO sent_emails (message_id, sent_at) VALUES ($1, $2)', [tag, ago(days * DAY)]);
        // NOTIFICATION_RETENTION_DAYS = 30 below
        await pool.query('INSERT INTO sends (notification_id, title, created_at) VALUES ($1, $2, $3)', [randomUUID(), tag, ago(days * DAY)]);
        const expires = tag === 'fresh' ? new Date(now.getTime() + 60_000) : ago(days * 60_000);
        await pool.query('INSERT INTO ended_sessions (session_id, user_id, ended_at, expires_at) VALUES ($1, $2, $3, $4)', [
          randomUUID(),
          randomUUID(),
          ago(DAY),
          expires,
        ]);
      }

      // Act
      const deleted = await purgeNotification(pool, { retentionDays: 30, now, batchSize: 2 });

      // Assert
      assert.deepEqual(deleted, { sent_emails: 3, sends: 3, ended_sessions: 3 });
      assert.deepEqual(await ids(pool, 'SELECT message_id AS id FROM sent_emails'), ['fresh']);
      assert.deepEqual(await ids(pool, 'SELECT title AS id FROM sends'), ['fresh']);
      const left = await pool.query<{ expires_at: Date }>('SELECT expires_at FROM ended_sessions');
      assert.equal(left.rows.length, 1);
      assert.ok((left.rows[0]?.expires_at as Date) > now, 'the session whose tokens may still be valid stays');
    });
  });
});
