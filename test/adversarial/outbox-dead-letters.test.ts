/**
 * `npm run outbox:dead-letters -- list|replay|discard` as an operator (or a careless script)
 * runs it, on a database migrated like auth's: what it shows and hides, what it moves, and how
 * it refuses bad usage, an unreachable database and one that was never migrated, without
 * touching any row.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ensureDatabase } from '@warren/shared/db/database';
import { dropDatabase, testDatabaseUrl } from '../support/env.js';
import { captureLogs } from '../support/logs.js';
import { migratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';
import { OUTBOX_DEAD_LETTERS_SCRIPT, runCommand, type CommandResult } from '../support/operator-commands.js';

describe('the outbox dead-letter command (npm run outbox:dead-letters)', () => {
  let db: MigratedDatabase;
  const run = (args: string[], databaseUrl = db.url): Promise<CommandResult> =>
    runCommand(OUTBOX_DEAD_LETTERS_SCRIPT, args, { APP_ENV: 'dev', LOG_LEVEL: 'error', AUTH_DATABASE_URL: databaseUrl });

  /** A dead letter as the relay leaves it. */
  async function deadLetter(routingKey: string, payload: unknown, error: string): Promise<string> {
    const messageId = randomUUID();
    await db.pool.query(
      `INSERT INTO outbox_dead_letters (outbox_id, message_id, routing_key, payload, created_at, error)
       VALUES ((SELECT coalesce(max(outbox_id), 0) + 1 FROM outbox_dead_letters), $1, $2, $3, now() - interval '1 minute', $4)`,
      [messageId, routingKey, JSON.stringify(payload), error],
    );
    return messageId;
  }
  const deadLetterIds = async () =>
    (await db.pool.query<{ id: string }>('SELECT message_id AS id FROM outbox_dead_letters ORDER BY outbox_id')).rows.map((r) => r.id);

  before(async () => (db = await migratedDatabase('auth')));
  after(() => db.drop());

  it('When there are none, then list says so and exits 0', async () => {
    const result = await run(['list']);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'outbox_dead_letters: 0 rows\n');
  });

  it('When dead letters are listed, then where and why are shown, payloads only with --payloads', async () => {
    // Arrange
    await db.pool.query('TRUNCATE outbox_dead_letters');
    const pii = await deadLetter('user.upserted', { userId: randomUUID(), role: 'overlord', email: 'private@warren.test' }, 'role: Invalid option');
    await deadLetter('user.deleted', {}, 'no schema for routing key "user.deleted"');

    // Act
    const plain = await run(['list']);
    const limited = await run(['list', '--limit', '1', '--json']);
    const withPayloads = await run(['list', '--payloads']);

    // Assert
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^outbox_dead_letters: 2 rows\n1 {2}[0-9a-f-]{36} {2}user\.upserted {2}written \S+ {2}dead-lettered \S+ {2}\d+ B\n {4}role: Invalid option\n2 /);
    assert.ok(!plain.stdout.includes('private@'), 'no payload without --payloads');
    const listing = JSON.parse(limited.stdout) as { total: number; items: { messageId: string; payload?: unknown }[] };
    assert.equal(listing.total, 2);
    assert.deepEqual(listing.items.map((i) => i.messageId), [pii]);
    assert.ok(!('payload' in (listing.items[0] ?? {})));
    assert.match(withPayloads.stdout, /"email":"private@warren\.test"/);
  });

  it('When dead letters are replayed, then the ones that pass their contract go back to the outbox and the others are kept, exit 2', async () => {
    // Arrange: one the operator corrected, one still broken
    await db.pool.query('TRUNCATE outbox_dead_letters');
    const fixed = await deadLetter(
      'session.ended',
      { sessionId: randomUUID(), userId: randomUUID(), endedAt: new Date().toISOString(), expiresAt: new Date().toISOString() },
      'endedAt: Invalid ISO datetime',
    );
    const broken = await deadLetter('user.upserted', { userId: 'nope' }, 'userId: Invalid UUID');

    // Act
    const result = await run(['replay']);

    // Assert
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, new RegExp(`^replayed 1, kept 1\\nreplayed {2}${fixed} {2}session\\.ended {2}→ outbox id \\d+\\nkept {6}${broken} {2}user\\.upserted {2}\\(userId: Invalid UUID; `));
    assert.match(result.stdout, /the running auth service publishes the replayed rows\n$/);
    const { rows } = await db.pool.query('SELECT message_id AS "messageId", routing_key AS "routingKey", published_at AS "publishedAt" FROM outbox');
    assert.deepEqual(rows, [{ messageId: fixed, routingKey: 'session.ended', publishedAt: null }]);
    assert.deepEqual(await deadLetterIds(), [broken]);

    // Act 2: replaying again changes nothing
    const again = await run(['replay', '--message-id', fixed, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), { replayed: [], kept: [] });
  });

  it('When a dead letter is discarded by message id, then only it goes; an unknown id exits 2', async () => {
    await db.pool.query('TRUNCATE outbox_dead_letters');
    const gone = await deadLetter('user.deleted', {}, 'no schema');
    const stays = await deadLetter('user.deleted', {}, 'no schema');

    const discarded = await run(['discard', '--message-id', gone]);
    const unknown = await run(['discard', '--message-id', gone]);

    assert.equal(discarded.code, 0, discarded.stderr);
    assert.match(discarded.stdout, new RegExp(`^discarded \\d+ {2}${gone} {2}user\\.deleted`));
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stdout, `no dead letter has message id ${gone}\n`);
    assert.deepEqual(await deadLetterIds(), [stays]);
  });

  it('When the usage is wrong or hostile, then it exits 1 with the usage and touches nothing', async () => {
    // Arrange
    await db.pool.query('TRUNCATE outbox_dead_letters');
    const kept = await deadLetter('user.deleted', {}, 'no schema');
    const cases: [string[], RegExp][] = [
      [[], /name a command/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['list', 'extra'], /unexpected argument "extra"/],
      [['list', '--limit', '0'], /--limit must be a positive whole number/],
      [['replay', '--limit', '2.5'], /--limit must be a positive whole number/],
      [['replay', '--limit', '-1'], /Option '--limit' argument is ambiguous/],
      [['replay', '--message-id', "'; DROP TABLE outbox; --"], /--message-id must be a UUID/],
      [['discard'], /discard takes --message-id, and only that/],
      [['discard', '--message-id', kept, '--limit', '5'], /discard takes --message-id, and only that/],
      [['replay', '--payloads'], /--payloads is for list/],
      [['list', '--message-id', kept], /--message-id is for replay and discard/],
      [['list', '--everything'], /Unknown option '--everything'/],
    ];

    for (const [args, why] of cases) {
      // Act
      const result = await run(args);

      // Assert
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stdout}`);
      assert.match(result.stderr, why, args.join(' '));
      assert.match(result.stderr, /Usage: npm run outbox:dead-letters/);
      assert.equal(result.stdout, '');
    }
    assert.deepEqual(await deadLetterIds(), [kept]);
    assert.equal((await db.pool.query("SELECT to_regclass('outbox') IS NOT NULL AS ok")).rows[0]?.ok, true);
  });

  it('When the database is unreachable or was never migrated, then it exits 1 saying which', async () => {
    // Arrange: a database that exists but has no tables
    const bareUrl = testDatabaseUrl('auth');
    await ensureDatabase(bareUrl, captureLogs('test', 'warn').logger);
    try {
      // Act
      const unreachable = await run(['list'], 'postgres://postgres@127.0.0.1:1/warren_nowhere');
      const bare = await run(['replay'], bareUrl);

      // Assert
      assert.equal(unreachable.code, 1);
      assert.match(unreachable.stderr, /^outbox:dead-letters: .*ECONNREFUSED/);
      assert.ok(!unreachable.stderr.includes('    at '), 'no stack trace');
      assert.equal(bare.code, 1);
      assert.equal(bare.stderr, 'outbox:dead-letters: this database has no outbox_dead_letters table yet: start the auth service once (it migrates it)\n');
    } finally {
      await dropDatabase(bareUrl);
    }
  });
});
