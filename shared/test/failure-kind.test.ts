/**
 * The failure classifier against the errors the real PostgreSQL server and node-postgres give:
 * a consumer's whole retry policy rests on telling "the database is away" from "this data can
 * never be stored" from anything else.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { AppError } from '@warren/shared/errors';
import { classifyFailure, PermanentError, UnavailableError } from '@warren/shared/messaging/failure-kind';

const PG_SERVER = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE_UP = `${PG_SERVER}/postgres`;

/** The error a query on a fresh connection to `url` rejects with (fails the test if none). */
async function errorOf(url: string, sql: string, params: unknown[] = [], poolOpts: pg.PoolConfig = {}): Promise<unknown> {
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 3000, ...poolOpts });
  pool.on('error', () => undefined);
  try {
    await pool.query(sql, params);
  } catch (err) {
    return err;
  } finally {
    await pool.end().catch(() => undefined);
  }
  assert.fail(`expected ${sql} to fail`);
}

describe('classifyFailure', () => {
  it('When the database refuses the connection (server down), then the failure is unavailable', { timeout: 10_000 }, async () => {
    const err = await errorOf('postgres://postgres@127.0.0.1:1/postgres', 'SELECT 1');
    assert.deepEqual(classifyFailure(err), { kind: 'unavailable' });
  });

  it('When the server ends the session (pg_terminate_backend, as on a shutdown), then the failure is unavailable', { timeout: 10_000 }, async () => {
    // Arrange: a client whose backend another session terminates, as a fast shutdown does.
    const victim = new pg.Client({ connectionString: DATABASE_UP });
    victim.on('error', () => undefined);
    await victim.connect();
    const { rows } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const killer = new pg.Client({ connectionString: DATABASE_UP });
    await killer.connect();
    try {
      // Act
      const pending = victim.query('SELECT pg_sleep(10)').then(() => undefined, (err: unknown) => err);
      await killer.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
      const err = await pending;
      const after = await victim.query('SELECT 1').then(() => undefined, (e: unknown) => e);

      // Assert: 57P01 while the query runs, then "not queryable" for the dead client.
      assert.equal((err as { code?: string }).code, '57P01');
      assert.deepEqual(classifyFailure(err), { kind: 'unavailable' });
      assert.ok(after instanceof Error, 'the dead client refuses further queries');
      assert.deepEqual(classifyFailure(after), { kind: 'unavailable' });
    } finally {
      await killer.end();
      await victim.end().catch(() => undefined);
    }
  });

  it('When every pooled connection is busy past the connect timeout, then the failure is unavailable', { timeout: 10_000 }, async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_UP, max: 1, connectionTimeoutMillis: 200 });
    const busy = await pool.connect();
    try {
      const err = await pool.query('SELECT 1').then(() => undefined, (e: unknown) => e);
      assert.match(String((err as Error).message), /timeout exceeded when trying to connect/);
      assert.deepEqual(classifyFailure(err), { kind: 'unavailable' });
    } finally {
      busy.release();
      await pool.end();
    }
  });

  it('When PostgreSQL rejects the data itself (NUL in jsonb 22P05, in text 22021, a bad cast 22P02), then the failure is permanent', { timeout: 10_000 }, async () => {
    const jsonb = await errorOf(DATABASE_UP, 'SELECT $1::jsonb', [JSON.stringify({ a: 'x\u0000y' })]);
    const text = await errorOf(DATABASE_UP, 'SELECT $1::text', ['x\u0000y']);
    const cast = await errorOf(DATABASE_UP, 'SELECT $1::int', ['not a number']);
    assert.equal((jsonb as { code?: string }).code, '22P05');
    assert.equal((text as { code?: string }).code, '22021');
    for (const err of [jsonb, text, cast]) assert.deepEqual(classifyFailure(err), { kind: 'permanent', reason: 'data_error' });
  });

  it('When the failure is something else (a bug: an undefined table), then it is transient: retried up to maxAttempts', { timeout: 10_000 }, async () => {
    const undefinedTable = await errorOf(DATABASE_UP, 'SELECT * FROM no_such_table_here');
    assert.equal((undefinedTable as { code?: string }).code, '42P01');
    assert.deepEqual(classifyFailure(undefinedTable), { kind: 'transient' });
    assert.deepEqual(classifyFailure(new Error('something else')), { kind: 'transient' });
    assert.deepEqual(classifyFailure(undefined), { kind: 'transient' });
  });

  it('When a handler says so itself, then PermanentError is permanent and UnavailableError, a 503 or a 504 are unavailable', () => {
    assert.deepEqual(classifyFailure(new PermanentError('no such template')), { kind: 'permanent', reason: 'permanent_error' });
    assert.deepEqual(classifyFailure(new UnavailableError('relay down')), { kind: 'unavailable' });
    assert.deepEqual(classifyFailure(AppError.unavailable()), { kind: 'unavailable' });
    assert.deepEqual(classifyFailure(AppError.timeout()), { kind: 'unavailable' });
    assert.deepEqual(classifyFailure(AppError.badRequest('bad')), { kind: 'permanent', reason: 'permanent_error' });
    assert.deepEqual(classifyFailure(AppError.forbidden()), { kind: 'transient' });
    assert.deepEqual(classifyFailure(new Error('wrapped', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) })), { kind: 'unavailable' });
  });
});
