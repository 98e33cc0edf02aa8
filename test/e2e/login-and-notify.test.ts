/**
 * The two paths end to end, through all three services on the real broker and database:
 * log in as the bootstrap admin (main-backend → RPC → auth), open a socket (JWKS over RPC),
 * send a notification (main-backend → RabbitMQ → notification → PostgreSQL → WebSocket),
 * and find it in the inbox.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { login, startStack, ADMIN, type Stack } from '../support/stack.js';
import { openSocket } from '../support/ws-client.js';

describe('login and notification paths', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('When the bootstrap admin logs in, then the answer has the contract shape and a verifiable ES256 token', async () => {
    // Act
    const res = await fetch(`${stack.mainUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
    });
    // Assert
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, any>;
    assert.equal(body.tokenType, 'Bearer');
    assert.equal(body.expiresIn, 900);
    assert.equal(body.user.email, ADMIN.email);
    assert.equal(body.user.role, 'admin');
    assert.ok(body.permissions.includes('notifications:send'));
    assert.match(body.session.id, /^[0-9a-f-]{36}$/);
    assert.ok(Date.parse(body.session.expiresAt) > Date.now());
    assert.ok(body.refreshToken.length >= 22 && body.refreshToken.split('.').length === 1, 'refresh token is opaque');
    const [headerB64, payloadB64] = body.accessToken.split('.');
    const header = JSON.parse(Buffer.from(headerB64, 'base64url').toString());
    const claims = JSON.parse(Buffer.from(payloadB64, 'base64url').toString());
    assert.equal(header.alg, 'ES256');
    assert.ok(header.kid);
    assert.equal(claims.sub, body.user.id);
    assert.equal(claims.sid, body.session.id);
    assert.equal(claims.role, 'admin');
    for (const c of ['iss', 'aud', 'iat', 'exp']) assert.ok(claims[c] !== undefined, `claim ${c}`);

    const jwks = (await (await fetch(`${stack.mainUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string; d?: string }[] };
    assert.ok(jwks.keys.some((k) => k.kid === header.kid));
    assert.ok(jwks.keys.every((k) => k.d === undefined), 'no private key material in the JWKS');
  });

  it('When the password is wrong or the email unknown, then both answer the same generic 401', async () => {
    const attempt = async (email: string, password: string) => {
      const res = await fetch(`${stack.mainUrl}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const wrongPassword = await attempt(ADMIN.email, 'not the password');
    const unknownEmail = await attempt('nobody@warren.test', 'not the password');
    assert.equal(wrongPassword.status, 401);
    assert.deepEqual(
      { ...wrongPassword.body, instance: undefined },
      { ...unknownEmail.body, instance: undefined },
    );
    assert.equal(wrongPassword.body.code, 'invalid_credentials');
  });

  it('When an admin sends a notification, then it arrives on the socket and in the inbox', async () => {
    // Arrange
    const session = await login(stack);
    const socket = openSocket(`${stack.notificationWsUrl}?token=${session.accessToken}`);
    const ready = await socket.next();
    assert.deepEqual(ready, { type: 'ready', unreadCount: 0 });

    // Act
    const res = await fetch(`${stack.mainUrl}/notifications`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${session.accessToken}`,
        'x-request-id': 'e2e-send-1',
      },
      body: JSON.stringify({
        recipients: { userIds: [session.user.id] },
        title: 'Deploy finished',
        body: 'Build 42 is live',
        type: 'deploy',
        data: { build: 42 },
      }),
    });

    // Assert
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    assert.ok(id);
    const frame = (await socket.next()) as { type: string; notification: Record<string, unknown> };
    assert.equal(frame.type, 'notification');
    assert.equal(frame.notification.title, 'Deploy finished');
    assert.equal(frame.notification.body, 'Build 42 is live');
    assert.equal(frame.notification.type, 'deploy');
    assert.deepEqual(frame.notification.data, { build: 42 });
    assert.equal(frame.notification.readAt, null);

    const inbox = await fetch(`${stack.notificationUrl}/inbox`, { headers: { authorization: `Bearer ${session.accessToken}` } });
    assert.equal(inbox.status, 200);
    const page = (await inbox.json()) as { items: Record<string, unknown>[]; nextCursor: string | null };
    assert.equal(page.items.length, 1);
    assert.deepEqual(page.items[0], frame.notification);
    assert.equal(page.nextCursor, null);

    const count = await fetch(`${stack.notificationUrl}/inbox/unread-count`, { headers: { authorization: `Bearer ${session.accessToken}` } });
    assert.deepEqual(await count.json(), { count: 1 });

    // One request id followed across all three services' logs.
    const carrying = (lines: Record<string, unknown>[]) => lines.filter((l) => l.requestId === 'e2e-send-1');
    assert.ok(carrying(stack.logs.main.lines).length > 0, 'main-backend logged the request');
    assert.ok(
      carrying(stack.logs.notification.lines).some((l) => l.message === 'notification stored'),
      'the consumer logged with the same request id',
    );
    socket.close();
  });

  it('When a socket presents no token or a bad one, then it is closed with 4001', async () => {
    const none = openSocket(stack.notificationWsUrl);
    assert.equal((await none.closed).code, 4001);
    const bad = openSocket(`${stack.notificationWsUrl}?token=not.a.jwt`);
    assert.equal((await bad.closed).code, 4001);
  });

  it('When a caller has no token or a bad one, then 401 problem details answer', async () => {
    const noToken = await fetch(`${stack.mainUrl}/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ recipients: { userIds: [] }, title: 't', body: 'b' }),
    });
    assert.equal(noToken.status, 401);
    assert.equal(((await noToken.json()) as { code: string }).code, 'missing_token');
    const badToken = await fetch(`${stack.mainUrl}/inbox`, { headers: { authorization: 'Bearer abc.def.ghi' } });
    assert.equal(badToken.status, 404, 'inbox lives on the notification service, not main-backend');
    const badTokenInbox = await fetch(`${stack.notificationUrl}/inbox`, { headers: { authorization: 'Bearer abc.def.ghi' } });
    assert.equal(badTokenInbox.status, 401);
  });

  it('When the body is invalid, then 400 names every bad field', async () => {
    const session = await login(stack);
    const res = await fetch(`${stack.mainUrl}/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${session.accessToken}` },
      body: JSON.stringify({ recipients: { userIds: ['not-a-uuid'] }, title: '', body: 5 }),
    });
    assert.equal(res.status, 400);
    const problem = (await res.json()) as { code: string; errors: { path: string }[] };
    assert.equal(problem.code, 'validation_failed');
    const paths = problem.errors.map((e) => e.path);
    for (const p of ['recipients.userIds.0', 'title', 'body']) assert.ok(paths.includes(p), `error for ${p}: ${paths}`);
  });

  it('When the same Idempotency-Key is sent twice, then one notification is stored and the same id answered', async () => {
    const session = await login(stack);
    const send = () =>
      fetch(`${stack.mainUrl}/notifications`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${session.accessToken}`,
          'idempotency-key': 'once-only-1',
        },
        body: JSON.stringify({ recipients: { userIds: [session.user.id] }, title: 'Once', body: 'only' }),
      });
    const first = (await (await send()).json()) as { id: string };
    const second = (await (await send()).json()) as { id: string };
    assert.equal(first.id, second.id);
    await waitFor(async () => {
      const page = await (await fetch(`${stack.notificationUrl}/inbox?limit=100`, { headers: { authorization: `Bearer ${session.accessToken}` } })).json() as { items: { title: string }[] };
      return page.items.filter((i) => i.title === 'Once').length === 1;
    });
  });

  it('Then /healthz, /readyz and /metrics answer on every service', async () => {
    for (const port of [stack.auth.port(), stack.main.port(), stack.notification.port()]) {
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /http_request_duration_seconds/);
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('condition not met in time');
}
