/**
 * A stranger hammering one account must not grow the audit log without bound (decision 0031,
 * amendment), tried through main-backend's public API on a real stack behind one trusted proxy
 * (TRUST_PROXY=1: X-Forwarded-For names the client) with the production rate limit (30 a
 * minute per address, per /56 for IPv6): from an IPv6 /48, the attacker locks their addresses
 * out of the admin's account with wrong passwords, reaches the account-wide cap, then keeps
 * trying from the locked addresses (423) and from fresh ones (429 login_throttled), each request
 * with a long user agent of its own. The account's refusals are a handful of rows whose
 * `details.repeats` add up to every refusal, which `GET /audit-events` answers; a repeat after
 * the window starts a new row; failures with unknown emails stay a row each, bounded by the rate
 * limit per address.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditPageSchema, type AuditEventItem } from '@warren/shared/contracts/audit';
import { call, type JsonResponse } from '../support/http.js';
import { startMailStack, type MailStack } from '../support/mail-stack.js';
import { ADMIN, login } from '../support/stack.js';

const THRESHOLD = 2;
/** The account-wide cap: past 20 × the threshold failures in the alert window, new addresses are refused unchecked. */
const ACCOUNT_CAP = 20 * THRESHOLD;
/** The auth service's pool (DATABASE_POOL_MAX): refusals racing for a new row insert at most one each. */
const POOL = 10;

/** The attacker's /56 number `n` inside 2001:db8:77::/48, and a host in it. */
const attacker = (n: number, host = 1) => `2001:db8:77:${n.toString(16)}00::${host.toString(16)}`;

describe('repeated refusals in the audit log (one account hammered from a /48)', () => {
  let m: MailStack;
  let adminToken: string;
  let adminId: string;
  /** Every answer to the attacker, by status and code. */
  const answers = new Map<string, number>();
  let startedAt: number;

  before(async () => {
    m = await startMailStack({ TRUST_PROXY: '1', LOGIN_LOCKOUT_THRESHOLD: String(THRESHOLD), AUTH_RATE_LIMIT_PER_MINUTE: '30' });
    const admin = await login(m.stack);
    adminToken = admin.accessToken;
    adminId = admin.user.id;
  });
  after(async () => {
    await m?.stop();
  });

  const signIn = async (ip: string, password: string, userAgent: string, email = ADMIN.email): Promise<JsonResponse> => {
    const res = await call(`${m.stack.mainUrl}/login`, { body: { email, password }, headers: { 'x-forwarded-for': ip, 'user-agent': userAgent } });
    const key = `${res.status} ${res.body?.code}`;
    answers.set(key, (answers.get(key) ?? 0) + 1);
    return res;
  };
  const uaOf = (i: number) => `Mozilla/5.0 flood-${i} ${'A'.repeat(600)}`;
  /** The admin's audit rows of one event, as stored. */
  const stored = async (event: string) =>
    (
      await m.authDb.query<{ ip: string; details: { repeats?: number; lastAt?: string } }>(
        'SELECT ip, details FROM audit_log WHERE user_id = $1 AND event = $2 ORDER BY id',
        [adminId, event],
      )
    ).rows;
  const times = (rows: { details: { repeats?: number } }[]) => rows.reduce((sum, r) => sum + (r.details.repeats ?? 1), 0);
  async function audit(query: string): Promise<AuditEventItem[]> {
    const res = await call<{ items: AuditEventItem[] }>(`${m.stack.mainUrl}/audit-events${query}`, { token: adminToken });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    auditPageSchema.parse(res.body);
    return res.body.items;
  }
  /** `count` requests, `width` at a time. */
  async function inParallel(count: number, width: number, one: (i: number) => Promise<unknown>) {
    for (let start = 0; start < count; start += width) {
      await Promise.all(Array.from({ length: Math.min(width, count - start) }, (_, k) => one(start + k)));
    }
  }

  it('When the attacker locks addresses out with wrong passwords, then hammers from them and from fresh ones, then a handful of rows count every refusal', async () => {
    startedAt = Date.now();
    // Arrange: 20 addresses (one per /56) each fail THRESHOLD times: each is locked out, and
    // together they reach the account-wide cap.
    for (let n = 0; n < ACCOUNT_CAP / THRESHOLD; n++) {
      for (let i = 0; i < THRESHOLD; i++) assert.ok([401, 423].includes((await signIn(attacker(n), `guess-${n}-${i}`, uaOf(n))).status));
    }

    // Act: 20 locked addresses × 20 more tries (423), and 40 fresh /56s × 15 tries (429), 20 at a
    // time — every one under the rate limit of its /56.
    const locked = 20 * 20;
    const fresh = 40 * 15;
    await inParallel(locked, 20, (i) => signIn(attacker(i % 20), `again-${i}`, uaOf(i)));
    await inParallel(fresh, 20, (i) => signIn(attacker(100 + (i % 40), 1 + Math.floor(i / 40)), `fresh-${i}`, uaOf(i)));

    // Assert: every answer a refusal of the kind expected, none by the rate limit
    assert.equal(answers.get('423 account_locked'), locked + ACCOUNT_CAP / THRESHOLD, JSON.stringify([...answers]));
    assert.equal(answers.get('429 login_throttled'), fresh, JSON.stringify([...answers]));
    assert.equal(answers.get('429 rate_limited'), undefined);

    // The rows: a few per kind (one per window, more only when refusals race), counting all
    const windows = 1 + Math.floor((Date.now() - startedAt) / 60_000);
    const refused = await stored('login_refused_locked');
    const throttled = await stored('login_throttled');
    assert.equal(times(refused), locked, 'every refusal of a locked address is counted');
    assert.equal(times(throttled), fresh, 'every refusal of a fresh address is counted');
    for (const [kind, rows] of [['login_refused_locked', refused], ['login_throttled', throttled]] as const) {
      assert.ok(rows.length <= POOL * windows, `${kind}: ${rows.length} rows for ${times(rows)} refusals`);
      assert.ok(rows.some((r) => (r.details.repeats ?? 1) > 1), `${kind}: counted, not a row each`);
    }
    const { rows: all } = await m.authDb.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log WHERE user_id = $1', [adminId]);
    const checked = ACCOUNT_CAP;
    assert.ok(
      (all[0]?.n as number) <= 1 + checked + ACCOUNT_CAP / THRESHOLD + 1 + 2 * POOL * windows,
      `${all[0]?.n} rows for the account after ${locked + fresh + checked} attempts: the sign-in, the checked failures, the locks, the alert and a few counted rows`,
    );
  });

  it('When the admin reads the account’s refusals, then each row says how many times it happened and when last; the address and device are the first one’s', async () => {
    const items = await audit(`?userId=${adminId}&event=login_throttled,login_refused_locked&limit=100`);
    const sum = (event: string) => items.filter((i) => i.event === event).reduce((s, i) => s + (i.details.repeats ?? 1), 0);
    assert.equal(sum('login_refused_locked'), 400);
    assert.equal(sum('login_throttled'), 600);
    const counted = items.filter((i) => i.details.repeats !== undefined);
    assert.ok(counted.length > 0);
    for (const item of counted) {
      assert.deepEqual(Object.keys(item.details).sort(), ['lastAt', 'repeats']);
      assert.ok(Date.parse(item.details.lastAt as string) >= Date.parse(item.at), `${item.details.lastAt} after ${item.at}`);
      assert.match(item.ip ?? '', /^2001:db8:77:/);
      assert.ok(item.userAgent?.startsWith('Mozilla/5.0 flood-') && item.userAgent.length === 256, 'cut like any other');
    }
  });

  it('When the account is refused again after the window, then a new row starts, and the old rows keep their counts', async () => {
    // Arrange: the account's counted rows as if written a minute and more ago
    await m.authDb.query(`UPDATE audit_log SET at = at - interval '61 seconds' WHERE user_id = $1 AND event = 'login_throttled'`, [adminId]);
    const before = await stored('login_throttled');

    // Act
    for (let i = 0; i < 3; i++) assert.equal((await signIn(attacker(200), `late-${i}`, 'late/1.0')).status, 429);

    // Assert
    const afterwards = await stored('login_throttled');
    assert.equal(afterwards.length, before.length + 1);
    assert.deepEqual(afterwards.slice(0, before.length), before, 'the old rows untouched');
    assert.equal(afterwards.at(-1)?.details.repeats, 3);
    const [newest] = await audit(`?userId=${adminId}&event=login_throttled&limit=1`);
    assert.equal(newest?.details.repeats, 3);
    assert.equal(newest?.ip, attacker(200));
  });

  it('When failures carry unknown emails (no account), then each is a row, and the rate limit of the address bounds them', async () => {
    const ip = attacker(250);
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) statuses.push((await signIn(ip, 'x', 'probe', `nobody-${i}@warren.test`)).status);
    assert.deepEqual(statuses.slice(0, 30), Array(30).fill(401));
    assert.deepEqual(statuses.slice(30), [429, 429], 'past 30 a minute: refused before auth');
    const { rows } = await m.authDb.query<{ n: number; counted: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE details ? 'repeats')::int AS counted FROM audit_log WHERE ip = $1 AND event = 'login_failed'`,
      [ip],
    );
    assert.deepEqual(rows[0], { n: 30, counted: 0 });
  });
});
