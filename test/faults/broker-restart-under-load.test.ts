/**
 * The broker restarted, then crashed, under a steady send load, against a node of the test's own.
 * A client that retries a failed send with the same Idempotency-Key (as the API docs tell it to)
 * must find every accepted notification in the inbox exactly once, and an open socket must get
 * each of them exactly once, in id order, with no reconnect of its own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { call, sleep } from '../support/http.js';
import { startPrivateRabbit, type PrivateRabbit } from '../support/private-rabbitmq.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { openSocket, type TestSocket } from '../support/ws-client.js';

interface Item {
  id: string;
  data: { n?: number };
}

describe('broker restart and crash under load', () => {
  let node: PrivateRabbit;
  let stack: Stack;
  before(async () => {
    node = await startPrivateRabbit();
    stack = await startStack({ RABBITMQ_URL: node.url });
  });
  after(async () => {
    await stack?.stop();
    await node?.remove();
  });

  // Two broker starts and the catch-up take minutes on a busy 2-core machine: its own time limit.
  it('when the broker restarts and then crashes mid-stream, then nothing accepted is lost or duplicated, in inbox or on the socket', { timeout: 300_000 }, async (t) => {
    const admin = await login(stack);
    const socket: TestSocket = openSocket(`${stack.notificationWsUrl}?token=${admin.accessToken}`);
    assert.equal((await socket.next()).type, 'ready');
    const onSocket: Item[] = [];
    const collecting = (async () => {
      for (;;) {
        const frame = await socket.next(120_000).catch(() => undefined);
        if (!frame) return;
        if (frame.type === 'notification') onSocket.push(frame.notification as Item);
      }
    })();

    const acceptedAt: number[] = [];
    /** Time from a broker start to the first send accepted after it. */
    const recovery = (startedAt: number) => Math.min(...acceptedAt.filter((a) => a >= startedAt)) - startedAt;
    /** One send, retried with its key until it is accepted (bounded). */
    const send = async (n: number): Promise<void> => {
      const key = randomUUID();
      const deadline = Date.now() + 90_000;
      for (let wait = 100; Date.now() < deadline; wait = Math.min(wait * 2, 2000)) {
        const res = await call(`${stack.mainUrl}/notifications`, {
          token: admin.accessToken,
          headers: { 'idempotency-key': key },
          body: { recipients: { userIds: [admin.user.id] }, title: `n${n}`, body: 'load', data: { n } },
        }).catch(() => ({ status: 0 }));
        if (res.status === 202) {
          acceptedAt.push(Date.now());
          return;
        }
        assert.ok([0, 503, 504].includes(res.status), `a failed send answers 503/504, not ${res.status}`);
        await sleep(wait);
      }
      throw new Error(`send ${n} never accepted`);
    };

    let n = 0;
    let stopped = false;
    const senders = (async () => {
      const inFlight: Promise<void>[] = [];
      while (!stopped) {
        inFlight.push(send(n++));
        await sleep(50);
      }
      await Promise.all(inFlight);
    })();

    await sleep(2000);
    await node.stop('SIGTERM');
    await sleep(3000);
    await node.start();
    const restartedAt = Date.now();
    await sleep(4000);
    await node.stop('SIGKILL');
    await sleep(2000);
    await node.start();
    const recoveredAt = Date.now();
    await sleep(4000);
    stopped = true;
    await senders;
    const sent = n;
    t.diagnostic(`${sent} sends accepted; sends accepted again ${recovery(restartedAt)} ms after the restart, ${recovery(recoveredAt)} ms after the crash`);

    // The services reconnect within seconds of the broker's return (capped, jittered backoff).
    assert.ok(recovery(restartedAt) < 15_000, `sends accepted again within 15 s of the restart (${recovery(restartedAt)} ms)`);
    assert.ok(recovery(recoveredAt) < 15_000, `sends accepted again within 15 s of the crash (${recovery(recoveredAt)} ms)`);

    // Every accepted send is in the inbox exactly once.
    const deadline = Date.now() + 60_000;
    let inbox: Item[] = [];
    while (Date.now() < deadline) {
      inbox = [];
      let before: string | undefined;
      for (;;) {
        const page = await call<{ items: Item[]; nextCursor: string | null }>(
          `${stack.notificationUrl}/inbox?limit=100${before ? `&before=${before}` : ''}`,
          { token: admin.accessToken },
        );
        assert.equal(page.status, 200);
        inbox.push(...page.body.items);
        if (!page.body.nextCursor) break;
        before = page.body.nextCursor;
      }
      if (inbox.length >= sent) break;
      await sleep(250);
    }
    const counts = new Map<number, number>();
    for (const item of inbox) counts.set(item.data.n as number, (counts.get(item.data.n as number) ?? 0) + 1);
    const lost = [...Array(sent).keys()].filter((i) => !counts.has(i));
    const duplicated = [...counts].filter(([, c]) => c > 1).map(([i]) => i);
    assert.deepEqual(lost, [], 'lost in the inbox');
    assert.deepEqual(duplicated, [], 'duplicated in the inbox');
    assert.equal(inbox.length, sent);

    // The socket got each exactly once, in id order.
    const socketDeadline = Date.now() + 30_000;
    while (onSocket.length < sent && Date.now() < socketDeadline) await sleep(100);
    const ids = onSocket.map((i) => i.id);
    assert.equal(new Set(ids).size, ids.length, 'no notification twice on the socket');
    assert.deepEqual(ids, [...ids].sort(), 'socket frames in id order');
    assert.equal(onSocket.length, sent, 'every notification reached the socket');
    socket.close();
    await collecting;
  });
});
