/**
 * The outbox relay and its dead letters, with auth's catalogue, on a real database migrated like
 * the service's and a publisher of the test's own (it records what would reach the broker, and
 * can be made to fail like a broker that is down). A row that can never publish moves to
 * `outbox_dead_letters` with why, in the batch's transaction, and the rows beside and behind it
 * go out in order; a broker failure dead-letters nothing; replays and discards do what they say.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { ROUTING_KEYS } from '@warren/shared/contracts/topology';
import { createMetrics, type Metrics } from '@warren/shared/metrics';
import { OutboxRelay } from '@warren/shared/messaging/outbox-relay';
import { discardOutboxDeadLetter, listOutboxDeadLetters, replayOutboxDeadLetters } from '@warren/shared/messaging/outbox-dead-letters';
import { PublishError, type Publisher } from '@warren/shared/messaging/publisher';
import { announce, AUTH_OUTBOX, OutboxRepository } from '../src/db/outbox-repository.js';
import { captureLogs, type CapturedLogs } from '../../../test/support/logs.js';
import { migratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database.js';

interface Sent {
  routingKey: string;
  messageId: string;
  body: unknown;
}

/** Records what it is asked to publish; `down` makes it fail as the real one does without a broker. */
class RecordingPublisher implements Pick<Publisher, 'publishValidated'> {
  readonly sent: Sent[] = [];
  down = false;
  /** Message ids whose publish fails (not confirmed), the others going out. */
  readonly unconfirmed = new Set<string>();

  async publishValidated(_exchange: string, routingKey: string, _schema: unknown, body: unknown, opts: { messageId?: string } = {}): Promise<string> {
    const messageId = opts.messageId as string;
    if (this.down) throw new PublishError(`broker not connected: ${routingKey} not published`);
    if (this.unconfirmed.has(messageId)) throw new PublishError(`broker did not confirm ${routingKey}`);
    this.sent.push({ routingKey, messageId, body });
    return messageId;
  }
}

const upserted = (userId: string, version: number, role: 'admin' | 'manager' | 'employee' = 'employee') => ({
  userId,
  role,
  version,
  occurredAt: new Date().toISOString(),
});

describe('the outbox relay and its dead letters', () => {
  let db: MigratedDatabase;
  let publisher: RecordingPublisher;
  let logs: CapturedLogs;
  let metrics: Metrics;
  const relay = (batchSize = 100) => new OutboxRelay({ pool: db.pool, publisher, exchange: 'x', schemas: AUTH_OUTBOX, logger: logs.logger, metrics, batchSize });

  before(async () => (db = await migratedDatabase('auth', 4)));
  after(() => db.drop());
  beforeEach(async () => {
    publisher = new RecordingPublisher();
    logs = captureLogs('outbox-relay-test');
    metrics = createMetrics('outbox-relay-test', 'test');
    await db.pool.query('TRUNCATE outbox, outbox_dead_letters');
  });
  afterEach(() => metrics.registry.clear());

  /** A row exactly as given, bypassing the contract (a bad deploy, a hand-written fix, an old replica). */
  async function insertRaw(routingKey: string, payloadJson: string): Promise<{ id: number; messageId: string }> {
    const { rows } = await db.pool.query<{ id: number; messageId: string }>(
      'INSERT INTO outbox (routing_key, payload) VALUES ($1, $2::jsonb) RETURNING id, message_id AS "messageId"',
      [routingKey, payloadJson],
    );
    return rows[0] as { id: number; messageId: string };
  }
  async function deadLetters(): Promise<{ outboxId: number; routingKey: string; error: string }[]> {
    const { rows } = await db.pool.query<{ outboxId: number; routingKey: string; error: string }>(
      'SELECT outbox_id AS "outboxId", routing_key AS "routingKey", error FROM outbox_dead_letters ORDER BY outbox_id',
    );
    return rows;
  }
  async function pending(): Promise<number> {
    return (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')).rows[0]?.n ?? -1;
  }
  async function deadLetteredCount(): Promise<Record<string, number>> {
    const metric = await metrics.registry.getSingleMetric('outbox_messages_dead_lettered_total')?.get();
    return Object.fromEntries((metric?.values ?? []).map((v) => [`${v.labels.routing_key}/${v.labels.reason}`, v.value]));
  }

  it('When a drifted row sits between good rows of one user, then it is dead-lettered with why and the good rows publish in order', async () => {
    // Arrange: three changes of one user, the middle one written by a drifted producer
    const userId = randomUUID();
    const [first] = await announce(db.pool, ROUTING_KEYS.userUpserted, [upserted(userId, 1)]);
    const bad = await insertRaw(ROUTING_KEYS.userUpserted, JSON.stringify({ userId, role: 'overlord', version: 2, occurredAt: 'now', secret: 'PII-123' }));
    const [third] = await announce(db.pool, ROUTING_KEYS.userUpserted, [upserted(userId, 3, 'manager')]);

    // Act
    await relay().drain();

    // Assert: the good rows went out in id order, with their own message ids, and are marked
    assert.deepEqual(publisher.sent.map((s) => (s.body as { version: number }).version), [1, 3]);
    assert.equal(await pending(), 0);
    const { rows: kept } = await db.pool.query<{ id: number }>('SELECT id FROM outbox ORDER BY id');
    assert.deepEqual(kept.map((r) => r.id), [first, third], 'the drifted row left the outbox');
    // ... the drifted one is a dead letter, with why (never the values), counted and logged once
    const [dead] = await deadLetters();
    assert.equal(dead?.outboxId, bad.id);
    for (const why of [/role: Invalid option/, /occurredAt: Invalid ISO datetime/, /Unrecognized key: "secret"/]) assert.match(dead?.error ?? '', why);
    for (const value of ['overlord', 'PII-123']) assert.ok(!dead?.error.includes(value), `the error does not carry "${value}"`);
    assert.deepEqual(await deadLetteredCount(), { 'user.upserted/invalid': 1 });
    const reports = logs.lines.filter((l) => l.message === 'outbox row dead-lettered');
    assert.equal(reports.length, 1);
    assert.equal(reports[0]?.outboxId, bad.id);
    assert.equal(reports[0]?.messageId, bad.messageId);
    assert.ok(!JSON.stringify(logs.lines).includes('PII-123'), 'the payload is never logged');
    assert.deepEqual(await new OutboxRepository(db.pool).progressBetween(first as number, third as number), { pending: 0, deadLettered: 1 });

    // Act 2: another round finds nothing to do and reports nothing again
    await relay().drain();
    assert.equal(publisher.sent.length, 2);
    assert.equal(logs.lines.filter((l) => l.message === 'outbox row dead-lettered').length, 1);
  });

  it('When rows are hostile (unknown or prototype routing keys, non-objects, huge, many keys), then each is dead-lettered with a bounded error', async () => {
    // Arrange
    const hostile = [
      ['user.deleted', JSON.stringify(upserted(randomUUID(), 1))],
      ['__proto__', '{}'],
      ['constructor', '{}'],
      ['x'.repeat(10_000), '{}'],
      [ROUTING_KEYS.userUpserted, 'null'],
      [ROUTING_KEYS.userUpserted, '"a string"'],
      [ROUTING_KEYS.userUpserted, '[1,2,3]'],
      [ROUTING_KEYS.sessionEnded, JSON.stringify({ sessionId: randomUUID(), userId: randomUUID(), endedAt: 'x'.repeat(1_000_000), expiresAt: 1 })],
      [ROUTING_KEYS.emailRequested, JSON.stringify(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i])))],
      [ROUTING_KEYS.emailRequested, JSON.stringify({ to: 'a@b.test', template: 'password_reset', variables: {}, requestedAt: new Date().toISOString() })],
    ] as const;
    for (const [key, payload] of hostile) await insertRaw(key, payload);
    await announce(db.pool, ROUTING_KEYS.userUpserted, [upserted(randomUUID(), 1)]);

    // Act
    await relay().drain();

    // Assert
    assert.equal(publisher.sent.length, 1, 'only the good row went out');
    const dead = await deadLetters();
    assert.equal(dead.length, hostile.length);
    for (const d of dead) assert.ok(d.error.length > 0 && d.error.length <= 500, `bounded error: ${d.error.length}`);
    assert.match(dead[0]?.error ?? '', /^no schema for routing key "user\.deleted"$/);
    assert.match(dead[1]?.error ?? '', /^no schema for routing key "__proto__"$/);
    assert.match(dead.at(-1)?.error ?? '', /variables\.code: this template needs a code/);
    assert.deepEqual(await deadLetteredCount(), {
      'unknown/unknown_type': 4,
      'user.upserted/invalid': 3,
      'session.ended/invalid': 1,
      'email.requested/invalid': 2,
    });
    const longKeyLog = logs.lines.find((l) => (l.routingKey as string).startsWith('xxx'));
    assert.equal((longKeyLog?.routingKey as string).length, 100, 'a long routing key is cut in the log');
  });

  it('When a whole batch is rows that can never publish, then the good row behind them still goes out in the same drain', async () => {
    // Arrange: more bad rows than a batch holds, ahead of a good one (this stalled the relay for good before)
    for (let i = 0; i < 5; i++) await insertRaw(ROUTING_KEYS.sessionEnded, '{}');
    const good = { sessionId: randomUUID(), userId: randomUUID(), endedAt: new Date().toISOString(), expiresAt: new Date().toISOString() };
    await announce(db.pool, ROUTING_KEYS.sessionEnded, [good]);

    // Act
    await relay(2).drain();

    // Assert
    assert.deepEqual(publisher.sent.map((s) => s.body), [good]);
    assert.equal((await deadLetters()).length, 5);
    assert.equal(await pending(), 0);
  });

  it('When the broker is down, then the drain fails, nothing is dead-lettered, and once it is back every row goes out once, in order', async () => {
    // Arrange
    const userId = randomUUID();
    await announce(db.pool, ROUTING_KEYS.userUpserted, [1, 2, 3].map((v) => upserted(userId, v)));
    publisher.down = true;

    // Act: rounds while the broker is down
    for (let i = 0; i < 3; i++) await assert.rejects(relay().drain(), PublishError);

    // Assert 1
    assert.equal(await pending(), 3);
    assert.deepEqual(await deadLetters(), []);
    assert.deepEqual(await deadLetteredCount(), {});

    // Act 2
    publisher.down = false;
    await relay().drain();
    await relay().drain();

    // Assert 2
    assert.deepEqual(publisher.sent.map((s) => (s.body as { version: number }).version), [1, 2, 3]);
    assert.equal(await pending(), 0);
  });

  it('When one publish is not confirmed, then the others are marked, it waits for the next round, and nothing is dead-lettered', async () => {
    const userId = randomUUID();
    await announce(db.pool, ROUTING_KEYS.userUpserted, [1, 2, 3].map((v) => upserted(userId, v)));
    const { rows } = await db.pool.query<{ messageId: string }>('SELECT message_id AS "messageId" FROM outbox ORDER BY id');
    publisher.unconfirmed.add(rows[1]?.messageId as string);

    await assert.rejects(relay().drain(), /did not confirm/);
    assert.equal(await pending(), 1);
    publisher.unconfirmed.clear();
    await relay().drain();

    // Version 3 overtook version 2: consumers keep the highest version, so the directory ends the same
    assert.deepEqual(publisher.sent.map((s) => (s.body as { version: number }).version), [1, 3, 2]);
    assert.deepEqual(publisher.sent.map((s) => s.messageId).slice(-1), [rows[1]?.messageId]);
    assert.deepEqual(await deadLetters(), []);
  });

  it('When two replicas drain at once, then every good row is published once and every bad row dead-lettered once', async () => {
    // Arrange: good and bad rows interleaved, more than one batch of each
    for (let i = 0; i < 40; i++) {
      if (i % 4 === 0) await insertRaw(ROUTING_KEYS.userUpserted, `{"n":${i}}`);
      else await announce(db.pool, ROUTING_KEYS.userUpserted, [upserted(randomUUID(), 1)]);
    }

    // Act
    await Promise.all([relay(5).drain(), relay(5).drain(), relay(5).drain()]);
    await relay(5).drain();

    // Assert
    assert.equal(publisher.sent.length, 30);
    assert.equal(new Set(publisher.sent.map((s) => s.messageId)).size, 30);
    assert.equal((await deadLetters()).length, 10);
    assert.equal(await pending(), 0);
  });

  describe('list, replay, discard', () => {
    it('When dead letters are listed, then each shows where it came from and why, and payloads only when asked', async () => {
      await insertRaw(ROUTING_KEYS.userUpserted, '{"email":"someone@warren.test"}');
      await insertRaw('user.deleted', '{}');
      await relay().drain();

      const first = await listOutboxDeadLetters(db.pool, { limit: 1 });
      const all = await listOutboxDeadLetters(db.pool, { withPayloads: true });

      assert.equal(first.total, 2);
      assert.equal(first.items.length, 1);
      assert.equal(first.items[0]?.routingKey, ROUTING_KEYS.userUpserted);
      assert.ok(!('payload' in (first.items[0] ?? {})), 'no payload unless asked');
      assert.ok(!JSON.stringify(first).includes('someone@'));
      assert.deepEqual(all.items.map((d) => d.payload), [{ email: 'someone@warren.test' }, {}]);
      assert.ok(all.items.every((d) => d.bytes > 0 && d.deadLetteredAt >= d.createdAt));
    });

    it('When dead letters are replayed, then one that would fail again is kept with why and a corrected one goes back out with its message id', async () => {
      // Arrange: two dead letters; the operator corrects one of them in SQL
      const userId = randomUUID();
      const broken = await insertRaw(ROUTING_KEYS.userUpserted, JSON.stringify({ ...upserted(userId, 1), role: 'overlord' }));
      const hopeless = await insertRaw(ROUTING_KEYS.userUpserted, '{}');
      await relay().drain();
      await db.pool.query(`UPDATE outbox_dead_letters SET payload = jsonb_set(payload, '{role}', '"manager"') WHERE message_id = $1`, [broken.messageId]);

      // Act
      const result = await replayOutboxDeadLetters(db.pool, AUTH_OUTBOX, {});
      await relay().drain();

      // Assert
      assert.deepEqual(result.replayed.map((d) => d.messageId), [broken.messageId]);
      assert.ok((result.replayed[0]?.newOutboxId as number) > hopeless.id, 'behind the rows already written');
      assert.deepEqual(result.kept.map((d) => d.messageId), [hopeless.messageId]);
      assert.match(result.kept[0]?.why ?? '', /userId: Invalid input/);
      assert.deepEqual(publisher.sent.map((s) => [s.messageId, s.routingKey, (s.body as { userId: string }).userId, (s.body as { role: string }).role]), [
        [broken.messageId, ROUTING_KEYS.userUpserted, userId, 'manager'],
      ]);
      assert.deepEqual((await deadLetters()).map((d) => d.outboxId), [hopeless.id]);
      assert.equal(await pending(), 0);
    });

    it('When a dead letter of a type this version did not know is replayed by one that does, then it publishes; a repeated replay does nothing', async () => {
      // Arrange: as if an older replica had dead-lettered a valid row during a rolling deploy
      const good = { sessionId: randomUUID(), userId: randomUUID(), endedAt: new Date().toISOString(), expiresAt: new Date().toISOString() };
      const messageId = randomUUID();
      await db.pool.query(
        `INSERT INTO outbox_dead_letters (outbox_id, message_id, routing_key, payload, created_at, error)
         VALUES (999999, $1, $2, $3, now(), 'no schema for routing key "session.ended"')`,
        [messageId, ROUTING_KEYS.sessionEnded, good],
      );

      // Act: two replays at once, then one more
      const both = await Promise.all([
        replayOutboxDeadLetters(db.pool, AUTH_OUTBOX, { messageId }),
        replayOutboxDeadLetters(db.pool, AUTH_OUTBOX, { messageId }),
      ]);
      const again = await replayOutboxDeadLetters(db.pool, AUTH_OUTBOX, { messageId });
      await relay().drain();

      // Assert
      assert.equal(both.flatMap((r) => r.replayed).length, 1, 'replayed once');
      assert.deepEqual(again, { replayed: [], kept: [] });
      assert.deepEqual(publisher.sent, [{ routingKey: ROUTING_KEYS.sessionEnded, messageId, body: good }]);
    });

    it('When replay is limited or names one message, then only those move', async () => {
      const rows = [];
      for (let i = 0; i < 4; i++) {
        rows.push(await insertRaw('user.deleted', '{}'));
      }
      await relay().drain();
      // These now "pass": the test's catalogue knows the type (as a newer version would)
      const newer = { ...AUTH_OUTBOX, 'user.deleted': AUTH_OUTBOX[ROUTING_KEYS.userUpserted].partial() };

      const one = await replayOutboxDeadLetters(db.pool, newer, { messageId: rows[2]?.messageId });
      const two = await replayOutboxDeadLetters(db.pool, newer, { limit: 2 });
      const none = await replayOutboxDeadLetters(db.pool, newer, { messageId: randomUUID() });

      assert.deepEqual(one.replayed.map((d) => d.messageId), [rows[2]?.messageId]);
      assert.deepEqual(two.replayed.map((d) => d.messageId), [rows[0]?.messageId, rows[1]?.messageId], 'oldest first');
      assert.deepEqual(none, { replayed: [], kept: [] });
      assert.deepEqual((await deadLetters()).map((d) => d.outboxId), [rows[3]?.id]);
    });

    it('When a dead letter is discarded, then it is gone for good; an unknown id discards nothing', async () => {
      const row = await insertRaw('user.deleted', '{}');
      await relay().drain();

      assert.deepEqual(await discardOutboxDeadLetter(db.pool, randomUUID()), []);
      const discarded = await discardOutboxDeadLetter(db.pool, row.messageId);

      assert.deepEqual(discarded.map((d) => d.outboxId), [row.id]);
      assert.deepEqual(await deadLetters(), []);
      assert.deepEqual(await discardOutboxDeadLetter(db.pool, row.messageId), []);
    });

    it('When the move to the dead letters fails, then the round publishes nothing and leaves every row in the outbox', async () => {
      // Arrange: the dead-letter table refuses rows (as a broken migration would)
      await insertRaw(ROUTING_KEYS.userUpserted, '{}');
      await announce(db.pool, ROUTING_KEYS.userUpserted, [upserted(randomUUID(), 1)]);
      await db.pool.query('ALTER TABLE outbox_dead_letters ADD CONSTRAINT refuse_all CHECK (false) NOT VALID');
      try {
        // Act
        await assert.rejects(relay().drain(), /refuse_all/);

        // Assert
        assert.deepEqual(publisher.sent, []);
        assert.equal(await pending(), 2);
        assert.equal(logs.lines.filter((l) => l.message === 'outbox row dead-lettered').length, 0, 'a move that rolled back is not reported');
      } finally {
        await db.pool.query('ALTER TABLE outbox_dead_letters DROP CONSTRAINT refuse_all');
      }
    });
  });
});
