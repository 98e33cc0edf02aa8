/**
 * Sockets that never authenticate: they used to be held ~30 s each (the ws library's wait for
 * a closing handshake the attacker never answers), with no cap per address. Now a refused
 * socket whose peer ignores the close is dropped within a couple of seconds, a socket still not
 * authenticated after 10 s is closed with 4001, and one client address holds at most
 * WS_MAX_UNAUTHENTICATED_PER_ADDRESS (default 20) sockets before they authenticate: the next
 * upgrade is refused with 429, while other addresses are served.
 *
 * Verification is made to hang the way it can in production: tokens signed with a key id the
 * service does not know make it ask auth for the key set, and auth is stopped (RPC_TIMEOUT_MS
 * is long), so those sockets stay unauthenticated.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { activeSigningKey, decodePayload, signWith } from '../support/forge.js';
import { call } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';

/** Upgrades by hand and then never answers anything: returns when the server drops the TCP connection. */
function rawUpgradeThatNeverAnswers(port: number): { firstBytes: Promise<string>; dropped: Promise<void>; socket: Socket } {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const firstBytes = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
  const dropped = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { firstBytes, dropped, socket };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}

type Outcome = { kind: 'open'; closed: Promise<{ code: number; reason: string }> } | { kind: 'refused'; status: number };

/** Opens a socket; resolves once the upgrade was accepted (with its eventual close) or refused (with the HTTP status). */
function attempt(url: string, headers: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('error', () => undefined);
    ws.once('unexpected-response', (_req, res) => {
      resolve({ kind: 'refused', status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once('upgrade', () => {
      const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
      resolve({ kind: 'open', closed });
    });
  });
}

describe('Unauthenticated sockets', () => {
  let stack: Stack;
  let port: number;
  let unknownKidToken: string;

  before(async () => {
    // Long RPC timeout: with auth stopped, a key-set fetch hangs (30 s) instead of failing fast.
    stack = await startStack({ RPC_TIMEOUT_MS: '30000', TRUST_PROXY: '1' });
    port = Number(new URL(stack.notificationUrl).port);
    const session = await login(stack);
    const key = await activeSigningKey(stack);
    unknownKidToken = signWith(key, { ...decodePayload(session.accessToken) }, { kid: 'a-key-nobody-announced' });
  });
  after(async () => {
    await stack?.stop();
  });

  it('When a refused client never answers the close frame, then the server drops the connection within seconds, not 30 s', async () => {
    const { firstBytes, dropped } = rawUpgradeThatNeverAnswers(port);
    assert.match(await within(firstBytes, 5000, 'upgrade answer'), /^HTTP\/1\.1 101 /);
    await within(dropped, 10_000, 'server dropping the unanswered close');
  });

  it('When a socket has not authenticated within 10 s, then it is closed with 4001', async () => {
    await stack.auth.stop();
    const outcome = await attempt(`${stack.notificationWsUrl}?token=${unknownKidToken}`);
    assert.equal(outcome.kind, 'open');
    const closed = await within((outcome as { closed: Promise<{ code: number; reason: string }> }).closed, 20_000, 'authentication deadline');
    assert.equal(closed.code, 4001);
    assert.equal(closed.reason, 'authentication timeout');
  });

  it('When one address holds 20 sockets that have not authenticated, then its next upgrade is refused with 429 while another address is served', async () => {
    // Arrange: 20 hanging sockets from one client (behind the trusted proxy: X-Forwarded-For)
    const url = `${stack.notificationWsUrl}?token=${unknownKidToken}`;
    const attacker = { 'x-forwarded-for': '203.0.113.7' };
    const held = await Promise.all(Array.from({ length: 20 }, () => attempt(url, attacker)));
    assert.ok(held.every((o) => o.kind === 'open'), 'the first 20 are accepted');

    // Act + Assert: the 21st from that address is refused before any WebSocket exists...
    const over = await attempt(url, attacker);
    assert.deepEqual(over, { kind: 'refused', status: 429 });
    // ... another address is not affected
    const other = await attempt(url, { 'x-forwarded-for': '198.51.100.9' });
    assert.equal(other.kind, 'open');

    // Once the held ones are closed (4001 at their deadline), the address may connect again
    const closes = await within(Promise.all(held.map((o) => (o as { closed: Promise<{ code: number }> }).closed)), 20_000, 'deadline closes');
    assert.ok(closes.every((c) => c.code === 4001));
    const again = await attempt(url, attacker);
    assert.equal(again.kind, 'open');
    if (other.kind === 'open') await within(other.closed, 20_000, 'other close');
    if (again.kind === 'open') await within(again.closed, 20_000, 'again close');
  });

  it('When all of this is over, then the notification service is ready', async () => {
    assert.equal((await call(`${stack.notificationUrl}/readyz`)).status, 200);
  });
});
