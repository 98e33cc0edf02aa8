/**
 * The route registry: nothing is served that the OpenAPI document does not show (a route added
 * any other way, or a declared one never mounted, stops the app at start), and what the spec
 * declares is what is enforced: its auth in front, its schemas validating params, headers,
 * query and body, a refused path id answered with the spec's 404 code.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { z } from 'zod';
import { AppError } from '@warren/shared/errors';
import { createHttpApp } from '@warren/shared/http/app';
import { openApiDocument } from '@warren/shared/http/openapi';
import { KIT_PROBLEM_CODES, problem } from '@warren/shared/http/problem-codes';
import { RouteMounter, type RouteGuards } from '@warren/shared/http/route-mounter';
import { defineRoute, type ApiDefinition, type RouteSpec } from '@warren/shared/http/route-spec';
import { close, listen, portOf } from '@warren/shared/http/server';
import { createMetrics } from '@warren/shared/metrics';
import { captureLogs } from '../../test/support/logs.js';

const ok = { 200: { description: 'ok', schema: z.object({}).loose() } };

const routes = {
  getThing: defineRoute({
    method: 'get',
    path: '/things/:id',
    operationId: 'getThing',
    summary: 'a thing',
    tag: 'things',
    auth: 'public',
    request: { params: z.object({ id: z.string().regex(/^\d{1,6}$/) }), query: z.object({ limit: z.coerce.number().int().min(1).max(10).default(5) }) },
    notFound: 'not_found',
    responses: ok,
  }),
  putThing: defineRoute({
    method: 'put',
    path: '/things/:id',
    operationId: 'putThing',
    summary: 'store a thing',
    tag: 'things',
    auth: { permission: 'things:write' },
    request: {
      params: z.object({ id: z.string().regex(/^\d{1,6}$/) }),
      headers: z.object({ 'Idempotency-Key': z.string().regex(/^[a-z]{1,8}$/, 'lowercase letters').optional() }),
      body: z.object({ name: z.string().trim().min(1) }).strict(),
    },
    responses: ok,
  }),
  mine: defineRoute({ method: 'get', path: '/mine', operationId: 'mine', summary: 'mine', tag: 'things', auth: 'bearer', responses: ok }),
};

const api = (r: RouteSpec[]): ApiDefinition => ({
  title: 'Things',
  description: 'Things.',
  routes: r,
  docs: true,
  version: '1.0.0',
  problems: { ...KIT_PROBLEM_CODES, no_token: problem(401, 'Unauthorized', 'No token.'), no_scope: problem(403, 'Forbidden', 'No scope.') },
  guardProblems: { token: ['no_token'], permission: ['no_scope'] },
  bearerDescription: 'Any scope.',
});

/** Stand-ins for a service's guards: `Bearer <scope>` authenticates with that scope. */
const scopes = new WeakMap<object, string[]>();
const fakeGuards: RouteGuards = {
  authenticate: [
    (req, _res, next) => {
      const scope = req.headers.authorization?.replace(/^Bearer /, '');
      if (!scope) throw AppError.unauthorized('no_token');
      scopes.set(req, scope.split(' '));
      next();
    },
  ],
  permission: (name) => (req, _res, next) => {
    if (!scopes.get(req)?.includes(name)) throw AppError.forbidden('no_scope');
    next();
  },
};

async function app(r: RouteSpec[], mount: (m: RouteMounter) => void, guards: RouteGuards | null = fakeGuards) {
  return createHttpApp({
    logger: captureLogs('route-test').logger,
    metrics: createMetrics('route-test', 'test'),
    corsOrigins: [],
    bodyLimit: '1kb',
    readiness: [],
    api: api(r),
    guards: guards ?? undefined,
    mount,
  });
}

describe('the route registry', () => {
  it('When a route is added to the app without a spec, then the check names it (and a sub-router too)', () => {
    // Arrange
    const bare = express();
    bare.get('/undocumented', (_req, res) => void res.end());
    bare.use('/nested', express.Router());

    // Act, Assert
    assert.throws(() => new RouteMounter(bare, api([]), []).assertAllMounted(), /GET \/undocumented is mounted without a route spec.*sub-router/);
  });

  it('When a declared route is never mounted, then the app refuses to start naming it', async () => {
    await assert.rejects(
      app([routes.getThing, routes.mine], (m) => m.mount(routes.getThing, (_i, _req, res) => void res.json({}))),
      /GET \/mine is declared but never mounted/,
    );
  });

  it('When a route is mounted that the API does not declare, or twice, then mount throws', async () => {
    await assert.rejects(
      app([routes.getThing], (m) => m.mount(routes.mine, (_i, _req, res) => void res.json({}))),
      /GET \/mine is mounted but not declared/,
    );
    await assert.rejects(
      app([routes.getThing], (m) => {
        m.mount(routes.getThing, (_i, _req, res) => void res.json({}));
        m.mount(routes.getThing, (_i, _req, res) => void res.json({}));
      }),
      /mounted twice/,
    );
  });

  it('When a route names a problem code the catalogue lacks, then the app refuses to start and no document is made', async () => {
    const typo = defineRoute({ ...routes.getThing, problems: ['no_sucH_code'] });
    await assert.rejects(app([typo], (m) => m.mount(typo, (_i, _req, res) => void res.json({}))), /GET \/things\/:id names no_sucH_code/);
    assert.throws(() => openApiDocument(api([typo])), /no_sucH_code/);
  });

  it('When a route needs a token but the app has no token check, then mount throws', async () => {
    await assert.rejects(
      app([routes.mine], (m) => m.mount(routes.mine, (_i, _req, res) => void res.json({})), null),
      /needs authentication/,
    );
  });

  it('When a route path uses Express syntax a document cannot show, then generating the document fails', () => {
    const splat = defineRoute({ method: 'get', path: '/files/*rest', operationId: 'files', summary: 's', tag: 't', auth: 'public', responses: ok });
    assert.throws(() => openApiDocument(api([splat])), /only literal segments and :name parameters/);
  });
});

describe('what a spec declares is what is enforced', () => {
  let server: Server;
  let base: string;
  const seen: unknown[] = [];
  const r = [routes.getThing, routes.putThing, routes.mine];

  before(async () => {
    const built = await app(r, (m) => {
      m.mount(routes.getThing, (input, _req, res) => {
        seen.push(input);
        res.json({ id: input.params.id, limit: input.query.limit });
      });
      m.mount(routes.putThing, (input, _req, res) => {
        seen.push(input);
        res.json({ id: input.params.id, key: input.headers['Idempotency-Key'] ?? null, name: input.body.name });
      });
      m.mount(routes.mine, (_i, req, res) => void res.json({ scope: scopes.get(req) }));
    });
    server = await listen(built, 0, '127.0.0.1');
    base = `http://127.0.0.1:${portOf(server)}`;
  });

  after(async () => {
    await close(server);
  });

  const put = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: 'Bearer things:write', ...headers }, body: JSON.stringify(body) });

  it('When the input is valid, then the handler gets it parsed: coerced, defaulted, trimmed', async () => {
    // Act
    const got = await (await fetch(`${base}/things/42?limit=3`)).json();
    const defaulted = await (await fetch(`${base}/things/42`)).json();
    const stored = await (await put('/things/7', { name: '  widget ' }, { 'idempotency-key': 'abc' })).json();

    // Assert
    assert.deepEqual(got, { id: '42', limit: 3 });
    assert.deepEqual(defaulted, { id: '42', limit: 5 });
    assert.deepEqual(stored, { id: '7', key: 'abc', name: 'widget' });
  });

  it('When a path id fails its schema, then 404 with the spec\u2019s code, not a 400 and not the handler', async () => {
    // Arrange
    const before = seen.length;

    // Act
    const res = await fetch(`${base}/things/${'9'.repeat(400)}`);

    // Assert
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'not_found');
    assert.equal(seen.length, before);
  });

  it('When a query, a header or a body fails its schema, then 400 validation_failed naming it by its documented name', async () => {
    // Act
    const query = await fetch(`${base}/things/1?limit=0`);
    const header = await put('/things/1', { name: 'x' }, { 'Idempotency-Key': 'NOT-LOWER' });
    const body = await put('/things/1', { name: 'x', extra: true });

    // Assert
    const paths = async (res: Response) => {
      assert.equal(res.status, 400);
      const problem = (await res.json()) as { code: string; errors: { path: string }[] };
      assert.equal(problem.code, 'validation_failed');
      return problem.errors.map((e) => e.path);
    };
    assert.deepEqual(await paths(query), ['limit']);
    assert.deepEqual(await paths(header), ['Idempotency-Key']);
    assert.deepEqual(await paths(body), ['(root)']);
  });

  it('When a route declares a token or a permission, then a request without it is refused before validation', async () => {
    // Act
    const noToken = await fetch(`${base}/mine`);
    const noPermission = await put('/things/1', { bad: 'body' }, { authorization: 'Bearer other:scope' });
    const withToken = await fetch(`${base}/mine`, { headers: { authorization: 'Bearer any' } });

    // Assert
    assert.equal(noToken.status, 401);
    assert.equal(noPermission.status, 403);
    assert.equal(((await noPermission.json()) as { code: string }).code, 'no_scope');
    assert.deepEqual(await withToken.json(), { scope: ['any'] });
  });

  it('When /openapi.json is fetched, then it is the document generated from the same specs', async () => {
    // Act
    const res = await fetch(`${base}/openapi.json`);

    // Assert
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), JSON.parse(JSON.stringify(openApiDocument(api(r)))));
  });
});

describe('a route\u2019s guards, before-middleware and handler, run in one router layer', () => {
  /** Each guard does what the request's X-Guard header says: pass, throw, reject, next(err) or answer itself. */
  const ran: string[] = [];
  const guard = (name: string): RouteGuards['authenticate'][number] => (req, res, next) => {
    ran.push(name);
    const mode = req.headers['x-guard'] === name ? req.headers['x-mode'] : 'pass';
    if (mode === 'throw') throw AppError.unauthorized('no_token', `${name} threw`);
    if (mode === 'reject') return Promise.reject(AppError.forbidden('no_scope', `${name} rejected`));
    if (mode === 'next-error') return next(AppError.unauthorized('no_token', `${name} passed an error`));
    if (mode === 'answer') return void res.status(299).json({ answeredBy: name });
    if (mode === 'later') return Promise.resolve().then(() => next());
    next();
  };
  const guards: RouteGuards = { authenticate: [guard('a'), guard('b')], permission: () => guard('p') };
  let server: Server;
  let base: string;

  before(async () => {
    const built = await app([routes.putThing], (m) =>
      m.mount(routes.putThing, [guard('before')], (input, _req, res) => {
        ran.push('handler');
        if (input.body.name === 'reject') return Promise.reject(new Error('handler failed'));
        res.json({ name: input.body.name });
      }),
    guards);
    server = await listen(built, 0, '127.0.0.1');
    base = `http://127.0.0.1:${portOf(server)}`;
  });
  after(async () => {
    await close(server);
  });

  const put = async (headers: Record<string, string>, name = 'x') => {
    ran.length = 0;
    const res = await fetch(`${base}/things/1`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ name }) });
    return { status: res.status, body: (await res.json()) as { code?: string; detail?: string; answeredBy?: string; name?: string }, ran: [...ran] };
  };

  it('When every guard passes (one of them after an await), then they run in order, then the before-middleware, then the handler', async () => {
    // Act
    const res = await put({ 'x-guard': 'b', 'x-mode': 'later' });

    // Assert
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { name: 'x' });
    assert.deepEqual(res.ran, ['a', 'b', 'p', 'before', 'handler']);
  });

  it('When a guard throws, rejects or passes an error to next, then that problem is the answer and nothing after it runs', async () => {
    // Act
    const thrown = await put({ 'x-guard': 'a', 'x-mode': 'throw' });
    const rejected = await put({ 'x-guard': 'p', 'x-mode': 'reject' });
    const passed = await put({ 'x-guard': 'b', 'x-mode': 'next-error' });

    // Assert
    assert.deepEqual([thrown.status, thrown.body.detail, thrown.ran], [401, 'a threw', ['a']]);
    assert.deepEqual([rejected.status, rejected.body.detail, rejected.ran], [403, 'p rejected', ['a', 'b', 'p']]);
    assert.deepEqual([passed.status, passed.body.detail, passed.ran], [401, 'b passed an error', ['a', 'b']]);
  });

  it('When a guard answers itself, then that is the answer and nothing after it runs', async () => {
    // Act
    const res = await put({ 'x-guard': 'b', 'x-mode': 'answer' });

    // Assert
    assert.equal(res.status, 299);
    assert.deepEqual(res.body, { answeredBy: 'b' });
    assert.deepEqual(res.ran, ['a', 'b']);
  });

  it('When the handler rejects, then 500 internal_error', async () => {
    // Act
    const res = await put({}, 'reject');

    // Assert
    assert.equal(res.status, 500);
    assert.equal(res.body.code, 'internal_error');
    assert.deepEqual(res.ran, ['a', 'b', 'p', 'before', 'handler']);
  });
});
