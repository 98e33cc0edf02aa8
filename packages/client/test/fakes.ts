/**
 * A scripted Warren for the client's unit tests: a fake fetch that answers login, refresh,
 * inbox and sends the way the services do (or as a test tells it to), and a fake WebSocket
 * the test drives frame by frame. The end-to-end tests (test/e2e/client-*.test.ts) run the
 * same client against the real services.
 */
import assert from 'node:assert/strict';
import { createWarrenClient } from '../src/index.js';
import type { FetchLike, InboxNotification, WarrenClient, WarrenClientOptions } from '../src/index.js';

export const USER_ID = '6f1f8c1e-2a4b-4c3d-9e8f-0a1b2c3d4e5f';

export class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closedWith: number | undefined;
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  get params(): URLSearchParams {
    return new URL(this.url).searchParams;
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code = 1005): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  /** The server accepts the socket and says ready. */
  ready(unreadCount = 0): void {
    this.readyState = 1;
    this.frame({ type: 'ready', unreadCount });
  }
  frame(f: object): void {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  notify(id: string, readAt: string | null = null): void {
    this.frame({ type: 'notification', notification: notification(id, readAt) });
  }
  serverClose(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

export function notification(id: string, readAt: string | null = null): InboxNotification {
  return {
    id,
    notificationId: '0b9e7f4e-8f1a-4f3e-9c55-0d2b5c1e7a10',
    sender: { id: USER_ID, name: 'A' },
    type: 'general',
    title: `n ${id}`,
    body: '',
    data: {},
    createdAt: new Date().toISOString(),
    readAt,
  };
}

export interface Call {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: any;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'network';

export interface FakeServer {
  client: WarrenClient;
  calls: Call[];
  store: Map<string, string>;
  /** Access tokens issued so far: access-1, access-2, … */
  issued: () => number;
  /** Answer the next requests to `path` with these (in order), instead of the default. */
  script(path: string, ...answers: Answer[]): void;
  callsTo(path: string): Call[];
  /** Another client of the same server (another tab), with its own storage. */
  another(store: Map<string, string>, options?: Partial<WarrenClientOptions>): WarrenClient;
}

export function fakeServer(opts: { expiresIn?: number; inbox?: InboxNotification[]; unreadCount?: number; client?: Partial<WarrenClientOptions> } = {}): FakeServer {
  FakeSocket.all = [];
  const calls: Call[] = [];
  const scripted = new Map<string, Answer[]>();
  let issued = 0;
  const tokens = () => {
    issued++;
    return {
      accessToken: `access-${issued}`,
      refreshToken: `refresh-${issued}`,
      tokenType: 'Bearer',
      expiresIn: opts.expiresIn ?? 900,
      user: { id: USER_ID, email: 'a@warren.test', name: 'A', role: 'admin' },
      permissions: ['notifications:send'],
      session: { id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', expiresAt: new Date(Date.now() + 1e9).toISOString() },
    };
  };
  const defaults = (path: string, call: Call): Answer => {
    if (path === '/login') return { status: 200, body: tokens() };
    if (path === '/auth/refresh') {
      // The current refresh token only: an older one is a reuse.
      if (call.body?.refreshToken !== `refresh-${issued}`) return { status: 401, body: { status: 401, code: 'refresh_token_reused', title: 'Unauthorized', detail: 'Session ended.' } };
      return { status: 200, body: tokens() };
    }
    // Only the newest access token is accepted.
    const auth = call.headers.authorization;
    if (auth !== undefined && auth !== `Bearer access-${issued}`) return { status: 401, body: { status: 401, code: 'invalid_token', title: 'Unauthorized', detail: 'Bad token.' } };
    if (path === '/auth/logout') return { status: 204 };
    if (path === '/inbox') return { status: 200, body: { items: opts.inbox ?? [], nextCursor: null } };
    if (path === '/inbox/unread-count') return { status: 200, body: { count: opts.unreadCount ?? 0 } };
    if (path === '/notifications') return { status: 202, body: { id: 'c8d1e2f3-0000-4000-8000-000000000001' } };
    return { status: 404, body: { status: 404, code: 'route_not_found', title: 'Not Found', detail: 'No such route.' } };
  };
  const fetch: FetchLike = async (url, init) => {
    const u = new URL(url);
    const call: Call = { method: init.method, path: u.pathname, query: u.search, headers: init.headers, body: init.body ? JSON.parse(init.body) : undefined };
    calls.push(call);
    await new Promise((r) => setTimeout(r, 5));
    const answer = scripted.get(u.pathname)?.shift() ?? defaults(u.pathname, call);
    if (answer === 'network') throw new TypeError('fetch failed');
    const body = answer.body === undefined ? null : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    return new Response(body, { status: answer.status, headers: { 'content-type': 'application/json', ...answer.headers } });
  };
  const store = new Map<string, string>();
  const make = (tabStore: Map<string, string>, extra: Partial<WarrenClientOptions> | undefined) =>
    createWarrenClient({
      mainBackendUrl: 'https://api.dev.test/',
      notificationUrl: 'https://api.dev.test',
      fetch,
      WebSocket: FakeSocket,
      storage: {
        getItem: (k) => tabStore.get(k) ?? null,
        setItem: (k, v) => void tabStore.set(k, v),
        removeItem: (k) => void tabStore.delete(k),
      },
      storageKey: 'warren:dev:admin:refreshToken',
      reconnect: { baseMs: 20, capMs: 200, busyMinMs: 15_000 },
      ...extra,
    });
  const client = make(store, opts.client);
  return {
    client,
    calls,
    store,
    issued: () => issued,
    script: (path, ...answers) => scripted.set(path, [...(scripted.get(path) ?? []), ...answers]),
    callsTo: (path) => calls.filter((c) => c.path === path),
    another: (tabStore, extra) => make(tabStore, { ...opts.client, ...extra }),
  };
}

export async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** The n-th socket (0-based), once it exists. */
export async function socket(n: number): Promise<FakeSocket> {
  await until(() => FakeSocket.all.length > n, `socket #${n + 1}`);
  return FakeSocket.all[n] as FakeSocket;
}
