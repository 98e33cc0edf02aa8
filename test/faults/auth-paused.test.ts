/**
 * Auth unreachable while the verifiers keep serving. Auth runs as a process of its own, which
 * the test freezes (SIGSTOP: it keeps its broker and database connections and answers nothing,
 * as a stalled host or a partition does), thaws (SIGCONT), and later kills (SIGKILL) and starts
 * again. Main-backend (two replicas: one that served traffic, one that never did) and the
 * notification service run on, with the public keys they fetched before.
 *
 * While auth cannot answer, for valid tokens: `GET /inbox` 200, a new socket gets `ready` and
 * the notifications sent meanwhile, `/.well-known/jwks.json` answers the known keys at once on
 * both main-backend replicas, a send by a sender whose session auth confirmed live shortly
 * before is accepted (decision 0026), and every replica stays ready. Still refused: a forged,
 * an expired and an unsigned token (401 / 4001); a send whose session auth never confirmed
 * (503/504: it cannot be told); a session whose end is announced on the broker meanwhile
 * (401 within about a second, the stale "live" answer notwithstanding). Once auth is back:
 * logins, logouts and sends work as before, on the sockets already open.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqplib from 'amqplib';
import { ROUTING_KEYS, topology } from '@warren/shared/contracts/topology';
import { loadMainConfig } from '../../services/main-backend/src/config.js';
import { createMainBackendService, type MainBackendService } from '../../services/main-backend/src/service.js';
import { loadNotificationConfig } from '../../services/notification/src/config.js';
import { createNotificationService, type NotificationService } from '../../services/notification/src/service.js';
import { waitForDirectory } from '../support/directory.js';
import { deleteNamespace, dropDatabase, isolatedEnv } from '../support/env.js';
import { activeSigningKey, decodePayload, signWith, unsignedToken } from '../support/forge.js';
import { call, type JsonResponse } from '../support/http.js';
import { captureLogs, type CapturedLogs } from '../support/logs.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import type { Stack } from '../support/stack.js';
import { ADMIN } from '../support/stack.js';
import { until } from '../support/wait.js';
import { openSocket, type TestSocket } from '../support/ws-client.js';

/** Short lifetimes, so the outage outlasts the key cache and the session-check cache within seconds. */
const RPC_TIMEOUT_MS = 3000;

interface Session {
  accessToken: string;
  user: { id: string };
  session: { id: string; expiresAt: string };
}

describe('auth unreachable: the verifiers keep serving with the keys they have', () => {
  const env: Record<string, string> = {
    ...isolatedEnv(),
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    AUTH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    LOG_LEVEL: 'info',
    JWKS_CACHE_SECONDS: '1',
    SESSION_CHECK_CACHE_SECONDS: '1',
    RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS),
  };
  let auth: ServiceProcess;
  let main: MainBackendService;
  let idle: MainBackendService;
  let notification: NotificationService;
  const logs = { main: captureLogs('main-backend'), idle: captureLogs('main-backend'), notification: captureLogs('notification') };
  let mainUrl: string;
  let idleUrl: string;
  let inboxUrl: string;
  let wsUrl: string;
  const sockets: TestSocket[] = [];

  before(async () => {
    auth = await startServiceProcess('auth', env);
    main = createMainBackendService(loadMainConfig(env), { logger: logs.main.logger });
    idle = createMainBackendService(loadMainConfig(env), { logger: logs.idle.logger });
    notification = createNotificationService(loadNotificationConfig(env), { logger: logs.notification.logger });
    await Promise.all([main.start(), idle.start(), notification.start()]);
    mainUrl = `http://127.0.0.1:${main.port()}`;
    idleUrl = `http://127.0.0.1:${idle.port()}`;
    inboxUrl = `http://127.0.0.1:${notification.port()}/inbox`;
    wsUrl = `ws://127.0.0.1:${notification.port()}/ws`;
    await waitForDirectory(env, 1);
  });
  after(async () => {
    for (const s of sockets) s.close();
    await Promise.allSettled([main?.stop(), idle?.stop(), notification?.stop()]);
    await auth?.stop();
    await Promise.allSettled([
      dropDatabase(env.AUTH_DATABASE_URL as string),
      dropDatabase(env.MAIN_DATABASE_URL as string),
      dropDatabase(env.NOTIFICATION_DATABASE_URL as string),
      deleteNamespace(env.BROKER_NAMESPACE as string),
    ]);
  });

  async function login(): Promise<Session> {
    const res = await call(`${mainUrl}/login`, { body: { email: ADMIN.email, password: ADMIN.password } });
    assert.equal(res.status, 200, `login: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as Session;
  }
  const send = (from: Session, title: string) =>
    call(`${mainUrl}/notifications`, { token: from.accessToken, body: { recipients: { userIds: [from.user.id] }, title, body: 'x' } });
  const inbox = (token: string) => call(inboxUrl, { token });
  const jwks = (url: string) => call(`${url}/.well-known/jwks.json`);
  const ready = (url: string) => call(`${url}/readyz`);
  const describeRes = (res: JsonResponse) => `${res.status} ${JSON.stringify(res.body)}`;

  async function openReady(token: string): Promise<TestSocket> {
    const socket = openSocket(`${wsUrl}?token=${token}`);
    sockets.push(socket);
    const first = await Promise.race([socket.next(10_000).then((frame) => ({ frame })), socket.closed.then((closed) => ({ closed }))]);
    assert.ok('frame' in first && first.frame.type === 'ready', `the socket got ${JSON.stringify(first)}`);
    return socket;
  }

  /** The next notification frame on `socket` (read-state frames are skipped). */
  async function nextNotification(socket: TestSocket): Promise<{ notificationId: string; title: string }> {
    for (;;) {
      const frame = await socket.next(10_000);
      if (frame.type === 'notification') return frame.notification as { notificationId: string; title: string };
    }
  }

  /** Announces the end of `s` on the broker, as auth's outbox relay does. */
  async function announceEnded(s: Session): Promise<void> {
    const conn = await amqplib.connect(env.RABBITMQ_URL as string);
    try {
      const ch = await conn.createConfirmChannel();
      const message = { sessionId: s.session.id, userId: s.user.id, endedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 3_600_000).toISOString() };
      ch.publish(topology(env.BROKER_NAMESPACE as string).exchanges.events.name, ROUTING_KEYS.sessionEnded, Buffer.from(JSON.stringify(message)), {
        messageId: randomUUID(),
        contentType: 'application/json',
        type: ROUTING_KEYS.sessionEnded,
      });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
  }

  /** Tokens with exactly one thing wrong, made while auth still answers. */
  async function badTokens(valid: Session) {
    const key = await activeSigningKey({ env } as unknown as Stack);
    const claims = decodePayload(valid.accessToken);
    const now = Math.floor(Date.now() / 1000);
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    return {
      expired: signWith(key, { ...claims, iat: now - 3600, exp: now - 1800 }),
      forged: signWith({ kid: key.kid, privateKey: stranger, publicPem: '' }, claims),
      unsigned: unsignedToken({ alg: 'none', typ: 'at+jwt', kid: key.kid }, claims),
    };
  }

  async function assertRefused(name: string, token: string) {
    const res = await inbox(token);
    assert.equal(res.status, 401, `${name} at /inbox: ${describeRes(res)}`);
    const sent = await send({ accessToken: token, user: { id: randomUUID() }, session: { id: '', expiresAt: '' } }, 'never');
    assert.equal(sent.status, 401, `${name} at POST /notifications: ${describeRes(sent)}`);
    assert.equal((await openSocket(`${wsUrl}?token=${token}`).closed).code, 4001, `${name} on a socket`);
  }

  /** Waits until both verifiers have tried to refresh their keys and failed (traffic starts the refresh). */
  async function untilRefreshFailed(token: string) {
    const failed = (l: CapturedLogs) => l.lines.some((line) => String(line.message).includes('refreshing the public keys failed'));
    const mark = { main: logs.main.lines.length, notification: logs.notification.lines.length };
    await until(
      async () => {
        await Promise.all([inbox(token), jwks(mainUrl)]);
        const fresh = (l: CapturedLogs, from: number) => failed({ ...l, lines: l.lines.slice(from) });
        return fresh(logs.main, mark.main) && fresh(logs.notification, mark.notification);
      },
      'a background key refresh to fail on main-backend and notification',
      30_000,
      250,
    );
  }

  it('When auth is frozen (SIGSTOP), then valid tokens keep working, bad ones are refused, and all is normal after SIGCONT', { timeout: 120_000 }, async (t) => {
    // Arrange: three sessions. The sender sends once (auth confirms its session live); the
    // reader's tokens no verifier has seen yet; the third will be ended on the broker.
    const sender = await login();
    const reader = await login();
    const revoked = await login();
    for (const s of [sender, revoked]) assert.equal((await send(s, 'before')).status, 202);
    // Stored, so that the sockets below see only what is sent after they open.
    await until(async () => ((await inbox(reader.accessToken)).body.items as unknown[]).length === 2, 'the first sends to be stored');
    const keys = await jwks(mainUrl);
    assert.equal(keys.status, 200);
    const bad = await badTokens(reader);
    const before = await openReady(reader.accessToken);

    // Act
    auth.pause();
    try {
      await untilRefreshFailed(sender.accessToken);

      // Assert: reads with the known keys, and the key set itself, at once on both replicas
      assert.equal((await inbox(reader.accessToken)).status, 200, 'a token no verifier had seen');
      for (const url of [mainUrl, idleUrl]) {
        const started = Date.now();
        const res = await jwks(url);
        assert.equal(res.status, 200, `${url === idleUrl ? 'the idle' : 'the busy'} replica's JWKS: ${describeRes(res)}`);
        assert.deepEqual(res.body, keys.body);
        assert.ok(Date.now() - started < RPC_TIMEOUT_MS, 'answered from the cache, not after an RPC deadline');
        t.diagnostic(`JWKS of the ${url === idleUrl ? 'idle' : 'busy'} replica while frozen: 200 in ${Date.now() - started} ms`);
      }
      for (const url of [mainUrl, idleUrl, `http://127.0.0.1:${notification.port()}`]) {
        const res = await ready(url);
        assert.equal(res.status, 200, `${url} /readyz while auth is away: ${describeRes(res)}`);
      }

      // A new socket is ready; a send by the sender auth confirmed is accepted and delivered
      const during = await openReady(reader.accessToken);
      const firstStarted = Date.now();
      const accepted = await send(sender, 'while auth is frozen');
      assert.equal(accepted.status, 202, `a send on a recently confirmed session: ${describeRes(accepted)}`);
      t.diagnostic(`first send while frozen: 202 in ${Date.now() - firstStarted} ms`);
      for (const socket of [during, before]) assert.equal((await nextNotification(socket)).notificationId, accepted.body.id);
      // Auth is known to be away now: the next send does not wait out the RPC deadline first.
      const started = Date.now();
      assert.equal((await send(sender, 'again while frozen')).status, 202);
      assert.ok(Date.now() - started < RPC_TIMEOUT_MS, `a send took ${Date.now() - started} ms`);
      t.diagnostic(`next send while frozen: 202 in ${Date.now() - started} ms`);
      for (const socket of [during, before]) assert.equal((await nextNotification(socket)).title, 'again while frozen');
      const items = (await inbox(reader.accessToken)).body.items as { notificationId: string }[];
      assert.deepEqual(
        items.slice(0, 2).map((n) => n.notificationId).includes(accepted.body.id),
        true,
        'the inbox holds what was sent while auth was frozen',
      );

      // A session auth never confirmed cannot be told live: try again, not 202 and not 401
      const unconfirmed = await send(reader, 'unconfirmed');
      assert.ok(unconfirmed.status === 503 || unconfirmed.status === 504, `unconfirmed session: ${describeRes(unconfirmed)}`);

      // Refused as ever
      for (const [name, token] of Object.entries(bad)) await assertRefused(name, token);

      // An end announced on the broker wins over the stale "live" answer
      await announceEnded(revoked);
      await until(async () => (await send(revoked, 'after its end')).status === 401, 'the ended session to be refused by main-backend', 3000, 100);
      assert.equal((await send(revoked, 'after its end')).body.code, 'session_ended');
      assert.equal((await inbox(revoked.accessToken)).status, 401);
    } finally {
      auth.resume();
    }
    const resumed = Date.now();

    // Assert: after SIGCONT, everything as before, on the sockets already open
    await afterAuthIsBack(sender, reader, keys.body, [before]);
    t.diagnostic(`after SIGCONT: login, confirmed send, logout refused everywhere within ${Date.now() - resumed} ms`);
  });

  it('When auth is killed (SIGKILL), then the same holds; once a new auth process runs, all is normal', { timeout: 120_000 }, async (t) => {
    // Arrange
    const sender = await login();
    const reader = await login();
    const first = await send(sender, 'before the kill');
    assert.equal(first.status, 202);
    const keys = await jwks(mainUrl);
    const bad = await badTokens(reader);
    // By its id: counting the inbox after the send raced with its storing.
    await until(
      async () => ((await inbox(reader.accessToken)).body.items as { notificationId: string }[]).some((i) => i.notificationId === first.body.id),
      'the send to be stored',
    );
    const before = await openReady(reader.accessToken);

    // Act
    await auth.kill();
    await untilRefreshFailed(sender.accessToken);

    // Assert: as while frozen
    assert.equal((await inbox(reader.accessToken)).status, 200);
    for (const url of [mainUrl, idleUrl]) assert.deepEqual((await jwks(url)).body, keys.body);
    for (const url of [mainUrl, idleUrl, `http://127.0.0.1:${notification.port()}`]) assert.equal((await ready(url)).status, 200);
    const during = await openReady(reader.accessToken);
    const sendStarted = Date.now();
    const accepted = await send(sender, 'while auth is dead');
    assert.equal(accepted.status, 202, describeRes(accepted));
    t.diagnostic(`first send while auth is dead: 202 in ${Date.now() - sendStarted} ms`);
    for (const socket of [during, before]) assert.equal((await nextNotification(socket)).notificationId, accepted.body.id);
    const loginNow = await call(`${mainUrl}/login`, { body: { email: ADMIN.email, password: ADMIN.password } });
    assert.ok(loginNow.status === 503 || loginNow.status === 504, `a login while auth is dead: ${describeRes(loginNow)}`);
    for (const [name, token] of Object.entries(bad)) await assertRefused(name, token);

    // Act: auth starts again (a new process, same database)
    auth = await startServiceProcess('auth', env);
    const restarted = Date.now();

    // Assert
    await afterAuthIsBack(sender, reader, keys.body, [before, during]);
    t.diagnostic(`after the new auth process said "started": all normal within ${Date.now() - restarted} ms`);
  });

  /** Logins, confirmed sends on open sockets, logouts (refused at once everywhere), the same keys. */
  async function afterAuthIsBack(sender: Session, reader: Session, keys: unknown, open: TestSocket[]) {
    await until(async () => (await call(`${mainUrl}/login`, { body: { email: ADMIN.email, password: ADMIN.password } })).status === 200, 'logins to work again', 30_000, 200);
    const sent = await send(reader, 'auth is back');
    assert.equal(sent.status, 202, `the reader, now confirmed by auth: ${describeRes(sent)}`);
    for (const socket of open) assert.equal((await nextNotification(socket)).notificationId, sent.body.id);
    assert.equal((await call(`${mainUrl}/auth/logout`, { method: 'POST', token: sender.accessToken })).status, 204);
    await until(async () => (await send(sender, 'after logout')).status === 401, 'the logged-out sender to be refused', 5000, 100);
    await until(async () => (await inbox(sender.accessToken)).status === 401, 'the logged-out sender to be refused at /inbox', 5000, 100);
    for (const url of [mainUrl, idleUrl]) assert.deepEqual((await jwks(url)).body, keys);
  }
});
