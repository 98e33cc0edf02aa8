/**
 * What the on-call person relies on, against a real stack (docs/operations.md, "On call"):
 * a traceparent sent with POST /notifications reaches the notification consumer's log line and
 * the socket frame's log line (no OpenTelemetry here); hostile traceparents are never believed
 * nor echoed; /metrics shows the socket gauges and counters, the send-to-socket histogram, the
 * queue depth and the outbox lag with sane values.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { until } from '../support/wait.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { openSocket } from '../support/ws-client.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

function sample(metrics: string, name: string, labels = ''): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('observability of the live path', () => {
  let stack: Stack;
  let token: string;
  let adminId: string;

  before(async () => {
    stack = await startStack();
    const session = await login(stack);
    token = session.accessToken;
    adminId = session.user.id;
  });
  after(() => stack?.stop());

  async function send(title: string, traceparent: string): Promise<string> {
    const res = await fetch(`${stack.mainUrl}/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, traceparent },
      body: JSON.stringify({ recipients: { userIds: [adminId] }, title, body: 'b' }),
    });
    assert.equal(res.status, 202);
    // Never echoed: a traceparent only travels on.
    assert.equal(res.headers.get('traceparent'), null);
    return ((await res.json()) as { id: string }).id;
  }

  async function frameFor(title: string, socket: ReturnType<typeof openSocket>): Promise<Record<string, unknown>> {
    for (;;) {
      const frame = await socket.next(10_000);
      if (frame.type === 'notification' && (frame.notification as { title: string }).title === title) return frame;
    }
  }

  it('When a send carries a traceparent, then its trace id is on the consumer\'s log line and on the socket frame\'s log line', async () => {
    const socket = openSocket(`${stack.notificationWsUrl}?token=${encodeURIComponent(token)}`);
    assert.equal((await socket.next()).type, 'ready');
    const notificationId = await send('traced', TRACEPARENT);
    const frame = await frameFor('traced', socket);
    const lines = stack.logs.notification.lines;
    await until(() => lines.some((l) => l.message === 'notification frame sent' && l.notificationId === (frame.notification as { id: string }).id), 'frame log line');
    const received = lines.find((l) => l.message === 'notification received' && l.notificationId === notificationId);
    assert.equal(received?.traceId, TRACE_ID);
    const sent = lines.find((l) => l.message === 'notification frame sent' && l.notificationId === (frame.notification as { id: string }).id);
    assert.equal(sent?.traceId, TRACE_ID);
    // The HTTP request's own lines in main-backend carry it too.
    assert.ok(stack.logs.main.lines.some((l) => l.message === 'request' && l.path === '/notifications' && l.traceId === TRACE_ID));
    socket.close();
    await socket.closed;
  });

  const hostile: [string, string][] = [
    ['too long', `${TRACEPARENT}-${'f'.repeat(4000)}`],
    ['bad hex', `00-${TRACE_ID.slice(0, 31)}z-00f067aa0ba902b7-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['an all-zero parent id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
  ];
  for (const [what, value] of hostile) {
    it(`When the traceparent is ${what}, then it is ignored: the send gets a new trace id of the right form`, async () => {
      const socket = openSocket(`${stack.notificationWsUrl}?token=${encodeURIComponent(token)}`);
      assert.equal((await socket.next()).type, 'ready');
      const title = `hostile ${what}`;
      const notificationId = await send(title, value);
      const frame = await frameFor(title, socket);
      const lines = stack.logs.notification.lines;
      await until(() => lines.some((l) => l.message === 'notification frame sent' && l.notificationId === (frame.notification as { id: string }).id), 'frame log line');
      const received = lines.find((l) => l.message === 'notification received' && l.notificationId === notificationId);
      const sent = lines.find((l) => l.message === 'notification frame sent' && l.notificationId === (frame.notification as { id: string }).id);
      assert.match(String(received?.traceId), /^[0-9a-f]{32}$/);
      assert.notEqual(received?.traceId, '0'.repeat(32));
      assert.ok(!value.includes(String(received?.traceId)), 'the hostile trace id was believed');
      assert.equal(sent?.traceId, received?.traceId);
      // The hostile text appears in no log line of any service.
      for (const logs of [stack.logs.main, stack.logs.notification]) assert.ok(!logs.text().includes(value));
      socket.close();
      await socket.closed;
    });
  }

  it('When a socket connected, got a notification and closed, then /metrics shows it with sane values', async () => {
    const socket = openSocket(`${stack.notificationWsUrl}?token=${encodeURIComponent(token)}`);
    assert.equal((await socket.next()).type, 'ready');
    const read = async () => (await fetch(`${stack.notificationUrl}/metrics`)).text();
    const open = await read();
    assert.equal(sample(open, 'ws_connections_open'), 1);
    const closedBefore = sample(open, 'ws_connections_closed_total', 'code="1005"') ?? 0;
    await send('measured', TRACEPARENT);
    await frameFor('measured', socket);
    socket.close();
    await socket.closed;
    await until(async () => sample(await read(), 'ws_connections_open') === 0, 'gauge back to 0');
    const text = await read();
    assert.equal(sample(text, 'ws_connections_closed_total', 'code="1005"'), closedBefore + 1);
    assert.ok((sample(text, 'ws_connections_opened_total') ?? 0) >= 1);
    const count = sample(text, 'notification_delivery_seconds_count') ?? 0;
    const sum = sample(text, 'notification_delivery_seconds_sum') ?? -1;
    assert.ok(count >= 1, 'a live frame was timed');
    assert.ok(sum >= 0 && sum / count < 10, `send-to-socket latency averages ${sum / count} s`);
    const ns = stack.env.BROKER_NAMESPACE as string;
    assert.equal(sample(text, 'amqp_queue_consumers', `queue="${ns}.notification.requests"`), 1);
    assert.ok((sample(text, 'amqp_queue_messages', `queue="${ns}.notification.requests.dlq"`) ?? -1) >= 0);
    assert.equal(sample(text, 'amqp_queue_messages', `queue="${ns}.auth.rpc.requests"`), undefined, 'only its own queues');
    assert.ok(stack.logs.notification.lines.some((l) => l.message === 'socket connected' && l.userId === adminId));
    assert.ok(stack.logs.notification.lines.some((l) => l.message === 'socket closed' && l.userId === adminId && l.closeCode === 1005));

    const auth = await (await fetch(`http://127.0.0.1:${stack.auth.port()}/metrics`)).text();
    const pending = Number(/^outbox_pending_messages\{[^}]*\} (\S+)$/m.exec(auth)?.[1]);
    const age = Number(/^outbox_oldest_pending_age_seconds\{[^}]*\} (\S+)$/m.exec(auth)?.[1]);
    assert.ok(pending >= 0 && age >= 0 && age < 60, `outbox lag ${pending} rows, ${age} s`);
    assert.ok((sample(auth, 'amqp_queue_consumers', `queue="${ns}.auth.rpc.requests"`) ?? 0) >= 1);
  });
});
