/**
 * The documents as the running services serve them: /openapi.json (main backend, notification)
 * and /asyncapi.json are the generated documents; every documented operation is routed; real
 * answers match the documented schemas (validated with Ajv against the served document); /docs
 * loads only its own origin's files under a self-only Content-Security-Policy, also in a real
 * browser (Debian's Chromium through playwright-core), where it shows every operation.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { OpenAPIV3_1 } from 'openapi-types';
import { chromium } from 'playwright-core';
import { DOCS_CSP } from '@warren/shared/http/docs-page';
import { openApiDocument } from '@warren/shared/http/openapi';
import { mainBackendApi } from '../../services/main-backend/src/http/api.js';
import { asyncApiDocument } from '../../services/notification/src/asyncapi.js';
import { notificationApi } from '../../services/notification/src/http/api.js';
import { RESULTS } from '../support/browser.js';
import { call } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// With the portals' pictures of a run (git-ignored), not in /tmp where each run added one.
const SCREENSHOTS = RESULTS;

type Doc = OpenAPIV3_1.Document;

/** The example value (or first enum value) of each path parameter, to call an operation. */
function concretePath(path: string, op: OpenAPIV3_1.OperationObject): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const param = (op.parameters ?? []).find((p) => 'name' in p && p.name === name) as OpenAPIV3_1.ParameterObject | undefined;
    const schema = param?.schema as { example?: string; enum?: string[] } | undefined;
    return encodeURIComponent(schema?.example ?? schema?.enum?.[0] ?? 'x');
  });
}

function operations(doc: Doc): { method: string; path: string; op: OpenAPIV3_1.OperationObject }[] {
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item ?? {}).map(([method, op]) => ({ method, path, op: op as OpenAPIV3_1.OperationObject })),
  );
}

/** Validates answers against the served document's own response schemas. */
function answerChecker(doc: Doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(doc as object, 'doc');
  return (method: string, path: string, status: number, body: unknown) => {
    const pointer = `/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}/responses/${status}/content`;
    const content = Object.entries(pointer.split('/').slice(1).reduce<any>((node, key) => node?.[key.replaceAll('~1', '/').replaceAll('~0', '~')], doc) ?? {});
    assert.ok(content.length === 1, `${method} ${path} documents no body for ${status}`);
    const [mediaType] = content[0] as [string, unknown];
    const validate = ajv.getSchema(`doc#${pointer}/${mediaType.replaceAll('/', '~1')}/schema`);
    assert.ok(validate, `no schema at ${pointer}`);
    assert.ok(validate(body), `${method} ${path} ${status} does not match its documented schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`);
  };
}

describe('the served API documents', { timeout: 120_000 }, () => {
  let stack: Stack;
  let token: string;
  let mainDoc: Doc;
  let notificationDoc: Doc;

  before(async () => {
    stack = await startStack();
    token = (await login(stack)).accessToken;
    mainDoc = (await call<Doc>(`${stack.mainUrl}/openapi.json`)).body;
    notificationDoc = (await call<Doc>(`${stack.notificationUrl}/openapi.json`)).body;
  });

  after(async () => {
    await stack?.stop();
  });

  it('When /openapi.json and /asyncapi.json are fetched, then they are the documents generated from the route specs and schemas', async () => {
    // Act
    const asyncapi = await fetch(`${stack.notificationUrl}/asyncapi.json`);

    // Assert
    assert.deepEqual(mainDoc, JSON.parse(JSON.stringify(openApiDocument(mainBackendApi))));
    assert.deepEqual(notificationDoc, JSON.parse(JSON.stringify(openApiDocument(notificationApi))));
    assert.equal(asyncapi.status, 200);
    assert.match(asyncapi.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await asyncapi.json(), JSON.parse(JSON.stringify(asyncApiDocument())));
  });

  it('When the auth service (which has no REST API) is asked for documents, then it has none', async () => {
    const authUrl = `http://127.0.0.1:${stack.auth.port()}`;
    for (const path of ['/openapi.json', '/docs']) assert.equal((await call(`${authUrl}${path}`)).body.code, 'route_not_found', path);
  });

  it('When every documented operation is called, then each reaches a route (no route_not_found)', async () => {
    for (const [url, doc] of [
      [stack.mainUrl, mainDoc],
      [stack.notificationUrl, notificationDoc],
    ] as const) {
      for (const { method, path, op } of operations(doc)) {
        const res = await fetch(`${url}${concretePath(path, op)}`, { method: method.toUpperCase() });
        const body = res.headers.get('content-type')?.includes('json') ? ((await res.json()) as { code?: string }) : (await res.arrayBuffer(), {});
        assert.notEqual(body.code, 'route_not_found', `${method} ${path}`);
      }
    }
  });

  it('When the API answers, then each answer matches the schema the document gives for its status', async () => {
    // Arrange
    const main = answerChecker(mainDoc);
    const notif = answerChecker(notificationDoc);
    const auth = { token };
    const me = await call(`${stack.mainUrl}/auth/me`, auth);
    const sent = await call(`${stack.mainUrl}/notifications`, { ...auth, body: { recipients: { userIds: [me.body.user.id] }, title: 'Documented', body: 'b' } });
    await until(async () => (await call(`${stack.notificationUrl}/inbox/unread-count`, auth)).body.count === 1, 'the notification stored');

    // Act, Assert: each answer against its status's schema.
    const answers: [typeof main, string, string, Promise<{ status: number; body: unknown }> | { status: number; body: unknown }][] = [
      [main, 'post', '/login', call(`${stack.mainUrl}/login`, { body: { email: me.body.user.email, password: 'wrong password' } })],
      [main, 'get', '/auth/me', me],
      [main, 'get', '/auth/sessions', call(`${stack.mainUrl}/auth/sessions`, auth)],
      [main, 'get', '/users', call(`${stack.mainUrl}/users?limit=5`, auth)],
      [main, 'get', '/users', call(`${stack.mainUrl}/users?limit=500`, auth)],
      [main, 'get', '/audit-events', call(`${stack.mainUrl}/audit-events?limit=5`, auth)],
      [main, 'get', '/audit-events', call(`${stack.mainUrl}/audit-events?before=0`, auth)],
      [main, 'patch', '/users/{id}', call(`${stack.mainUrl}/users/${me.body.user.id}`, { ...auth, method: 'PATCH', body: { role: 'employee' } })],
      [main, 'delete', '/auth/sessions/{id}', call(`${stack.mainUrl}/auth/sessions/not-a-uuid`, { ...auth, method: 'DELETE' })],
      [main, 'post', '/notifications', sent],
      [main, 'post', '/notifications', call(`${stack.mainUrl}/notifications`, { body: {} })],
      [main, 'get', '/.well-known/jwks.json', call(`${stack.mainUrl}/.well-known/jwks.json`)],
      [main, 'get', '/readyz', call(`${stack.mainUrl}/readyz`)],
      [notif, 'get', '/inbox', call(`${stack.notificationUrl}/inbox`, auth)],
      [notif, 'get', '/inbox', call(`${stack.notificationUrl}/inbox?before=zz`, auth)],
      [notif, 'get', '/inbox/unread-count', call(`${stack.notificationUrl}/inbox/unread-count`, auth)],
      [notif, 'post', '/inbox/{id}/read', call(`${stack.notificationUrl}/inbox/ffffffffffffffff/read`, { ...auth, method: 'POST' })],
      [notif, 'get', '/healthz', call(`${stack.notificationUrl}/healthz`)],
    ];
    const statuses: number[] = [];
    for (const [check, method, path, pending] of answers) {
      const { status, body } = await pending;
      statuses.push(status);
      check(method, path, status, body);
    }
    // The set covers successes and problems of several statuses.
    assert.deepEqual([...new Set(statuses)].sort(), [200, 202, 400, 401, 404, 409]);
  });

  it('When /docs is fetched, then the page and every file it references come from the service itself, under a self-only CSP', async () => {
    for (const [url, pagePath] of [stack.mainUrl, stack.notificationUrl].flatMap((u) => [[u, '/docs'], [u, '/docs/']] as const)) {
      // Act
      const page = await fetch(`${url}${pagePath}`);
      const html = await page.text();

      // Assert
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(page.headers.get('content-security-policy'), DOCS_CSP);
      for (const directive of ['script-src', 'style-src', 'connect-src']) {
        assert.match(DOCS_CSP, new RegExp(`${directive} 'self'(;|$)`), `${directive} allows only 'self'`);
      }
      const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
      // Relative, so that a gateway may serve the page under a prefix (/notification/docs).
      const resolved = refs.map((ref) => new URL(ref, `${url}${pagePath}`).pathname);
      assert.deepEqual(resolved.sort(), ['/docs/assets/favicon-32x32.png', '/docs/assets/init.js', '/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css']);
      assert.ok(refs.every((ref) => !ref.startsWith('/')), 'no reference is absolute');
      for (const ref of refs) {
        const asset = await fetch(new URL(ref, `${url}${pagePath}`));
        assert.equal(new URL(asset.url).origin, url, `${ref} is same-origin`);
        assert.equal(asset.status, 200, ref);
        const text = Buffer.from(await asset.arrayBuffer()).toString('latin1');
        if (ref.endsWith('.css')) {
          const urls = [...text.matchAll(/url\(\s*["']?([^"')]+)/g)].map((m) => m[1] as string);
          assert.ok(urls.length > 0 && urls.every((u) => u.startsWith('data:')), 'the stylesheet loads nothing but data: URIs');
        }
        if (ref.endsWith('init.js')) assert.match(text, /new URL\('\.\.\/\.\.\/openapi\.json', document\.currentScript\.src\)/);
      }
      const unknown = await call(`${url}/docs/assets/..%2F..%2Fpackage.json`);
      assert.equal(unknown.status, 404);
    }
  });

  it('When the docs page is opened in a browser, then it shows every operation, requests only its own origin and breaks no CSP rule', { skip: !existsSync(CHROMIUM) && `${CHROMIUM} is missing` }, async () => {
    // Arrange
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'], timeout: 30_000 });
    try {
      for (const [url, doc] of [
        [stack.mainUrl, mainDoc],
        [stack.notificationUrl, notificationDoc],
      ] as const) {
        const page = await browser.newPage();
        const requested: string[] = [];
        const complaints: string[] = [];
        page.on('request', (r) => requested.push(r.url()));
        page.on('console', (m) => {
          if (m.type() === 'error') complaints.push(m.text());
        });
        page.on('pageerror', (e) => complaints.push(e.message));

        // Act
        await page.goto(`${url}/docs`, { waitUntil: 'networkidle' });
        await page.waitForSelector('.opblock', { timeout: 20_000 });
        const shown = await page.locator('.opblock').count();
        mkdirSync(SCREENSHOTS, { recursive: true });
        await page.screenshot({ path: join(SCREENSHOTS, `api-docs-${url.includes(String(stack.notification.port())) ? 'notification' : 'main-backend'}.png`), fullPage: false });
        await page.close();

        // Assert
        assert.equal(shown, operations(doc).length, 'one block per documented operation');
        assert.ok(requested.some((r) => r.endsWith('/openapi.json')), 'the page loaded the document');
        assert.deepEqual(requested.filter((r) => !r.startsWith(`${url}/`) && !r.startsWith('data:')), [], 'requests to another origin');
        assert.deepEqual(complaints, [], 'console errors (CSP violations show up here)');
      }
    } finally {
      await browser.close();
    }
  });
});
