/**
 * A connection the database closes inside a transaction, between two of its queries (a server
 * shutdown, a failover, pg_terminate_backend): the transaction fails as "unavailable" (retried
 * later by a consumer, 503 over HTTP) and the connection is discarded. It used to crash the
 * whole process: the checked-out client emitted an 'error' event nobody listened to. (Most
 * likely what ended the notification service once in the chaos table's "notification database
 * down" row: it exited without a JSON line the moment the database stopped.)
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { createPool, inTransaction } from '@warren/shared/db/database';
import { isDatabaseUnavailable } from '@warren/shared/db/unavailable';
import { captureLogs } from '../../test/support/logs.js';
import { waitFor } from './helpers.js';

// The server's maintenance database: the test creates nothing, and ends only its own connection.
const URL = `${process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432'}/postgres`;

describe('a transaction whose connection the database closes', () => {
  const logs = captureLogs('db-test');
  const pool = createPool(URL, 2, logs.logger);
  const admin = new pg.Client({ connectionString: URL });
  after(async () => {
    await admin.end().catch(() => undefined);
    await pool.end();
  });

  it('When the server ends the connection between two queries of a transaction, then the transaction fails as unavailable, the process goes on and the pool serves a fresh connection', async () => {
    // Arrange
    await admin.connect();
    let ended: number | undefined;

    // Act: end the backend while the transaction waits between its queries.
    const outcome = await inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      ended = rows[0]?.pid;
      await admin.query('SELECT pg_terminate_backend($1)', [ended]);
      // The server's goodbye arrives while no query of this client is running.
      await waitFor(async () => (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [ended])).rowCount === 0, 'the backend to end');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await client.query('SELECT 1');
    }).then(
      () => 'committed',
      (err: unknown) => err,
    );

    // Assert
    assert.notEqual(outcome, 'committed');
    assert.ok(isDatabaseUnavailable(outcome), `unavailable, not ${String(outcome)}`);
    const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    assert.notEqual(rows[0]?.pid, ended, 'the lost connection was discarded');
  });
});
