/**
 * JSON bodies at the edge (shared/src/http/json-body.ts), both ways in: the common case read by
 * the edge itself (declared length, no encoding, UTF-8), everything else by express.json. Either
 * way the same answers: the body parsed, 400 malformed_json, 413 payload_too_large, 415
 * unsupported_media_type, 400 invalid_text / body_too_deep, and a connection that stays usable.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { createHttpApp } from '@warren/shared/http/app';
import { KIT_PROBLEM_CODES } from '@warren/shared/http/problem-codes';
import { defineRoute } from '@warren/shared/http/route-spec';
import { close, listen, portOf } from '@warren/shared/http/server';
import { createMetrics } from '@warren/shared/metrics';
import { captureLogs } from '../../test/support/logs.js';
import { waitFor } from './helpers.js';

const echo = defineRoute({
  method: 'post',
  path: '/echo',
  operationId: 'echo',
  summary: 's',
  tag: 't',
  auth: 'public',
  request: { body: z.unknown() },
  responses: { 200: { description: 'ok' } },
});

describe('JSON request bodies', () => {
  const logs = captureLogs('json-body-test');
  let server: Server;
  let base: string;
  let port: number;

  before(async () => {
    const app = await createHttpApp({
      logger: logs.logger,
      metrics: createMetrics('json-body-test', 'test'),
      corsOrigins: [],
      bodyLimit: '1kb',
      readiness: [],
      api: { title: 't', description: 't', routes: [echo], docs: false, version: '0.0.0', problems: KIT_PROBLEM_CODES, guardProblems: { token: [], permission: [] }, bearerDescription: 'none' },
      mount: (routes) => routes.mount(echo, ({ body }, _req, res) => void res.json({ body })),
    });
    server = await listen(app, 0, '127.0.0.1');
    port = portOf(server);
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await close(server);
  });

  const post = async (body: string | Buffer, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, json: (await res.json()) as { body?: unknown; code?: string } };
  };

  /** Writes `parts` to one keep-alive connection, one write each with a pause between, and returns what came back. */
  function raw(parts: (string | Buffer)[], end = true): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let answer = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (answer += chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(answer));
      socket.on('connect', async () => {
        for (const part of parts) {
          socket.write(part);
          await new Promise((r) => setTimeout(r, 20));
        }
        if (end) socket.end();
        else socket.destroy();
      });
    });
  }

  it('When a body arrives in several packets, then it is read whole (non-ASCII text included)', async () => {
    // Arrange
    const body = Buffer.from(JSON.stringify({ title: 'Grüße aus Köln 🎉', n: 1 }));
    const head = `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;

    // Act: the packets split a multi-byte character.
    const answer = await raw([head, body.subarray(0, 14), body.subarray(14, 15), body.subarray(15)]);

    // Assert
    assert.match(answer, /^HTTP\/1.1 200/);
    assert.deepEqual(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as unknown, { body: { title: Buffer.from('Grüße aus Köln 🎉').toString('latin1'), n: 1 } });
  });

  it('When the media type names charset UTF-8 in any spelling, or the body starts with a byte order mark, then it is read', async () => {
    // Act
    const quoted = await post('{"a":1}', { 'content-type': 'Application/JSON; charset="UTF-8"' });
    const bom = await post(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":2}')]));

    // Assert
    assert.deepEqual([quoted.status, quoted.json.body], [200, { a: 1 }]);
    assert.deepEqual([bom.status, bom.json.body], [200, { a: 2 }]);
  });

  it('When a body is compressed, chunked or in UTF-16, then express.json reads it as it always did', async () => {
    // Act
    const gzip = await post(gzipSync('{"a":"gzip"}'), { 'content-encoding': 'gzip' });
    const utf16 = await post(Buffer.from('{"a":"utf16"}', 'utf16le'), { 'content-type': 'application/json; charset=utf-16le' });
    const chunked = await raw(['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n', '4\r\n{"a"\r\n', '5\r\n:"ch"\r\n1\r\n}\r\n0\r\n\r\n']);

    // Assert
    assert.deepEqual([gzip.status, gzip.json.body], [200, { a: 'gzip' }]);
    assert.deepEqual([utf16.status, utf16.json.body], [200, { a: 'utf16' }]);
    assert.match(chunked, /^HTTP\/1.1 200/);
    assert.match(chunked, /\{"body":\{"a":"ch"\}\}$/);
  });

  it('When the charset or the encoding is one JSON is never sent in, then 415 unsupported_media_type', async () => {
    // Act
    const latin1 = await post('{"a":1}', { 'content-type': 'application/json; charset=iso-8859-1' });
    const encoding = await post('{"a":1}', { 'content-encoding': 'compress' });

    // Assert
    assert.deepEqual([latin1.status, latin1.json.code], [415, 'unsupported_media_type']);
    assert.deepEqual([encoding.status, encoding.json.code], [415, 'unsupported_media_type']);
  });

  it('When a body is over the limit, declared or chunked, then 413 payload_too_large', async () => {
    // Arrange
    const big = JSON.stringify({ a: 'x'.repeat(2000) });

    // Act
    const declared = await post(big);
    const chunked = await raw([`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`]);

    // Assert
    assert.deepEqual([declared.status, declared.json.code], [413, 'payload_too_large']);
    assert.match(chunked, /^HTTP\/1.1 413/);
  });

  it('When a body is not JSON, too deep, or holds an escaped U+0000, then 400 with its code', async () => {
    // Act
    const malformed = await post('{"a": ');
    const blank = await post('   ');
    const deep = await post('['.repeat(41) + ']'.repeat(41));
    const nul = await post('{"a":"x\\u0000"}');

    // Assert
    assert.deepEqual([malformed.status, malformed.json.code], [400, 'malformed_json']);
    assert.deepEqual([blank.status, blank.json.code], [400, 'malformed_json']);
    assert.deepEqual([deep.status, deep.json.code], [400, 'body_too_deep']);
    assert.deepEqual([nul.status, nul.json.code], [400, 'invalid_text']);
  });

  it('When a client goes away in the middle of a body, then nothing is answered or logged as an error, and the server goes on serving', async () => {
    // Arrange
    const errorsBefore = logs.lines.filter((l) => l.level === 'error').length;

    // Act
    const answer = await raw(['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n', '{"a":"only part'], false);
    const next = await post('{"a":"after"}');

    // Assert
    assert.equal(answer, '');
    assert.deepEqual([next.status, next.json.body], [200, { a: 'after' }]);
    await waitFor(() => logs.lines.some((l) => l.message === 'request' && l.status === 200), 'the next request logged');
    assert.equal(logs.lines.filter((l) => l.level === 'error').length, errorsBefore);
  });
});
