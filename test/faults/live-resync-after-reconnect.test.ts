/**
 * Live delivery across a broker reconnect. Two notification replicas; a user's socket is on
 * replica A. The broker force-closes A's connection while notifications keep being sent: the
 * other replica stores them and publishes them live, but A's live queue went with its
 * connection, so A hears nothing of them. After A reconnects it must re-sync its sockets from
 * the database at once (no later notification comes to reveal the gap): the socket gets every
 * notification exactly once, in order, and live ones after.
 * (rabbitmqctl closes only this test's own connection; the broker itself is not touched.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { call, type JsonResponse } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';
import { openSocket } from '../support/ws-client.js';

const run = promisify(execFile);

/** Broker-side pid and name of every connection whose client-provided name starts with `prefix`. */
async function connections(prefix: string): Promise<{ pid: string; name: string }[]> {
  const { stdout } = await run('rabbitmqctl', ['list_connections', 'pid', 'client_properties', '--quiet', '--no-table-headers']);
  const out: { pid: string; name: string }[] = [];
  for (const line of stdout.split('\n')) {
    const name = /\{"connection_name","([^"]*)"\}/.exec(line)?.[1];
    if (name?.startsWith(prefix)) out.push({ pid: line.split('\t')[0]?.trim() as string, name });
  }
  return out;
}

interface Notification {
  id: string;
  title: string;
}

describe('live delivery across a broker reconnect', () => {
  let stack: Stack;
  let admin: Awaited<ReturnType<typeof login>>;
  before(async () => {
    stack = await startStack();
    admin = await login(stack);
  });
  after(async () => {
    await stack?.stop();
  });

  it('When the broker drops the connection of the replica holding a socket while others store notifications, then after the reconnect the socket gets every one exactly once, in order', { timeout: 120_000 }, async () => {
    // Arrange: replica A (the stack's own) is known by its connection, then B joins
    const prefix = `${stack.env.BROKER_NAMESPACE}:notification:`;
    let ofA: { pid: string; name: string }[] = [];
    await until(async () => (ofA = await connections(prefix)).length === 1, "replica A's connection to be listed", 15_000, 250);
    const connectionOfA = ofA[0] as { pid: string; name: string };
    await stack.addNotificationReplica();
    const socket = openSocket(`${stack.notificationWsUrl}?token=${admin.accessToken}`);
    assert.equal((await socket.next(10_000)).type, 'ready');
    const reconnectsOfA = () => stack.logs.notification.lines.filter((l) => l.message === 'broker connected').length;
    const connectedBefore = reconnectsOfA();

    // Act: notifications go out until the broker has closed A's connection, then stop: nothing
    // sent afterwards may reveal the gap, so only the re-sync on reconnect can fill it
    const titles: string[] = [];
    let sending = true;
    const sender = (async () => {
      for (let i = 0; sending; i++) {
        const title = `across the reconnect ${i}`;
        const res: JsonResponse = await call(`${stack.mainUrl}/notifications`, {
          token: admin.accessToken,
          body: { recipients: { userIds: [admin.user.id] }, title, body: 'b' },
        });
        assert.equal(res.status, 202, JSON.stringify(res.body));
        titles.push(title);
      }
    })();
    await until(() => titles.length >= 20, 'sends before the close', 15_000, 10);
    await run('rabbitmqctl', ['close_connection', connectionOfA.pid, 'test: forced close']);
    sending = false;
    await sender;
    await until(() => reconnectsOfA() > connectedBefore, 'replica A to reconnect', 30_000, 50);

    // Assert: A really was cut off (the test proves nothing otherwise) ...
    assert.ok(stack.logs.notification.lines.some((l) => l.message === 'broker disconnected'), 'replica A saw the disconnect');
    // ... and the socket got every notification once, in commit order, nothing else
    const got: Notification[] = [];
    while (got.length < titles.length) {
      const frame = await socket.next(15_000).catch((err: Error) => assert.fail(`${err.message}: ${got.length} of ${titles.length} notifications arrived`));
      assert.equal(frame.type, 'notification', JSON.stringify(frame));
      got.push(frame.notification as Notification);
    }
    assert.deepEqual(new Set(got.map((n) => n.title)), new Set(titles), 'every notification, none twice');
    assert.equal(new Set(got.map((n) => n.id)).size, got.length, 'no duplicate');
    const ids = got.map((n) => n.id);
    assert.deepEqual([...ids].sort(), ids, 'in commit order');
    // A live one after all that still comes, and comes next
    const last = await call(`${stack.mainUrl}/notifications`, { token: admin.accessToken, body: { recipients: { userIds: [admin.user.id] }, title: 'after all', body: 'b' } });
    assert.equal(last.status, 202);
    const next = await socket.next(15_000);
    assert.equal((next.notification as Notification).title, 'after all');
    socket.close();
  });
});
