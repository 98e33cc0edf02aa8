/**
 * The generated API documents, without a running stack: they pass third-party validators
 * (swagger-parser for OpenAPI 3.1, @asyncapi/parser for AsyncAPI 3.0), the committed copies in
 * docs/api/ are what `npm run docs` writes today, every example parses with the schema it
 * illustrates, every problem code the code can throw is documented under its status, and the
 * AsyncAPI document covers every close code, frame, event and RPC method.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Parser } from '@asyncapi/parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { authRpc } from '@warren/shared/contracts/auth-rpc';
import { ROUTING_KEYS } from '@warren/shared/contracts/topology';
import { API_VERSION, PROBLEM_CODES } from '@warren/shared/contracts/http-api';
import { openApiDocument } from '@warren/shared/http/openapi';
import type { ApiDefinition, RouteSpec } from '@warren/shared/http/route-spec';
import { standardRoutes } from '@warren/shared/http/standard-routes';
import { API_DOCS_DIR, apiDocuments } from '../../scripts/api-docs.js';
import { mainBackendApi } from '../../services/main-backend/src/http/api.js';
import { asyncApiDocument } from '../../services/notification/src/asyncapi.js';
import { notificationApi } from '../../services/notification/src/http/api.js';
import { CLOSE } from '../../services/notification/src/ws/close-codes.js';
import { REPO_ROOT } from '../scripts/fake-tools.js';

const APIS: [string, ApiDefinition][] = [
  ['main-backend', mainBackendApi],
  ['notification', notificationApi],
];

function allRoutes(api: ApiDefinition): RouteSpec[] {
  return [...standardRoutes(api), ...api.routes];
}

async function asyncApiDiagnostics(doc: unknown) {
  const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
  // Severity 0 is an error, 1 a warning; 2 and 3 (information, hints) are advice.
  return { document, problems: diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.path.join('.')}: ${d.message}`) };
}

describe('the OpenAPI documents', () => {
  for (const [name, api] of APIS) {
    it(`When the ${name} document is validated by swagger-parser, then it is valid OpenAPI 3.1 with every route of the service`, async () => {
      // Act
      const doc = openApiDocument(api) as unknown as OpenAPIV3_1.Document;
      await SwaggerParser.validate(structuredClone(doc) as never);

      // Assert
      assert.equal(doc.openapi, '3.1.0');
      const documented = Object.entries(doc.paths ?? {}).flatMap(([path, item]) => Object.keys(item ?? {}).map((m) => `${m.toUpperCase()} ${path}`));
      const declared = allRoutes(api).map((r) => `${r.method.toUpperCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
      assert.deepEqual(documented.sort(), declared.sort());
    });
  }

  it('When a required field goes missing or a security scheme is malformed, then swagger-parser refuses the document (the validator is not a rubber stamp)', async () => {
    // Arrange
    const noTitle = structuredClone(openApiDocument(mainBackendApi)) as unknown as { info: { title?: string } };
    delete noTitle.info.title;
    const badScheme = structuredClone(openApiDocument(mainBackendApi)) as unknown as { components: { securitySchemes: Record<string, { type: string }> } };
    (badScheme.components.securitySchemes.bearerAuth as { type: string }).type = 'bearer-ish';

    // Act, Assert
    await assert.rejects(SwaggerParser.validate(noTitle as never), /title/);
    await assert.rejects(SwaggerParser.validate(badScheme as never), /securitySchemes/);
  });

  it('When a path has a {parameter}, then each of its operations documents that path parameter (swagger-parser checks this only for Swagger 2.0)', () => {
    for (const [, api] of APIS) {
      const doc = openApiDocument(api) as unknown as OpenAPIV3_1.Document;
      for (const [path, item] of Object.entries(doc.paths ?? {})) {
        const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        for (const [method, op] of Object.entries(item ?? {}) as [string, OpenAPIV3_1.OperationObject][]) {
          const documented = (op.parameters ?? []).filter((p) => 'in' in p && p.in === 'path').map((p) => (p as OpenAPIV3_1.ParameterObject).name);
          assert.deepEqual(documented.sort(), names.sort(), `${method} ${path}`);
        }
      }
    }
  });

  it('When a route needs a token or a permission, then its operation has the bearer security, the 401 codes and, for a permission, 403 missing_permission', () => {
    for (const [, api] of APIS) {
      const doc = openApiDocument(api) as unknown as OpenAPIV3_1.Document;
      for (const route of allRoutes(api)) {
        const op = (doc.paths?.[route.path.replace(/:(\w+)/g, '{$1}')] as Record<string, OpenAPIV3_1.OperationObject>)[route.method] as OpenAPIV3_1.OperationObject;
        const codesOf = (status: string) => JSON.stringify((op.responses?.[status] as OpenAPIV3_1.ResponseObject | undefined)?.content ?? {});
        if (route.auth === 'public') {
          assert.equal(op.security, undefined, route.path);
          continue;
        }
        assert.deepEqual(op.security, [{ bearerAuth: [] }], route.path);
        for (const code of ['missing_token', 'invalid_token', 'token_expired', 'session_ended']) assert.match(codesOf('401'), new RegExp(code), `${route.path} ${code}`);
        if (typeof route.auth === 'object') assert.match(codesOf('403'), /missing_permission/, route.path);
      }
    }
  });

  it('When the examples of every route are parsed with the schemas they illustrate, then each one is valid', () => {
    let checked = 0;
    for (const [, api] of APIS) {
      for (const route of allRoutes(api)) {
        if (route.bodyExample !== undefined) {
          assert.ok(route.request?.body, `${route.path} has a body example but no body`);
          const parsed = route.request.body.safeParse(route.bodyExample);
          assert.ok(parsed.success, `${route.method} ${route.path} body example: ${parsed.error?.message}`);
          checked++;
        }
        for (const [status, response] of Object.entries(route.responses)) {
          if (response.example === undefined) continue;
          assert.ok(response.schema, `${route.path} ${status} has an example but no schema`);
          const parsed = response.schema.safeParse(response.example);
          assert.ok(parsed.success, `${route.method} ${route.path} ${status} example: ${parsed.error?.message}`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 20, `only ${checked} examples`);
  });

  it('When a route takes a body, then it has an example of it; and every JSON answer with a schema has one too', () => {
    for (const [, api] of APIS) {
      for (const route of api.routes) {
        if (route.request?.body) assert.notEqual(route.bodyExample, undefined, `${route.method} ${route.path} body`);
        for (const [status, r] of Object.entries(route.responses)) {
          if (r.schema && (r.contentType ?? 'application/json') === 'application/json' && route.tag !== 'documents') {
            assert.notEqual(r.example, undefined, `${route.method} ${route.path} ${status}`);
          }
        }
      }
    }
  });

  it('When the source throws a problem code, then it is documented with that same status', () => {
    // Arrange: every AppError the services and shared code construct, with its status.
    const helperStatus: Record<string, number> = { badRequest: 400, unauthorized: 401, forbidden: 403, notFound: 404, unavailable: 503, timeout: 504 };
    /** Codes that never reach HTTP (a consumer's reason to dead-letter a message). */
    const notOverHttp = new Set(['email_not_renderable']);
    const thrown = new Map<string, Set<number>>();
    const add = (code: string, status: number) => thrown.set(code, (thrown.get(code) ?? new Set()).add(status));
    const sources = ['shared/src', 'services/auth/src', 'services/main-backend/src', 'services/notification/src'].flatMap((d) => tsFiles(join(REPO_ROOT, d)));
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/new AppError\(\{\s*status: (\d{3}),\s*code: '([a-z_]+)'/g)) add(m[2] as string, Number(m[1]));
      for (const m of text.matchAll(/AppError\.(badRequest|unauthorized|forbidden|notFound|unavailable|timeout)\(\s*'([a-z_]+)'/g)) add(m[2] as string, helperStatus[m[1] as string] as number);
      if (/AppError\.validation\(/.test(text)) add('validation_failed', 400);
    }
    assert.ok(thrown.size >= 30, `the scan found only ${thrown.size} codes: is the pattern still right?`);

    // Assert
    for (const [code, statuses] of thrown) {
      if (notOverHttp.has(code)) continue;
      const documented = PROBLEM_CODES[code as keyof typeof PROBLEM_CODES];
      assert.ok(documented, `problem code ${code} is thrown but missing from the catalogue (shared/src/contracts/http-api.ts, or the kit's http/problem-codes.ts)`);
      assert.deepEqual([...statuses], [documented.status], `${code} is thrown with status ${[...statuses]} but documented as ${documented.status}`);
    }
  });

  it('When the README changelog names its newest release, then the documents carry that version', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const newest = readme.slice(readme.indexOf('## Changelog')).match(/^- (\d+\.\d+\.\d+) /m)?.[1];
    assert.equal(API_VERSION, newest, 'set API_VERSION in shared/src/contracts/http-api.ts to the newest changelog entry, then npm run docs');
  });
});

describe('the AsyncAPI document', () => {
  it('When @asyncapi/parser reads it, then it is valid AsyncAPI 3.0 without errors or warnings', async () => {
    // Act
    const { document, problems } = await asyncApiDiagnostics(asyncApiDocument());

    // Assert
    assert.deepEqual(problems, []);
    assert.ok(document);
    assert.equal(document.version(), '3.0.0');
  });

  it('When a message loses its payload type, then the parser reports an error (the validator is not a rubber stamp)', async () => {
    // Arrange
    const doc = structuredClone(asyncApiDocument()) as { channels: Record<string, { messages: Record<string, { payload: unknown }> }> };
    (doc.channels.socket as { messages: Record<string, { payload: unknown }> }).messages.ready = { payload: { type: 'no-such-type' } };

    // Act
    const { problems } = await asyncApiDiagnostics(doc);

    // Assert
    assert.ok(problems.length > 0);
  });

  it('When it is read, then it names every close code, every frame both ways, every event and every auth RPC method', () => {
    // Arrange
    const doc = asyncApiDocument() as {
      channels: Record<string, { address: string | null; messages: Record<string, { payload: { properties?: { type?: { const?: string } } } }>; 'x-close-codes'?: { code: number }[] }>;
    };
    const socket = doc.channels.socket as NonNullable<(typeof doc.channels)[string]>;

    // Assert
    assert.deepEqual(socket['x-close-codes']?.map((c) => c.code).sort(), Object.values(CLOSE).sort());
    for (const code of Object.values(CLOSE)) assert.match(JSON.stringify(socket), new RegExp(`\`${code}\``), `close code ${code} in the description`);
    const frameTypes = Object.values(socket.messages).map((m) => JSON.stringify(m.payload).match(/"type":\{"type":"string","const":"([a-z_]+)"/)?.[1]);
    assert.deepEqual([...new Set(frameTypes)].sort(), ['auth', 'auth_ok', 'error', 'notification', 'ping', 'pong', 'read', 'ready', 'unread']);
    const addresses = Object.values(doc.channels).map((c) => c.address);
    for (const key of [ROUTING_KEYS.notificationRequested, ROUTING_KEYS.userUpserted, ROUTING_KEYS.sessionEnded, ROUTING_KEYS.emailRequested]) assert.ok(addresses.includes(key), key);
    for (const method of Object.values(authRpc)) assert.ok(addresses.includes(method.routingKey), method.routingKey);
  });
});

describe('docs/api/', () => {
  it('When the documents are generated now, then the committed files are the same (else: npm run docs)', () => {
    // Act
    const fresh = apiDocuments();

    // Assert
    assert.deepEqual(readdirSync(API_DOCS_DIR).sort(), Object.keys(fresh).sort());
    for (const [name, text] of Object.entries(fresh)) {
      assert.ok(readFileSync(join(API_DOCS_DIR, name), 'utf8') === text, `docs/api/${name} is stale: run npm run docs and commit it`);
    }
  });
});

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}
