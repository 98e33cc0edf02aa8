import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { AppError } from '@warren/shared/errors';
import { READINESS_CACHE_MS } from '@warren/shared/http/standard-routes';
import { createHttpApp, type HttpApp } from '@warren/shared/http/app';
import { close, listen, portOf } from '@warren/shared/http/server';
import { KIT_PROBLEM_CODES } from '@warren/shared/http/problem-codes';
import { defineRoute, type ApiDefinition, type RouteSpec } from '@warren/shared/http/route-spec';
import { createMetrics } from '@warren/shared/metrics';
import { currentRequestId } from '@warren/shared/request-context';
import { captureLogs } from '../../test/support/logs.js';
import { waitFor } from './helpers.js';

const thingSchema = z.object({
  name: z.string().trim().min(1),
  count: z.number().int().positive(),
});

const ok = { 200: { description: 'ok' } };
const testRoutes = {
  createThing: defineRoute({ method: 'post', path: '/things', operationId: 'createThing', summary: 's', tag: 't', auth: 'public', request: { body: thingSchema }, responses: ok }),
  empty: defineRoute({ method: 'post', path: '/empty', operationId: 'empty', summary: 's', tag: 't', auth: 'public', responses: ok }),
  patchThing: defineRoute({ method: 'patch', path: '/things/:id', operationId: 'patchThing', summary: 's', tag: 't', auth: 'public', responses: ok }),
  boom: defineRoute({ method: 'get', path: '/boom', operationId: 'boom', summary: 's', tag: 't', auth: 'public', responses: ok }),
  teapot: defineRoute({ method: 'get', path: '/teapot', operationId: 'teapot', summary: 's', tag: 't', auth: 'public', responses: ok }),
  slow: defineRoute({ method: 'get', path: '/slow', operationId: 'slow', summary: 's', tag: 't', auth: 'public', responses: ok }),
};
const testApi = (routes: RouteSpec[]): ApiDefinition => ({
  title: 'test',
  description: 'test',
  routes,
  docs: false,
  version: '0.0.0',
  problems: KIT_PROBLEM_CODES,
  guardProblems: { token: [], permission: [] },
  bearerDescription: 'none',
});

describe('createHttpApp', () => {
  const logs = captureLogs('http-test');
  const metrics = createMetrics('http-test', 'test');
  let ready = true;
  let app: HttpApp;
  let server: Server;
  let base: string;

  before(async () => {
    app = await createHttpApp({
      logger: logs.logger,
      metrics,
      corsOrigins: ['https://app.example.com'],
      bodyLimit: '1kb',
      readiness: [{ name: 'broker', check: () => ready }],
      api: testApi([testRoutes.createThing, testRoutes.empty, testRoutes.patchThing, testRoutes.boom, testRoutes.teapot]),
      mount: (routes) => {
        routes.mount(testRoutes.createThing, async ({ body: thing }, _req, res) => {
          logs.logger.info('thing created', { name: thing.name });
          res.status(201).json({ thing, requestId: currentRequestId() ?? null });
        });
        routes.mount(testRoutes.empty, (_input, req, res) => {
          res.json({ body: req.body ?? null });
        });
        routes.mount(testRoutes.patchThing, (_input, req, res) => {
          res.json({ id: req.params.id });
        });
        routes.mount(testRoutes.boom, () => {
          throw new Error('secret SQL here');
        });
        routes.mount(testRoutes.teapot, () => {
          throw new AppError({ status: 423, code: 'locked', title: 'Locked', detail: 'Try later.', headers: { 'Retry-After': '30' } });
        });
      },
    });
    server = await listen(app, 0, '127.0.0.1');
    base = `http://127.0.0.1:${portOf(server)}`;
  });

  after(async () => {
    await close(server);
  });

  function postThings(body: string, headers: Record<string, string> = {}) {
    return fetch(`${base}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  }

  it('When the route does not exist, then 404 problem+json with code route_not_found', async () => {
    // Act
    const res = await fetch(`${base}/nope?x=1`);

    // Assert
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.code, 'route_not_found');
    assert.equal(body.status, 404);
    assert.equal(body.instance, '/nope');
  });

  it('When the body is malformed JSON, then 400 malformed_json', async () => {
    // Act
    const res = await postThings('{"name": "a",');

    // Assert
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.code, 'malformed_json');
  });

  it('When the body is not JSON (a form post), then 415 unsupported_media_type', async () => {
    // Act
    const res = await postThings('name=a', { 'content-type': 'application/x-www-form-urlencoded' });

    // Assert
    assert.equal(res.status, 415);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.code, 'unsupported_media_type');
  });

  it('When the body is over the 1kb limit, then 413 payload_too_large', async () => {
    // Arrange
    const big = JSON.stringify({ name: 'x'.repeat(2048), count: 1 });

    // Act
    const res = await postThings(big);

    // Assert
    assert.equal(res.status, 413);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.code, 'payload_too_large');
  });

  it('When the body fails validation, then 400 with errors[{path, message}] for every bad field', async () => {
    // Act
    const res = await postThings(JSON.stringify({ name: '  ', count: -1 }));

    // Assert
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: string; errors: { path: string; message: string }[] };
    assert.equal(body.code, 'validation_failed');
    assert.deepEqual(body.errors.map((e) => e.path).sort(), ['count', 'name']);
    for (const e of body.errors) assert.equal(typeof e.message, 'string');
  });

  it('When the body is valid, then the handler gets the parsed (trimmed) value', async () => {
    // Act
    const res = await postThings(JSON.stringify({ name: '  widget ', count: 2 }));

    // Assert
    assert.equal(res.status, 201);
    const body = (await res.json()) as { thing: unknown };
    assert.deepEqual(body.thing, { name: 'widget', count: 2 });
  });

  it('When a route throws a plain Error, then 500 internal_error without the error text, which is only logged', async () => {
    // Act
    const res = await fetch(`${base}/boom`);

    // Assert
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.ok(!text.includes('secret SQL here'), 'the response must not leak the error message');
    assert.equal((JSON.parse(text) as { code: string }).code, 'internal_error');
    await waitFor(() => logs.text().includes('secret SQL here'), 'the error to be logged');
  });

  it('When a route throws an AppError with headers, then its status, code and headers are sent', async () => {
    // Act
    const res = await fetch(`${base}/teapot`);

    // Assert
    assert.equal(res.status, 423);
    assert.equal(res.headers.get('retry-after'), '30');
    assert.equal(((await res.json()) as { code: string }).code, 'locked');
  });

  it('When /healthz is called, then 200', async () => {
    // Act
    const res = await fetch(`${base}/healthz`);

    // Assert
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('When any answer goes out, success or problem, then it carries the security headers', async () => {
    // Act
    const answers = [await fetch(`${base}/healthz`), await fetch(`${base}/nope`), await fetch(`${base}/boom`)];

    // Assert
    for (const res of answers) {
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `status ${res.status}`);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
      assert.equal(res.headers.get('x-powered-by'), null);
    }
  });

  it('When a readiness check returns false, then /readyz is 503; when true, 200', async () => {
    // Arrange
    ready = false;

    // Act
    const down = await fetch(`${base}/readyz`);
    ready = true;
    // An answer is reused for READINESS_CACHE_MS (probes share one check).
    await new Promise((r) => setTimeout(r, READINESS_CACHE_MS + 50));
    const up = await fetch(`${base}/readyz`);

    // Assert
    assert.equal(down.status, 503);
    assert.deepEqual(await down.json(), { status: 'not_ready', checks: { broker: 'down' } });
    assert.equal(up.status, 200);
    assert.deepEqual(await up.json(), { status: 'ready', checks: { broker: 'ok' } });
  });

  it('When /metrics is scraped, then it returns prometheus text with http_request_duration_seconds', async () => {
    // Arrange: at least one request has been observed
    await fetch(`${base}/healthz`);

    // Act
    const res = await fetch(`${base}/metrics`);

    // Assert
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /# TYPE http_request_duration_seconds histogram/);
    assert.match(text, /http_request_duration_seconds_count\{[^}]*route="\/healthz"[^}]*\} \d+/);
  });

  it('When X-Request-Id is a safe value, then it is echoed; when absent or unsafe, a new one is generated', async () => {
    // Act
    const given = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'client-req-42' } });
    const absent = await fetch(`${base}/healthz`);
    const unsafe = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'bad id\twith<script>' } });

    // Assert
    assert.equal(given.headers.get('x-request-id'), 'client-req-42');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    assert.match(absent.headers.get('x-request-id') ?? '', uuid);
    assert.match(unsafe.headers.get('x-request-id') ?? '', uuid);
  });

  it('When a route with a JSON body logs, then its log line and currentRequestId carry the request id', async () => {
    // Act
    const res = await postThings(JSON.stringify({ name: 'ctx', count: 1 }), { 'x-request-id': 'trace-body-1' });

    // Assert
    assert.equal(res.status, 201);
    assert.equal(((await res.json()) as { requestId: unknown }).requestId, 'trace-body-1');
    await waitFor(() => logs.lines.some((l) => l.message === 'thing created' && l.name === 'ctx'), 'the route log');
    const line = logs.lines.find((l) => l.message === 'thing created' && l.name === 'ctx');
    assert.equal(line?.requestId, 'trace-body-1');
    await waitFor(
      () => logs.lines.some((l) => l.message === 'request' && l.requestId === 'trace-body-1' && l.status === 201),
      'the access log line',
    );
  });

  it('When a JSON request has an empty body, then it is no body (not malformed JSON)', async () => {
    // Act
    const res = await fetch(`${base}/empty`, { method: 'POST', headers: { 'content-type': 'application/json' } });

    // Assert
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { body: null });
  });

  it('When the path has a trailing slash or other letter case, then it reaches the same route', async () => {
    // Act
    const slash = await fetch(`${base}/healthz/`);
    const upper = await fetch(`${base}/HEALTHZ`);

    // Assert
    assert.equal(slash.status, 200);
    assert.equal(upper.status, 200);
  });

  it('When the URL does not decode, then 404 problem details with the usual headers', async () => {
    // Act
    const res = await fetch(`${base}/healthz%zz`);

    // Assert
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(((await res.json()) as { code: string }).code, 'route_not_found');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(res.headers.get('x-request-id'));
  });

  it('When the request is not even HTTP, then 400 problem details and the connection closes', async () => {
    // Act
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(new URL(base).port), '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (text += d));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });

    // Assert
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /content-type: application\/problem\+json/i);
    assert.equal((JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { code: string }).code, 'bad_request');
  });

  it('When a path parameter does not decode, then 404 problem details', async () => {
    // Act
    const res = await fetch(`${base}/things/%zz`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{}' });

    // Assert
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'route_not_found');
  });

  it('When a JSON body holds an escaped U+0000, then 400 invalid_text before the route runs', async () => {
    // Act
    const res = await postThings('{"name":"a\\u0000b","count":1}');

    // Assert
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'invalid_text');
  });

  it('When the server starts draining while a keep-alive connection has a request in flight, then that connection is still served', async () => {
    // Arrange
    const slow = await slowRequestInFlight('http-drain-test');

    // Act: the drain starts with the request in flight; then the next request on that connection.
    const closed = close(slow.server);
    slow.release();
    await waitFor(() => slow.text().includes('"done":true'), 'the first answer');
    slow.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitFor(() => slow.text().includes('"status":"ok"'), 'the second answer');
    slow.socket.end();
    await closed;

    // Assert
    assert.equal((slow.text().match(/HTTP\/1\.1 200 /g) ?? []).length, 2);
  });

  it('When a client keeps sending on a kept-alive connection while the server drains, then its next answer says Connection: close, the connection ends and the drain finishes', async () => {
    // Arrange: a connection with a request in flight when the drain starts (so it is not idle, and not closed at once).
    const slow = await slowRequestInFlight('http-drain-steady-test');
    const ended = new Promise<void>((resolve) => slow.socket.once('end', () => resolve()));

    // Act: the drain starts; the client sends its next request on the same connection, asking to keep it.
    const closed = close(slow.server);
    slow.release();
    await waitFor(() => slow.text().includes('"done":true'), 'the first answer');
    slow.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');

    // Assert: answered, told the connection closes, closed by the server, and the drain is over.
    await ended;
    await closed;
    const answers = slow.text().split('HTTP/1.1 ').slice(1);
    assert.equal(answers.length, 2);
    assert.match(answers[1] as string, /^200 /);
    assert.match(answers[1] as string, /\r\nconnection: close\r\n/i);
  });

  /**
   * An app of its own whose GET /slow answers only once released, and a raw keep-alive
   * connection to it with that request in flight (what the drain tests start from).
   */
  async function slowRequestInFlight(metricsName: string) {
    let release = () => undefined as void;
    let arrive = () => undefined as void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    const app = await createHttpApp({
      logger: logs.logger,
      metrics: createMetrics(metricsName, 'test'),
      corsOrigins: [],
      bodyLimit: '1kb',
      readiness: [],
      api: testApi([testRoutes.slow]),
      mount: (routes) => {
        routes.mount(testRoutes.slow, async (_input, _req, res) => {
          arrive();
          await released;
          res.json({ done: true });
        });
      },
    });
    const server = await listen(app, 0, '127.0.0.1');
    const socket = net.connect(portOf(server), '127.0.0.1');
    socket.setEncoding('utf8');
    let text = '';
    socket.on('data', (d: string) => (text += d));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await arrived;
    return { server, socket, release, text: () => text };
  }

  it('When a browser reads an answer from an allowed origin, then X-Request-Id, Retry-After and Idempotency-Key are exposed to it', async () => {
    // Act
    const res = await fetch(`${base}/healthz`, { headers: { origin: 'https://app.example.com' } });

    // Assert
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example.com');
    const exposed = (res.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(/\s*,\s*/);
    for (const h of ['x-request-id', 'retry-after', 'idempotency-key']) assert.ok(exposed.includes(h), h);
  });

  it('When a CORS preflight asks for PATCH or DELETE from an allowed origin, then they are allowed', async () => {
    // Act
    const res = await fetch(`${base}/things/1`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PATCH' },
    });

    // Assert
    assert.ok(res.status < 300);
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /PATCH/);
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /DELETE/);
  });

  it('When a CORS preflight comes from an allowed origin, then it is allowed; from another origin, it is not', async () => {
    // Act
    const allowed = await fetch(`${base}/things`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    const denied = await fetch(`${base}/things`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });

    // Assert
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
  });
});
