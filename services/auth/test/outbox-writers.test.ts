/**
 * Every message auth writes to its outbox is built in TypeScript through its contract schema,
 * in the transaction of the change it reports: each writer's rows pass the schema the relay
 * checks them with, and a payload that drifts from the contract fails its own transaction (the
 * change with it) instead of leaving a row no one can publish. On a real database migrated
 * like the service's.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ROUTING_KEYS } from '@warren/shared/contracts/topology';
import { inTransaction } from '@warren/shared/db/database';
import { writeOutbox } from '@warren/shared/messaging/outbox';
import { LoginFailuresRepository } from '../src/db/login-failures-repository.js';
import { announce, AUTH_OUTBOX, OutboxRepository } from '../src/db/outbox-repository.js';
import { SessionsRepository } from '../src/db/sessions-repository.js';
import { UsersRepository } from '../src/db/users-repository.js';
import { migratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database.js';

const TTL_SECONDS = 900;
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface OutboxRow {
  id: number;
  routingKey: string;
  payload: Record<string, unknown>;
}

describe('auth outbox writers: every payload from its contract', () => {
  let db: MigratedDatabase;
  let users: UsersRepository;
  let sessions: SessionsRepository;

  before(async () => {
    db = await migratedDatabase('auth');
    users = new UsersRepository(db.pool);
    sessions = new SessionsRepository(db.pool, TTL_SECONDS);
  });
  after(() => db.drop());

  /** The outbox rows written after `afterId`, in id order. */
  async function rowsAfter(afterId: number): Promise<OutboxRow[]> {
    const { rows } = await db.pool.query<OutboxRow>(
      'SELECT id, routing_key AS "routingKey", payload FROM outbox WHERE id > $1 ORDER BY id',
      [afterId],
    );
    return rows;
  }
  async function lastId(): Promise<number> {
    const { rows } = await db.pool.query<{ id: number | null }>('SELECT max(id) AS id FROM outbox');
    return rows[0]?.id ?? 0;
  }
  /** Asserts each row passes the schema the relay will check it with, exactly as stored. */
  function assertContract(rows: OutboxRow[]): void {
    for (const r of rows) {
      const schema = AUTH_OUTBOX[r.routingKey as keyof typeof AUTH_OUTBOX];
      assert.ok(schema, `a known type: ${r.routingKey}`);
      assert.deepEqual(schema.parse(r.payload), r.payload, `${r.routingKey} stored as the contract parses it`);
    }
  }
  const newUser = (role: 'admin' | 'manager' | 'employee' = 'employee') =>
    users.createVerifiedIfAbsent({ email: `w-${randomUUID()}@warren.test`, name: 'Writer', role, passwordHash: 'x' });

  it('When a user is created, re-roled and announced again, then each user.upserted carries the version the change made', async () => {
    // Arrange
    const before = await lastId();

    // Act
    const user = await newUser();
    assert.ok(user);
    assert.equal(await newUser().then(() => 'second user'), 'second user');
    const changed = await users.changeRole(user.id, 'manager');
    const { users: announced, firstOutboxId, lastOutboxId } = await users.announceAll(1);

    // Assert
    assert.deepEqual(changed, { previous: 'employee' });
    const rows = await rowsAfter(before);
    assertContract(rows);
    const mine = rows.filter((r) => r.payload.userId === user.id).map((r) => [r.payload.role, r.payload.version]);
    assert.deepEqual(mine, [['employee', 1], ['manager', 2], ['manager', 2]]);
    assert.ok(rows.every((r) => r.routingKey === ROUTING_KEYS.userUpserted && ISO_MS.test(r.payload.occurredAt as string)));
    assert.equal(announced, rows.length - 3, 'every user once, a page of one at a time');
    assert.equal(lastOutboxId, rows.at(-1)?.id);
    assert.equal(firstOutboxId, rows.at(-announced)?.id);
    assert.deepEqual(Object.keys(user).sort(), ['createdAt', 'email', 'emailVerifiedAt', 'id', 'name', 'passwordHash', 'role']);
  });

  it('When an email already exists, then nothing is created and nothing is announced', async () => {
    const email = `dup-${randomUUID()}@warren.test`;
    assert.ok(await users.createVerifiedIfAbsent({ email, name: 'A', role: 'employee', passwordHash: 'x' }));
    const before = await lastId();

    const again = await users.createVerifiedIfAbsent({ email: email.toUpperCase(), name: 'B', role: 'admin', passwordHash: 'y' });

    assert.equal(again, undefined);
    assert.deepEqual(await rowsAfter(before), []);
  });

  it('When sessions end (one, then all, then inside a demotion), then each live one is announced once with the window its tokens may live', async () => {
    // Arrange: three sessions, one long past its expiry (no token of it can be valid any more)
    const user = await newUser('admin');
    assert.ok(user);
    await newUser('admin'); // so the demotion below does not remove the last admin
    const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const expires = [new Date(Date.now() + 3_600_000), new Date(Date.now() + 3_600_000), new Date(Date.now() - 86_400_000), new Date(Date.now() + 3_600_000)];
    for (const [i, id] of ids.entries()) {
      await sessions.create({ id, userId: user.id, expiresAt: expires[i] as Date, refreshTokenHash: randomBytes(32) });
    }
    const before = await lastId();

    // Act
    assert.equal(await sessions.revoke(user.id, ids[0] as string), true);
    assert.equal(await sessions.revoke(user.id, ids[0] as string), false, 'an ended session is not ended twice');
    assert.equal(await sessions.revoke(randomUUID(), ids[1] as string), false, "another user's session is not theirs to end");
    const ended = await sessions.revokeAll(user.id);
    const later = randomUUID();
    await sessions.create({ id: later, userId: user.id, expiresAt: new Date(Date.now() + 3_600_000), refreshTokenHash: randomBytes(32) });
    const demoted = await users.changeRole(user.id, 'employee', (tx) => sessions.revokeAll(user.id, tx));

    // Assert
    assert.deepEqual(demoted, { previous: 'admin' });
    assert.deepEqual(ended.sort(), [ids[1], ids[2], ids[3]].sort());
    const rows = await rowsAfter(before);
    assertContract(rows);
    const announcedSessions = rows.filter((r) => r.routingKey === ROUTING_KEYS.sessionEnded).map((r) => r.payload.sessionId);
    assert.deepEqual(announcedSessions.sort(), [ids[0], ids[1], ids[3], later].sort(), 'the long-expired one is not announced');
    for (const r of rows.filter((x) => x.routingKey === ROUTING_KEYS.sessionEnded)) {
      const window = Date.parse(r.payload.expiresAt as string) - Date.parse(r.payload.endedAt as string);
      assert.equal(window, (TTL_SECONDS + 60) * 1000);
      assert.equal(r.payload.userId, user.id);
    }
    const demotion = rows.filter((r) => r.routingKey === ROUTING_KEYS.userUpserted);
    assert.deepEqual(demotion.map((r) => r.payload.role), ['employee']);
    assert.ok((demotion[0]?.id as number) < (rows.at(-1)?.id as number), 'the demotion is announced before the sessions it ends');
  });

  it('When the failed-login alert is claimed, then its email.requested passes the contract, leaving out a name the contract refuses', async () => {
    const failures = new LoginFailuresRepository(db.pool);
    const policy = { threshold: 2, lockSeconds: 60, windowSeconds: 3600 };
    const before = await lastId();
    const plain = { id: (await newUser())?.id as string, email: 'plain@warren.test', name: 'Plain Name' };
    const long = { id: (await newUser())?.id as string, email: 'long@warren.test', name: 'N'.repeat(101) };

    for (const u of [plain, long]) {
      assert.equal(await failures.countForAlert(u, policy), false, 'below the threshold');
      assert.equal(await failures.countForAlert(u, policy), true, 'claimed at the threshold');
      assert.equal(await failures.countForAlert(u, policy), false, 'once per window');
    }

    const rows = (await rowsAfter(before)).filter((r) => r.routingKey === ROUTING_KEYS.emailRequested);
    assertContract(rows);
    assert.deepEqual(
      rows.map((r) => [r.payload.to, r.payload.template, r.payload.variables]),
      [
        ['plain@warren.test', 'login_failures', { name: 'Plain Name', failedLogins: 2 }],
        ['long@warren.test', 'login_failures', { failedLogins: 2 }],
      ],
    );
  });

  it('When a payload drifts from its contract, then the write throws and the change it reports rolls back with it', async () => {
    // Arrange
    const user = await newUser();
    assert.ok(user);
    const before = await lastId();
    const drifted = [
      { userId: user.id, role: 'overlord', version: 2, occurredAt: new Date().toISOString() },
      { userId: user.id, role: 'manager', version: 0, occurredAt: new Date().toISOString() },
      { userId: 'not-a-uuid', role: 'manager', version: 2, occurredAt: new Date().toISOString() },
      { userId: user.id, role: 'manager', version: 2, occurredAt: 'yesterday' },
      { userId: user.id, role: 'manager', version: 2, occurredAt: new Date().toISOString(), email: 'leak@warren.test' },
      { userId: user.id, role: 'manager', version: 2 },
    ];

    for (const payload of drifted) {
      // Act: the change and its (drifted) announcement, as a repository would write them
      const attempt = inTransaction(db.pool, async (tx) => {
        await tx.query("UPDATE users SET role = 'manager', version = version + 1 WHERE id = $1", [user.id]);
        await announce(tx, ROUTING_KEYS.userUpserted, [payload as never]);
      });

      // Assert
      await assert.rejects(attempt, { name: 'ZodError' }, JSON.stringify(payload));
    }
    assert.deepEqual((await db.pool.query('SELECT role, version FROM users WHERE id = $1', [user.id])).rows, [{ role: 'employee', version: 1 }]);
    assert.deepEqual(await rowsAfter(before), []);
  });

  it('When a type is not in the catalogue, then nothing is written (a schema is required, not assumed)', async () => {
    const before = await lastId();

    await assert.rejects(writeOutbox(db.pool, AUTH_OUTBOX, 'user.deleted' as never, [{} as never]), /no schema for outbox routing key "user.deleted"/);
    await assert.rejects(writeOutbox(db.pool, AUTH_OUTBOX, '__proto__' as never, [{} as never]), /no schema/);

    assert.deepEqual(await rowsAfter(before), []);
  });

  it('When one write carries several payloads and one of them drifts, then none is written', async () => {
    const before = await lastId();
    const good = { sessionId: randomUUID(), userId: randomUUID(), endedAt: new Date().toISOString(), expiresAt: new Date().toISOString() };

    await assert.rejects(announce(db.pool, ROUTING_KEYS.sessionEnded, [good, { ...good, sessionId: '' }]), { name: 'ZodError' });
    const ids = await announce(db.pool, ROUTING_KEYS.sessionEnded, [good, { ...good, sessionId: randomUUID() }]);

    const rows = await rowsAfter(before);
    assert.deepEqual(rows.map((r) => r.id), ids, 'only the good pair, in order');
    assert.deepEqual(rows[0]?.payload, good);
    assert.deepEqual(await announce(db.pool, ROUTING_KEYS.sessionEnded, []), [], 'nothing to write is no statement');
    assert.deepEqual(await new OutboxRepository(db.pool).progressBetween(ids[0] as number, ids[1] as number), { pending: 2, deadLettered: 0 });
  });
});
