/**
 * The portals' API client (s3-layout/dev/base/warren-client.js) in node, with a fake fetch and a
 * fake WebSocket: what it stores, how it refreshes, and what it does on each close code. The
 * browser test covers the happy paths against a real stack; these cover the paths a real server
 * rarely takes on cue.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';
import { sleep } from './support/http.js';

const clientPath = fileURLToPath(new URL('../s3-layout/dev/base/warren-client.js', import.meta.url));
// A plain JS module without types: loaded dynamically and used through a narrow interface.
const { WarrenClient } = (await import(pathToFileURL(clientPath).href)) as { WarrenClient: new (config: object, deps: object) => Client };

interface Client extends EventTarget {
  login(email: string, password: string): Promise<unknown>;
  refresh(): Promise<unknown>;
  logout(): Promise<void>;
  connect(): void;
  disconnect(): void;
  unreadCount: number;
  newestId: string | null;
  signedIn: boolean;
}

class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  get params() {
    return new URL(this.url).searchParams;
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  /** The server accepts and says ready. */
  ready(unreadCount = 0) {
    this.readyState = 1;
    this.frame({ type: 'ready', unreadCount });
  }
  frame(f: object) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  serverClose(code: number) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

function setup({ refreshStatus = 200, expiresIn = 900 } = {}) {
  FakeSocket.all = [];
  const calls: { method: string; path: string; body?: any }[] = [];
  let issued = 0;
  const tokens = () => {
    issued++;
    return {
      accessToken: `access-${issued}`,
      refreshToken: `refresh-${issued}`,
      tokenType: 'Bearer',
      expiresIn,
      user: { id: 'u1', email: 'a@warren.test', name: 'A', role: 'admin' },
      permissions: ['notifications:send'],
      session: { id: 's1', expiresAt: new Date(Date.now() + 1e9).toISOString() },
    };
  };
  const json = (status: number, body: unknown) =>
    new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetch = async (url: string, init: { method: string; body?: string }) => {
    const path = new URL(url).pathname;
    const body = init.body ? JSON.parse(init.body) : undefined;
    calls.push({ method: init.method, path, body });
    await sleep(5);
    if (path === '/login') return json(200, tokens());
    if (path === '/auth/refresh') {
      return refreshStatus === 200 ? json(200, tokens()) : json(refreshStatus, { status: refreshStatus, code: 'refresh_token_reused', detail: 'Session ended.' });
    }
    if (path === '/inbox/unread-count') return json(200, { count: 7 });
    if (path === '/auth/logout') return json(204, undefined);
    return json(404, { code: 'route_not_found' });
  };
  const store = new Map<string, string>();
  const storage = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  };
  const client = new WarrenClient(
    { apiUrl: 'https://api.dev.test/', wsUrl: 'wss://api.dev.test/ws', partition: 'dev', portal: 'admin' },
    { fetch, WebSocket: FakeSocket, storage },
  );
  const events: { type: string; detail: any }[] = [];
  for (const type of ['session', 'signedout', 'ready', 'notification', 'read', 'unread', 'connection']) {
    client.addEventListener(type, (e) => events.push({ type, detail: (e as CustomEvent).detail }));
  }
  return { client, calls, store, events };
}

async function until(check: () => boolean, what: string, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

const notification = (id: string) => ({ id, type: 'general', title: `n ${id}`, body: '', data: {}, createdAt: new Date().toISOString(), readAt: null });

describe('the portal client', () => {
  it('When logging in, then only the refresh token is stored, under a partition and portal key', async () => {
    const { client, store, events } = setup();
    await client.login('a@warren.test', 'pw');
    assert.deepEqual([...store.entries()], [['warren:dev:admin:refreshToken', 'refresh-1']]);
    assert.equal(client.signedIn, true);
    assert.equal(events.filter((e) => e.type === 'session').length, 1);
    client.disconnect();
  });

  it('When notifications arrive and the replica goes away (1001), then it reconnects with ?after= the newest id', async () => {
    const { client, events } = setup();
    await client.login('a@warren.test', 'pw');
    client.connect();
    await until(() => FakeSocket.all.length === 1, 'a socket');
    const first = FakeSocket.all[0]!;
    assert.equal(first.params.get('token'), 'access-1');
    assert.equal(first.params.get('after'), null);
    first.ready(2);
    first.frame({ type: 'notification', notification: notification('000000000000000a') });
    first.frame({ type: 'notification', notification: notification('000000000000000b') });
    assert.equal(client.unreadCount, 4);
    assert.equal(client.newestId, '000000000000000b');

    first.serverClose(1001);
    await until(() => FakeSocket.all.length === 2, 'a reconnect', 2000);
    assert.equal(FakeSocket.all[1]!.params.get('after'), '000000000000000b');
    FakeSocket.all[1]!.ready(4);
    const ready = events.filter((e) => e.type === 'ready').map((e) => e.detail.reconnected);
    assert.deepEqual(ready, [false, true]);
    // after a reconnect the count is re-read once the replay settled
    await until(() => client.unreadCount === 7, 'the reconciled count', 2000);
    client.disconnect();
  });

  it('When the socket closes with 4001, then the token is refreshed before it reconnects', async () => {
    const { client, calls } = setup();
    await client.login('a@warren.test', 'pw');
    client.connect();
    await until(() => FakeSocket.all.length === 1, 'a socket');
    FakeSocket.all[0]!.ready();
    FakeSocket.all[0]!.serverClose(4001);
    await until(() => FakeSocket.all.length === 2, 'a reconnect', 2000);
    assert.equal(calls.filter((c) => c.path === '/auth/refresh').length, 1);
    assert.equal(FakeSocket.all[1]!.params.get('token'), 'access-2');
    client.disconnect();
  });

  for (const code of [1008, 1009]) {
    it(`When the socket closes with ${code} (a client bug), then it does not reconnect`, async () => {
      const { client, events } = setup();
      await client.login('a@warren.test', 'pw');
      client.connect();
      await until(() => FakeSocket.all.length === 1, 'a socket');
      FakeSocket.all[0]!.serverClose(code);
      await sleep(700);
      assert.equal(FakeSocket.all.length, 1);
      assert.deepEqual(events.filter((e) => e.type === 'connection').at(-1)?.detail, { state: 'stopped', code });
    });
  }

  for (const code of [4029, 1013]) {
    it(`When the socket closes with ${code}, then it waits at least 15 s before trying again`, async () => {
      const { client, events } = setup();
      await client.login('a@warren.test', 'pw');
      client.connect();
      await until(() => FakeSocket.all.length === 1, 'a socket');
      FakeSocket.all[0]!.serverClose(code);
      const retry = events.filter((e) => e.type === 'connection').at(-1)?.detail;
      assert.equal(retry.state, 'retrying');
      assert.ok(retry.retryInMs >= 15_000, `retry in ${retry.retryInMs} ms`);
      client.disconnect();
    });
  }

  it('When the token is refreshed while the socket is live, then the socket is renewed with an auth frame', async () => {
    const { client } = setup();
    await client.login('a@warren.test', 'pw');
    client.connect();
    await until(() => FakeSocket.all.length === 1, 'a socket');
    FakeSocket.all[0]!.ready();
    await client.refresh();
    assert.deepEqual(FakeSocket.all[0]!.sent, [{ type: 'auth', token: 'access-2' }]);
    assert.equal(FakeSocket.all.length, 1);
    client.disconnect();
  });

  it('When several callers refresh at once, then one request is made (a second would be a reuse)', async () => {
    const { client, calls } = setup();
    await client.login('a@warren.test', 'pw');
    await Promise.all([client.refresh(), client.refresh(), client.refresh()]);
    assert.equal(calls.filter((c) => c.path === '/auth/refresh').length, 1);
    client.disconnect();
  });

  it('When the refresh is refused, then the session ends and the stored token is forgotten', async () => {
    const { client, store, events } = setup({ refreshStatus: 401 });
    await client.login('a@warren.test', 'pw');
    await assert.rejects(client.refresh(), { status: 401, detail: 'Session ended.' });
    assert.equal(store.size, 0);
    assert.equal(client.signedIn, false);
    assert.deepEqual(events.find((e) => e.type === 'signedout')?.detail, { reason: 'expired' });
  });

  it('When logging out, then /auth/logout is called with the token and everything is forgotten', async () => {
    const { client, calls, store } = setup();
    await client.login('a@warren.test', 'pw');
    await client.logout();
    assert.deepEqual(calls.at(-1), { method: 'POST', path: '/auth/logout', body: undefined });
    assert.equal(store.size, 0);
    assert.equal(client.signedIn, false);
  });
});
