/**
 * "What I sent" below HTTP: the cursor (opaque, exact to the microsecond, refusing anything the
 * database could not take), the use case over its port (one more row than asked tells if an older
 * page exists), and the repository on a database migrated like the service's: whom a send named
 * is recorded with it and read back bounded, only the sender's own sends are listed, pages meet
 * without gap or repeat even where sends share a created_at (a batch) or differ by a microsecond,
 * sends from before migration 0007 answer `to: null`, and the plan is index ranges and index
 * counts (no scan of either table, no sort), whatever the planner would pick on a small table.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Pool } from '@warren/shared/db/database';
import { migratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database.js';
import { planNodes } from '../../../test/support/query-plan.js';
import { InboxRepository } from '../src/db/inbox-repository.js';
import { sentBy as sentRows } from '../src/db/sends-repository.js';
import type { ListSentSends, NewInboxRow, NewSend } from '../src/domain/ports.js';
import { decodeSentCursor, encodeSentCursor, type SentPosition } from '../src/domain/sent-cursor.js';
import { sentBy } from '../src/domain/sent-list.js';

describe('the sent-list cursor', () => {
  it('When a position is encoded, then it decodes to the same time to the microsecond and id, in URL-safe characters', () => {
    const p: SentPosition = { at: '2030-02-28T23:59:59.000001Z', id: randomUUID() };
    const cursor = encodeSentCursor(p);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeSentCursor(cursor), p);
  });

  it('When a cursor is garbage, forged out of range, or too long, then it does not decode (the route answers 400)', () => {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const id = randomUUID();
    for (const bad of [
      '',
      'abc',
      '!!!!',
      'a'.repeat(300),
      enc(['2030-01-01T00:00:00.000000Z']),
      enc(['2030-01-01T00:00:00.000000Z', 'not-a-uuid']),
      enc(['2030-01-01T00:00:00.000Z', id]), // milliseconds only: not one this endpoint made
      enc(['2030-02-30T00:00:00.000000Z', id]),
      enc(['2030-01-01T24:00:00.000000Z', id]),
      enc(['0000-01-01T00:00:00.000000Z', id]),
      enc(['1969-12-31T23:59:59.999999Z', id]),
      enc(['2030-01-01T00:00:00.000000Z\u0000', id]),
      enc({ at: '2030-01-01T00:00:00.000000Z', id }),
      enc(['2030-01-01T00:00:00.000000Z', id, 'extra']),
      Buffer.from('not json').toString('base64url'),
    ]) {
      assert.equal(decodeSentCursor(bad), undefined, bad.slice(0, 60));
    }
    assert.deepEqual(decodeSentCursor(enc(['9999-12-31T23:59:59.999999Z', id.toUpperCase()])), { at: '9999-12-31T23:59:59.999999Z', id }, 'the last time PostgreSQL holds, the id lowered');
  });
});

describe('the sent-list use case through its port', () => {
  const position = (i: number): SentPosition => ({ at: `2030-01-01T00:00:00.00000${i}Z`, id: `00000000-0000-4000-8000-00000000000${i}` });
  function fakePort(total: number) {
    const calls: { senderId: string; limit: number; before: SentPosition | undefined }[] = [];
    const sent: ListSentSends = async (senderId, limit, before) => {
      calls.push({ senderId, limit, before });
      return Array.from({ length: Math.min(limit, total) }, (_, i) => ({ item: { id: position(i).id } as never, position: position(i) }));
    };
    return { calls, sent };
  }

  it('When more sends exist than asked for, then one more is asked of the port and the cursor names the last item shown', async () => {
    const port = fakePort(5);
    const page = await sentBy({ sent: port.sent }, 'me', { limit: 3 });
    assert.equal(port.calls[0]?.limit, 4);
    assert.equal(page.items.length, 3);
    assert.deepEqual(decodeSentCursor(page.nextCursor ?? ''), position(2));
  });

  it('When the page holds the last of them, then nextCursor is null; a cursor is passed on decoded, for the caller alone', async () => {
    const port = fakePort(3);
    const page = await sentBy({ sent: port.sent }, 'me', { limit: 3, before: encodeSentCursor(position(7)) });
    assert.equal(page.nextCursor, null);
    assert.deepEqual(port.calls, [{ senderId: 'me', limit: 4, before: position(7) }]);
  });

  it('When a cursor that does not decode reaches it anyway, then it is a 400 validation_failed, and the port is not asked', async () => {
    const port = fakePort(3);
    await assert.rejects(sentBy({ sent: port.sent }, 'me', { limit: 3, before: 'garbage' }), (err: { status?: number; code?: string }) => err.status === 400 && err.code === 'validation_failed');
    assert.equal(port.calls.length, 0);
  });
});

describe('the sends repository: what a sender sent', () => {
  let db: MigratedDatabase;
  let inbox: InboxRepository;

  before(async () => {
    db = await migratedDatabase('notification', 3);
    inbox = new InboxRepository(db.pool);
  });
  after(() => db?.drop());

  async function named(users: [string, string | null][]): Promise<void> {
    for (const [id, name] of users) {
      await db.pool.query(`INSERT INTO directory_users (user_id, role, version, name) VALUES ($1, 'employee', 1, $2)`, [id, name]);
    }
  }

  function send(senderId: string | null, over: Partial<NewSend> = {}): NewSend {
    return { notificationId: randomUUID(), senderId, title: 't', roles: [], userIds: [], unknownUserIds: [], contentHash: randomUUID(), ...over };
  }

  const rowsFor = (s: NewSend, userIds: string[]): NewInboxRow[] =>
    userIds.map((userId) => ({ notificationId: s.notificationId, userId, type: 'general', title: s.title, body: 'b', data: {} }));

  /** Every page of `senderId`'s list, `limit` at a time, through the use case and the repository. */
  async function allPages(senderId: string, limit: number): Promise<string[][]> {
    const pages: string[][] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await sentBy({ sent: (s, l, b) => sentRows(db.pool, s, l, b) }, senderId, { limit, before: cursor });
      pages.push(page.items.map((i) => i.id));
      if (!page.nextCursor) return pages;
      cursor = page.nextCursor;
      assert.ok(pages.length < 1000, 'paging ends');
    }
  }

  it('When a send named roles and people, then it is listed with them: the first five named with their names, the count of all, unknown ids cut to ten and counted', async () => {
    // Arrange: 12 named ids (7 known, 2 of them without a name in the directory; 5 unknown) and the employees
    const sender = randomUUID();
    const known = Array.from({ length: 7 }, () => randomUUID());
    const unknown = Array.from({ length: 12 }, () => randomUUID());
    await named([[sender, 'Mona Manager'], [known[0] as string, 'Erin Employee'], [known[1] as string, null], ...known.slice(2).map((id, i): [string, string] => [id, `Person ${i}`])]);
    const userIds = [unknown[0] as string, ...known, ...unknown.slice(1)];
    const s = send(sender, { title: 'Deploy', roles: ['employee', 'manager'], userIds, unknownUserIds: unknown });
    await inbox.insert(rowsFor(s, known), [s]);
    const seq = (await db.pool.query<{ seq: string }>('SELECT seq FROM inbox_items WHERE notification_id = $1 AND user_id = $2', [s.notificationId, known[0]])).rows[0]?.seq as string;
    await inbox.markRead(known[0] as string, [seq]);

    // Act
    const [row] = await sentRows(db.pool, sender, 20, undefined);

    // Assert
    assert.ok(row);
    assert.deepEqual(Object.keys(row.item), ['id', 'sender', 'title', 'createdAt', 'recipients', 'read', 'unknownUserIds', 'unknownUserCount', 'to']);
    assert.deepEqual({ ...row.item, createdAt: undefined }, {
      id: s.notificationId,
      sender: { id: sender, name: 'Mona Manager' },
      title: 'Deploy',
      createdAt: undefined,
      recipients: 7,
      read: 1,
      unknownUserIds: unknown.slice(0, 10),
      unknownUserCount: 12,
      to: {
        roles: ['employee', 'manager'],
        userCount: 19,
        users: [
          { id: unknown[0], name: null },
          { id: known[0], name: 'Erin Employee' },
          { id: known[1], name: null },
          { id: known[2], name: 'Person 0' },
          { id: known[3], name: 'Person 1' },
        ],
      },
    });
    assert.match(row.position.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(Date.parse(row.item.createdAt), Math.floor(Date.parse(row.position.at.replace(/(\.\d{3})\d{3}Z$/, '$1Z'))));
  });

  it("When others sent too (another user, the system), then a sender's list holds only their own sends", async () => {
    const [me, other] = [randomUUID(), randomUUID()];
    const mine = send(me);
    await inbox.insert([], [mine, send(other), send(null)]);
    assert.deepEqual((await sentRows(db.pool, me, 20, undefined)).map((r) => r.item.id), [mine.notificationId]);
    assert.deepEqual(await sentRows(db.pool, randomUUID(), 20, undefined), [], 'someone who never sent: empty');
  });

  it('When sends share a created_at (a batch) or differ by a microsecond, then pages of every size meet without gap or repeat, newest first', async () => {
    // Arrange: 13 sends in one transaction (one created_at), 6 a microsecond apart within one millisecond, 4 a second apart
    const sender = randomUUID();
    const batch = Array.from({ length: 13 }, () => send(sender));
    await inbox.insert([], batch);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const id = randomUUID();
      const at = i < 6 ? `2031-05-05 10:00:00.12345${i}+00` : `2031-05-05 10:00:0${i}+00`;
      await db.pool.query(`INSERT INTO sends (notification_id, sender_id, title, created_at, roles, user_ids) VALUES ($1, $2, 't', $3, '{}', '{}')`, [id, sender, at]);
      ids.push(id);
    }
    const expected = (
      await db.pool.query<{ id: string }>('SELECT notification_id AS id FROM sends WHERE sender_id = $1 ORDER BY created_at DESC, notification_id DESC', [sender])
    ).rows.map((r) => r.id);
    assert.equal(expected.length, 23);

    for (const limit of [1, 2, 5, 7, 13, 22, 23, 100]) {
      // Act
      const pages = await allPages(sender, limit);

      // Assert
      assert.deepEqual(pages.flat(), expected, `limit ${limit}: every send once, in order`);
      assert.ok(pages.slice(0, -1).every((p) => p.length === limit), `limit ${limit}: full pages but the last`);
      assert.ok((pages[pages.length - 1]?.length ?? 0) > 0 || pages.length === 1, `limit ${limit}: no empty last page after a cursor`);
    }
  });

  it('When a send was recorded before migration 0007 (roles and user ids NULL), then its item says to: null', async () => {
    const sender = randomUUID();
    const id = randomUUID();
    const phantom = randomUUID();
    await db.pool.query(`INSERT INTO sends (notification_id, sender_id, title, unknown_user_ids) VALUES ($1, $2, 'old', $3::uuid[])`, [id, sender, [phantom]]);
    const [row] = await sentRows(db.pool, sender, 20, undefined);
    assert.deepEqual({ ...row?.item, createdAt: undefined }, {
      id,
      sender: { id: sender, name: null },
      title: 'old',
      createdAt: undefined,
      recipients: 0,
      read: 0,
      unknownUserIds: [phantom],
      unknownUserCount: 1,
      to: null,
    });
  });

  it('When a page is planned, then it is a range of the sender index in its order (no sort) and each count an index scan (no scan of sends or inbox_items)', async () => {
    // Arrange: the statement the repository sends, with and without a cursor, captured
    const sender = randomUUID();
    const statements: { text: string; values: unknown[] }[] = [];
    const capturing = { query: (text: string, values: unknown[]) => (statements.push({ text, values }), db.pool.query(text, values)) } as unknown as Pool;
    await sentRows(capturing, sender, 21, undefined);
    await sentRows(capturing, sender, 21, { at: '2031-01-01T00:00:00.000001Z', id: randomUUID() });
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      // Seq scans priced out: what is left is what the indexes allow (a missing index still
      // shows as a Seq Scan), independent of how small the test's tables are.
      await client.query('SET LOCAL enable_seqscan = off');
      await client.query('SET LOCAL enable_bitmapscan = off');
      for (const { text, values } of statements) {
        // Act
        const nodes = await planNodes(client, text, values);

        // Assert
        assert.deepEqual(nodes.filter((n) => n['Node Type'] === 'Seq Scan' && ['sends', 'inbox_items'].includes(n['Relation Name'] ?? '')), [], 'no sequential scan');
        assert.equal(nodes.some((n) => n['Node Type'] === 'Sort'), false, 'the index gives the order');
        const sends = nodes.find((n) => n['Relation Name'] === 'sends');
        assert.equal(sends?.['Index Name'], 'sends_sender_created_idx');
        if (values.length > 4) assert.match(String(sends?.['Index Cond']), /created_at.*notification_id/, 'the cursor bounds the index range');
        const countIndexes = nodes.filter((n) => n['Relation Name'] === 'inbox_items').map((n) => `${n['Node Type']}: ${n['Index Name']}`).sort();
        assert.deepEqual(countIndexes, ['Index Only Scan: inbox_items_notification_read_idx', 'Index Only Scan: inbox_items_notification_user_key']);
      }
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
