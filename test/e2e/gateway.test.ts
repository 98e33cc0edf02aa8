/**
 * The partitions' gateway as operators run it: Debian's nginx with deploy/nginx/dev.conf and
 * qa.conf (only the port, the upstream addresses and the log path swapped,
 * test/support/private-gateway.ts) in front of a real stack. A client of the gateway reaches
 * every route of both services at one origin, a WebSocket included; what nginx answers itself
 * (a body too large, a service down, /metrics) is problem details; its access log never holds a
 * token.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { call } from '../support/http.js';
import { NGINX, startGateway, type PrivateGateway } from '../support/private-gateway.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';
import { openSocket } from '../support/ws-client.js';

describe('the gateway (deploy/nginx) in front of a stack', { skip: !NGINX && 'nginx is not installed (scripts/ensure-system-tools.sh)' }, () => {
  let stack: Stack;
  const gateways: Record<'dev' | 'qa', PrivateGateway> = {} as never;
  let token: string;
  let me: string;

  before(async () => {
    stack = await startStack();
    for (const env of ['dev', 'qa'] as const) {
      gateways[env] = await startGateway(env, { mainUrl: stack.mainUrl, notificationUrl: stack.notificationUrl });
    }
    const session = await login(stack);
    token = session.accessToken;
    me = session.user.id;
  });
  after(async () => {
    await Promise.allSettled(Object.values(gateways).map((g) => g.stop()));
    await stack?.stop();
  });

  const send = (base: string, title: string) =>
    call(`${base}/notifications`, {
      token,
      headers: { 'idempotency-key': randomUUID() },
      body: { recipients: { userIds: [me] }, title, body: 'through the gateway' },
    });

  for (const env of ['dev', 'qa'] as const) {
    it(`When a client uses the ${env} gateway, then login, sends, a batch, the audit log, a send's status and the inbox each reach their service`, async () => {
      const base = gateways[env].url;
      // Act + Assert: main-backend's routes.
      const session = await call(`${base}/login`, { body: { email: stack.env.BOOTSTRAP_ADMIN_EMAIL, password: stack.env.BOOTSTRAP_ADMIN_PASSWORD } });
      assert.equal(session.status, 200);
      const sent = await send(base, `${env} single`);
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
      const batch = await call(`${base}/notifications/batch`, {
        token,
        headers: { 'idempotency-key': randomUUID() },
        body: { notifications: [1, 2].map((n) => ({ recipients: { userIds: [me] }, title: `${env} batch ${n}`, body: 'b' })) },
      });
      assert.equal(batch.status, 202, JSON.stringify(batch.body));
      const audit = await call(`${base}/audit-events?event=login_succeeded&limit=1`, { token });
      assert.equal(audit.status, 200, JSON.stringify(audit.body));
      assert.equal(audit.body.items[0]?.event, 'login_succeeded', 'the audit log, from main-backend');

      // The notification service's: the send's status (GET /notifications/<id>), what was sent
      // (GET /notifications/sent, beside the POST of the same prefix that main-backend took) and the inbox.
      await until(async () => (await call(`${base}/notifications/${sent.body.id}`, { token })).body?.recipients === 1, 'the send status through the gateway');
      const status = await call(`${base}/notifications/${sent.body.id}`, { token });
      assert.equal(status.status, 200);
      assert.equal(status.body.id, sent.body.id);
      const mine = await call(`${base}/notifications/sent?limit=100`, { token });
      assert.equal(mine.status, 200, JSON.stringify(mine.body));
      assert.ok(mine.body.items.some((i: { id: string }) => i.id === sent.body.id), 'the send is in what I sent');
      // The batch is stored asynchronously: wait for all three in the inbox.
      const wanted = [`${env} single`, `${env} batch 1`, `${env} batch 2`];
      await until(async () => {
        const inbox = await call(`${base}/inbox?limit=100`, { token });
        assert.equal(inbox.status, 200);
        const titles = (inbox.body.items as { title: string }[]).map((i) => i.title);
        return wanted.every((t) => titles.includes(t));
      }, 'the three notifications in the inbox through the gateway');
    });
  }

  it('When the API documents are asked for at the gateway, then main-backend\u2019s are at /openapi.json and /docs, the notification service\u2019s under /notification/, and its AsyncAPI at /asyncapi.json', async () => {
    const base = gateways.dev.url;
    const direct = async (url: string) => (await call(url)).body;
    assert.deepEqual(await direct(`${base}/openapi.json`), await direct(`${stack.mainUrl}/openapi.json`));
    assert.deepEqual(await direct(`${base}/notification/openapi.json`), await direct(`${stack.notificationUrl}/openapi.json`));
    assert.deepEqual(await direct(`${base}/asyncapi.json`), await direct(`${stack.notificationUrl}/asyncapi.json`));
    assert.deepEqual(await direct(`${base}/Notification/AsyncAPI.json`), await direct(`${stack.notificationUrl}/asyncapi.json`));

    // The docs pages, and every file each references, resolve under the prefix they were asked at.
    for (const path of ['/docs', '/notification/docs', '/Notification/Docs/']) {
      const page = await fetch(`${base}${path}`);
      assert.equal(page.status, 200, path);
      const refs = [...(await page.text()).matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
      assert.equal(refs.length, 4, path);
      for (const ref of refs) {
        const asset = await fetch(new URL(ref, `${base}${path}`));
        assert.equal(asset.status, 200, `${path} → ${ref}`);
        if (ref.endsWith('init.js')) {
          // The script finds its document from its own URL: the service that served the page.
          const spec = new URL('../../openapi.json', asset.url);
          const expected = path.toLowerCase().startsWith('/notification') ? stack.notificationUrl : stack.mainUrl;
          assert.deepEqual(await direct(spec.href), await direct(`${expected}/openapi.json`), path);
        }
      }
    }
  });

  it('When /metrics is asked for at the gateway in any spelling, then it is a 404 problem; on the service\u2019s own port it answers', async () => {
    for (const path of ['/metrics', '/METRICS', '/metrics/', '/%6detrics', '/inbox/../metrics', '/notification/metrics']) {
      const res = await fetch(`${gateways.dev.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get('content-type') ?? '', /^application\/(problem\+)?json/, path);
      assert.equal(((await res.json()) as { code: string }).code, 'route_not_found', path);
    }
    assert.equal((await fetch(`${stack.mainUrl}/metrics`)).status, 200);
  });

  it('When a body is larger than the gateway takes, then nginx answers 413 problem details; a large batch without a token is refused by main-backend before it is read', async () => {
    const big = JSON.stringify({ recipients: { roles: ['admin'] }, title: 't', body: 'x'.repeat(2 * 1024 * 1024) });
    const single = await fetch(`${gateways.dev.url}/notifications`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: big });
    assert.equal(single.status, 413, gateways.dev.errorLog());
    assert.match(single.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(((await single.json()) as { code: string }).code, 'payload_too_large');

    // A batch may be up to 11 MB at the gateway; without a token main-backend says 401 first,
    // and that 401 reaches the client (nginx must not ask the service to close the connection
    // it is still writing the body to: that turned the 401 into a 503).
    const bigBatch = JSON.stringify({ notifications: [], pad: 'x'.repeat(8 * 1024 * 1024) });
    const batch = await fetch(`${gateways.dev.url}/notifications/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bigBatch });
    assert.equal(batch.status, 401, gateways.dev.errorLog());
    assert.equal(((await batch.json()) as { code: string }).code, 'missing_token');
  });

  it('When a client opens /ws at the gateway, then it gets ready and live notifications, and the access log names /ws without its token', async () => {
    const wsBase = gateways.dev.url.replace('http:', 'ws:');
    const socket = openSocket(`${wsBase}/ws?token=${token}`);
    try {
      const ready = await socket.next(10_000);
      assert.equal(ready.type, 'ready');
      const sent = await send(gateways.dev.url, 'live through the gateway');
      assert.equal(sent.status, 202);
      for (;;) {
        const frame = (await socket.next(10_000)) as { type: string; notification?: { notificationId: string } };
        if (frame.type === 'notification' && frame.notification?.notificationId === sent.body.id) break;
      }
    } finally {
      socket.close();
    }
    await until(() => gateways.dev.accessLog().includes('GET /ws '), 'the /ws line in the access log');
    const log = gateways.dev.accessLog();
    assert.ok(!log.includes(token), 'no token in the access log');
    assert.ok(!log.includes(token.slice(0, 20)), 'not even a prefix of one');
    assert.ok(!log.includes('token='), 'no query at all');
  });

  it('When the notification service is down, then its routes answer 503 problem details with Retry-After at the gateway, no log holds a socket\u2019s token, and all works again once it is back', async () => {
    await stack.restartNotification(async () => {
      const res = await fetch(`${gateways.dev.url}/inbox`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 503);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After');
      assert.equal(((await res.json()) as { code: string }).code, 'service_unavailable');
      // A browser's socket reconnecting meanwhile: its token is in the query.
      const socket = openSocket(`${gateways.dev.url.replace('http:', 'ws:')}/ws?token=${token}`);
      await socket.closed;
    });
    await until(async () => (await call(`${gateways.dev.url}/inbox`, { token })).status === 200, 'the inbox through the gateway again');
    for (const log of [gateways.dev.errorLog(), gateways.dev.accessLog()]) {
      assert.ok(!log.includes(token.slice(0, 20)), 'no token in nginx\u2019s logs');
    }
    assert.match(gateways.dev.accessLog(), /"GET \/ws HTTP\/1\.1" 503 /, 'the refused socket is in the access log');
  });
});

/**
 * Routing and forwarding seen from the upstream side: two echo servers stand in for the services
 * and answer each request with who they are, the path they got and the forwarding headers.
 */
describe('the gateway\u2019s routes and forwarded headers', { skip: !NGINX && 'nginx is not installed (scripts/ensure-system-tools.sh)' }, () => {
  let gateway: PrivateGateway;
  const echoes: Server[] = [];

  before(async () => {
    const urls: string[] = [];
    for (const name of ['main-backend', 'notification']) {
      const answer = (req: IncomingMessage) =>
        JSON.stringify({ service: name, path: req.url, xff: req.headers['x-forwarded-for'] ?? null, host: req.headers.host ?? null, proto: req.headers['x-forwarded-proto'] ?? null });
      const server = createServer((req, res) => {
        req.resume();
        res.setHeader('content-type', 'application/json');
        res.end(answer(req));
      });
      // An upgrade (/ws) arrives as its own event: answered with a plain 200 (nginx relays it).
      server.on('upgrade', (req, socket) => {
        const body = answer(req);
        socket.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      echoes.push(server);
      urls.push(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    }
    gateway = await startGateway('dev', { mainUrl: urls[0] as string, notificationUrl: urls[1] as string });
  });
  after(async () => {
    await gateway?.stop();
    for (const server of echoes) server.close();
  });

  /** What the upstream saw, through the gateway; `upgrade` asks as a WebSocket would. */
  function through(path: string, headers: Record<string, string> = {}, upgrade = false, method = 'GET'): Promise<{ status: number; body: string; contentType: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${gateway.url}${path}`, { method, headers: { ...headers, ...(upgrade ? { connection: 'Upgrade', upgrade: 'websocket' } : {}) } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, contentType: String(res.headers['content-type'] ?? '') }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('When paths are asked in other cases or with a trailing slash, then each reaches the service that serves it, the prefix /notification/ dropped', async () => {
    const cases: [string, string, string][] = [
      ['/inbox', 'notification', '/inbox'],
      ['/INBOX', 'notification', '/INBOX'],
      ['/Inbox/abc/read', 'notification', '/Inbox/abc/read'],
      ['/notifications/abc', 'notification', '/notifications/abc'],
      ['/notifications/sent', 'notification', '/notifications/sent'],
      ['/Notifications/SENT/', 'notification', '/Notifications/SENT/'],
      ['/notifications/sent?limit=5&before=abc', 'notification', '/notifications/sent?limit=5&before=abc'],
      ['/notifications', 'main-backend', '/notifications'],
      ['/notifications/batch', 'main-backend', '/notifications/batch'],
      ['/asyncapi.json', 'notification', '/asyncapi.json'],
      ['/AsyncAPI.json/', 'notification', '/AsyncAPI.json/'],
      ['/notification/openapi.json', 'notification', '/openapi.json'],
      ['/notification/openapi.json/', 'notification', '/openapi.json/'],
      ['/Notification/docs/assets/init.js', 'notification', '/docs/assets/init.js'],
      ['/notification/readyz', 'main-backend', '/notification/readyz'],
      ['/openapi.json', 'main-backend', '/openapi.json'],
      ['/login?x=1', 'main-backend', '/login?x=1'],
      // Not named in the config: main-backend's, like every path but the notification service's
      ['/audit-events?event=login_failed&limit=5', 'main-backend', '/audit-events?event=login_failed&limit=5'],
      ['/Audit-Events/', 'main-backend', '/Audit-Events/'],
    ];
    for (const [path, service, upstreamPath] of cases) {
      const seen = JSON.parse((await through(path)).body) as { service: string; path: string };
      assert.deepEqual([seen.service, seen.path], [service, upstreamPath], path);
    }
    for (const path of ['/ws', '/WS', '/ws/']) {
      const seen = JSON.parse((await through(`${path}?token=t`, {}, true)).body) as { service: string };
      assert.equal(seen.service, 'notification', path);
    }
    // By path, whatever the method: a send (POST /notifications) and a batch stay main-backend's
    // beside GET /notifications/sent and /<id>.
    for (const [path, service] of [['/notifications', 'main-backend'], ['/notifications/batch', 'main-backend'], ['/notifications/sent', 'notification']] as const) {
      const seen = JSON.parse((await through(path, { 'content-type': 'application/json', 'content-length': '0' }, false, 'POST')).body) as { service: string };
      assert.equal(seen.service, service, `POST ${path}`);
    }
  });

  it('When a client claims an X-Forwarded-For, then every location, /ws included, appends the address nginx saw, and passes Host and the scheme', async () => {
    for (const [path, upgrade] of [['/login', false], ['/inbox', false], ['/notifications/abc', false], ['/ws', true]] as const) {
      const seen = JSON.parse((await through(path, { 'x-forwarded-for': '198.51.100.7', host: 'api.example.test' }, upgrade)).body) as { xff: string; host: string; proto: string };
      assert.equal(seen.xff, '198.51.100.7, 127.0.0.1', `${path}: the last entry is the gateway's own view`);
      assert.equal(seen.host, 'api.example.test', path);
      assert.equal(seen.proto, 'http', path);
    }
  });

  it('When a request is refused by nginx itself (malformed, TRACE, a long URI or header, another HTTP version), then the answer is problem details, not an HTML page', async () => {
    const port = Number(new URL(gateway.url).port);
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(text));
        let data = '';
        socket.on('data', (d) => (data += d.toString('latin1')));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
    const cases: [string, string, number, string][] = [
      ['a malformed request line', 'GET /inbox HTTP/1.1 extra\r\nHost: x\r\n\r\n', 400, 'bad_request'],
      ['no Host header', 'GET /inbox HTTP/1.1\r\n\r\n', 400, 'bad_request'],
      ['two Content-Length headers', 'POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400, 'bad_request'],
      ['headers over 8 KB', `GET /inbox HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(9000)}\r\n\r\n`, 400, 'bad_request'],
      ['a URI over 8 KB', `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414, 'uri_too_long'],
      ['TRACE', 'TRACE /inbox HTTP/1.1\r\nHost: x\r\n\r\n', 405, 'method_not_allowed'],
      ['an unknown Transfer-Encoding', 'POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', 501, 'not_implemented'],
      ['HTTP/2.0 in the request line', 'GET /inbox HTTP/2.0\r\nHost: x\r\n\r\n', 505, 'http_version_not_supported'],
    ];
    for (const [what, text, status, code] of cases) {
      const answer = await raw(text);
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `), `${what}: ${head.split('\r\n')[0]}`);
      assert.match(head, /\r\nContent-Type: application\/problem\+json/i, `${what} is problem details`);
      assert.equal((JSON.parse(body) as { code: string }).code, code, what);
    }
  });
});
