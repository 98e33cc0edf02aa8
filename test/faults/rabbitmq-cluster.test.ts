/**
 * A three-node RabbitMQ cluster of the test's own; RABBITMQ_URL lists its nodes. Notifications
 * stream at a steady rate to users with open sockets and to users offline; the node main-backend
 * is connected to stops mid-stream and comes back. The services fail over to another node: every
 * accepted send (retried with its Idempotency-Key, as the API docs say) is in each recipient's
 * inbox exactly once, and each open socket gets each exactly once, in id order (a socket that is
 * closed resumes with ?after=, as a client does). The times to resume are reported.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { announceUsers } from '../support/directory.js';
import { activeSigningKey, decodePayload, signWith } from '../support/forge.js';
import { call, sleep } from '../support/http.js';
import { startPrivateRabbitCluster, type PrivateRabbitCluster } from '../support/private-rabbitmq-cluster.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { openSocket } from '../support/ws-client.js';

interface Item {
  id: string;
  data: { n?: number };
}

const ONLINE = 4;
const OFFLINE = 2;
/** One send every 20 ms: 50 a second, each to every user. */
const SEND_EVERY_MS = 20;

/** A user's socket that reopens with ?after=<last id> whenever it closes, collecting what arrives. */
function followSocket(url: string, token: string) {
  const items: Item[] = [];
  /** When each item arrived. */
  const arrivedAt: number[] = [];
  let reopened = 0;
  let stopped = false;
  let current: ReturnType<typeof openSocket> | undefined;
  const done = (async () => {
    while (!stopped) {
      const last = items.at(-1)?.id;
      current = openSocket(`${url}?token=${encodeURIComponent(token)}${last ? `&after=${encodeURIComponent(last)}` : ''}`);
      for (;;) {
        const frame = await current.next(1000).catch((err: Error) => err);
        if (frame instanceof Error) {
          if (stopped) return;
          // No frame for a second: still open (a quiet stream) or closed (reopen it)?
          if (current.ws.readyState === current.ws.OPEN || current.ws.readyState === current.ws.CONNECTING) continue;
          break;
        }
        if (frame.type === 'notification') {
          items.push(frame.notification as Item);
          arrivedAt.push(Date.now());
        }
      }
      reopened += 1;
      await sleep(200);
    }
  })();
  return {
    items,
    arrivedAt,
    reopens: () => reopened,
    async stop() {
      stopped = true;
      current?.close();
      await done;
    },
  };
}

/** A login's status, retried for up to 10 s while it answers 503 (the failover in progress). */
async function retryLogin(stack: Stack): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await login(stack).then(
      () => 200,
      (err: Error) => Number(/login failed: (\d+)/.exec(err.message)?.[1] ?? 0),
    );
    if (status !== 503 || Date.now() > deadline) return status;
    await sleep(250);
  }
}

async function inboxOf(stack: Stack, token: string): Promise<Item[]> {
  const items: Item[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await call<{ items: Item[]; nextCursor: string | null }>(
      `${stack.notificationUrl}/inbox?limit=100${before ? `&before=${before}` : ''}`,
      { token },
    );
    assert.equal(page.status, 200);
    items.push(...page.body.items);
    if (!page.body.nextCursor) return items;
    before = page.body.nextCursor;
  }
}

describe('a RabbitMQ cluster losing the node the services use', () => {
  let cluster: PrivateRabbitCluster;
  let stack: Stack;
  /** A login's status while the node was away (measured by the stream test). */
  let loginWhileDown: number | undefined;
  before(async () => {
    cluster = await startPrivateRabbitCluster(3);
    stack = await startStack({ RABBITMQ_URL: cluster.url });
  });
  after(async () => {
    await stack?.stop();
    await cluster?.remove();
  });

  it('When the node main-backend uses stops mid-stream and returns, then the services fail over and nothing accepted is lost or duplicated, in inboxes or on sockets', { timeout: 180_000 }, async (t) => {
    // Arrange: users online (a socket each) and offline, known to the directory
    const admin = await login(stack);
    const key = await activeSigningKey(stack);
    const claims = decodePayload(admin.accessToken);
    const mint = (sub: string) => {
      const now = Math.floor(Date.now() / 1000);
      return signWith(key, { ...claims, sub, jti: randomUUID(), iat: now, exp: now + 900 });
    };
    const users = Array.from({ length: ONLINE + OFFLINE }, () => randomUUID());
    await announceUsers(stack.env, users);
    const tokens = users.map(mint);
    const sockets = tokens.slice(0, ONLINE).map((token) => followSocket(stack.notificationWsUrl, token));

    // The node main-backend is on: the last one its broker connection logged.
    const connectedTo = () => {
      const line = stack.logs.main.lines.filter((l) => l.message === 'broker connected').at(-1);
      return cluster.nodeOf(String(line?.broker));
    };
    const victim = connectedTo();

    const accepted: { n: number; startedAt: number; at: number }[] = [];
    /** One send, retried with its key until it is accepted (bounded). */
    const send = async (n: number): Promise<void> => {
      const key = randomUUID();
      const startedAt = Date.now();
      const deadline = startedAt + 60_000;
      for (let wait = 100; Date.now() < deadline; wait = Math.min(wait * 2, 2000)) {
        const res = await call(`${stack.mainUrl}/notifications`, {
          token: admin.accessToken,
          headers: { 'idempotency-key': key },
          body: { recipients: { userIds: users }, title: `n${n}`, body: 'stream', data: { n } },
        }).catch(() => ({ status: 0 }));
        if (res.status === 202) {
          accepted.push({ n, startedAt, at: Date.now() });
          return;
        }
        assert.ok([0, 503, 504].includes(res.status), `a failed send answers 503/504, not ${res.status}`);
        await sleep(wait);
      }
      throw new Error(`send ${n} never accepted`);
    };
    let next = 0;
    let sending = true;
    const senders = (async () => {
      const inFlight: Promise<void>[] = [];
      while (sending) {
        inFlight.push(send(next++));
        await sleep(SEND_EVERY_MS);
      }
      await Promise.all(inFlight);
    })();

    // Act: stop main-backend's node mid-stream, bring it back, stream on a little
    await sleep(3000);
    const stoppedAt = Date.now();
    const firstAfterStop = next;
    await victim.stop('SIGTERM');
    await sleep(6000);
    const failedOverTo = connectedTo();
    // Logging in is an RPC to auth: its request queue must be served while the node is away.
    loginWhileDown = await retryLogin(stack);
    await victim.start();
    await sleep(3000);
    sending = false;
    await senders;
    const sent = next;

    // Assert: every accepted send in every inbox once, on every socket once and in order
    assert.equal(accepted.length, sent);
    const expected = [...Array(sent).keys()];
    const deadline = Date.now() + 60_000;
    const inboxes: Item[][] = [];
    for (const token of tokens) {
      let inbox: Item[] = [];
      while (Date.now() < deadline && (inbox = await inboxOf(stack, token)).length < sent) await sleep(500);
      inboxes.push(inbox);
    }
    while (Date.now() < deadline && sockets.some((s) => s.items.length < sent)) await sleep(200);
    await Promise.all(sockets.map((s) => s.stop()));

    const firstAccepted = Math.min(...accepted.filter((a) => a.startedAt >= stoppedAt).map((a) => a.at)) - stoppedAt;
    // The first frame, on any socket, of a notification sent after the stop began.
    const firstDelivered =
      Math.min(...sockets.flatMap((s) => s.items.flatMap((i, k) => ((i.data.n ?? -1) >= firstAfterStop ? [s.arrivedAt[k] as number] : [])))) - stoppedAt;
    t.diagnostic(
      `${sent} sends to ${users.length} users (${ONLINE} online); main-backend moved from ${victim.nodeName} to ${failedOverTo.nodeName}; ` +
        `first send accepted ${firstAccepted} ms and first delivered on a socket ${firstDelivered} ms after the stop; socket reopens: ${sockets.map((s) => s.reopens()).join(', ')}; ` +
        `a login while the node was away answered ${loginWhileDown}`,
    );

    assert.notEqual(failedOverTo, victim, 'main-backend failed over to another node');
    assert.equal(await retryLogin(stack), 200, 'a login works after the node is back');
    inboxes.forEach((inbox, u) => {
      const ns = inbox.map((i) => i.data.n as number);
      const lost = expected.filter((n) => !ns.includes(n));
      const twice = ns.filter((n, i) => ns.indexOf(n) !== i);
      assert.deepEqual({ user: u, lost, twice }, { user: u, lost: [], twice: [] }, 'inbox: 0 lost, 0 duplicated');
    });
    sockets.forEach((s, u) => {
      const ids = s.items.map((i) => i.id);
      const ns = new Set(s.items.map((i) => i.data.n));
      assert.equal(new Set(ids).size, ids.length, `socket ${u}: no notification twice`);
      assert.deepEqual(ids, [...ids].sort(), `socket ${u}: in id order`);
      assert.deepEqual(expected.filter((n) => !ns.has(n)), [], `socket ${u}: 0 lost`);
    });
  });

  // Known gap (docs/decisions/0022-broker-cluster.md): auth's RPC request queue is a durable
  // classic queue, which lives on the one node it was declared on; while that node is away
  // logins and session checks answer 503 (sends go on while their session check is cached).
  it('When the node holding the auth RPC queue is away, then a login still works', { todo: 'the RPC request queue lives on one node' }, () => {
    assert.equal(loginWhileDown, 200);
  });
});
