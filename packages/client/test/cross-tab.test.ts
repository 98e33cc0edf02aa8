/**
 * Two tabs of one browser holding the same session (a duplicated tab: the second starts with a
 * copy of the first's sessionStorage), against the scripted server, whose refresh refuses a
 * rotated token as the real one does (refresh_token_reused ends the session). A fake browser
 * gives them one lock, one generation store and one channel; its messages can be slowed down,
 * to show that the generation store alone keeps a tab from presenting a rotated token. A
 * stranger (another page of the origin, without the session's sessionStorage) sees the store and
 * the channel too, and gets nothing from them. The same in Chromium: test/e2e/portal-sessions.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newSecret, tabKeys } from '../src/tab-crypto.js';
import type { SessionState, TabCoordinator, WarrenClient } from '../src/index.js';
import { fakeServer, until } from './fakes.js';

const credentials = { email: 'a@warren.test', password: 'pw' };
const KEY = 'warren:dev:admin:refreshToken';

/** One browser: a lock shared by its tabs, a record store, and a channel delivering after `delayMs`. */
function fakeBrowser(delayMs = 0) {
  let lock: Promise<unknown> = Promise.resolve();
  const records = new Map<string, unknown>();
  const tabs = new Set<(m: unknown) => void>();
  /** Everything posted on the channel, by anyone, in order. */
  const posted: unknown[] = [];
  return {
    posted,
    records,
    tab(): TabCoordinator {
      const listeners = new Set<(m: unknown) => void>();
      const deliver = (m: unknown) => {
        for (const l of [...listeners]) l(m);
      };
      tabs.add(deliver);
      return {
        exclusive<T>(fn: () => Promise<T>): Promise<T> {
          const run = lock.then(fn, fn);
          lock = run.catch(() => undefined);
          return run;
        },
        // Structured clones, as IndexedDB and a real channel make them.
        read: async (id) => structuredClone(records.get(id)),
        write: async (id, value) => void records.set(id, structuredClone(value)),
        remove: async (id) => void records.delete(id),
        post(m) {
          posted.push(m);
          // Never back to the sender.
          const copy = structuredClone(m);
          for (const other of tabs) if (other !== deliver) setTimeout(() => other(copy), delayMs);
        },
        onMessage(l) {
          listeners.add(l);
          return () => listeners.delete(l);
        },
      };
    },
  };
}

/** Everything a message holds, bytes included, as text: to look for a token in it. */
function readable(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => {
    if (v instanceof ArrayBuffer) return Buffer.from(v).toString('latin1');
    if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
    return v;
  });
}
const SESSION_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
/** Another user's token pair, labelled as session `sessionId`. */
function evilPair(sessionId: string) {
  return {
    accessToken: 'access-evil',
    refreshToken: 'refresh-evil',
    tokenType: 'Bearer',
    expiresIn: 900,
    user: { id: 'b1b2b3b4-0000-4000-8000-000000000000', email: 'x@warren.test', name: 'X', role: 'admin' },
    permissions: ['users:write'],
    session: { id: sessionId, expiresAt: new Date(Date.now() + 1e9).toISOString() },
  };
}

async function duplicatedTabs(delayMs = 0) {
  const browser = fakeBrowser(delayMs);
  const server = fakeServer({ client: { crossTab: browser.tab() } });
  await server.client.login(credentials);
  // The browser duplicates the tab: the new one starts with a copy of the first's sessionStorage.
  const copy = new Map(server.store);
  const second = server.another(copy, { crossTab: browser.tab() });
  const states: SessionState[] = [];
  server.client.onSession((s) => states.push(s));
  second.onSession((s) => states.push(s));
  return { browser, server, first: server.client, second, copy, states };
}

const token = (c: WarrenClient) => c.accessToken();
/** Waits until the tab's access token is `expected` (a pair handed over arrives as a message). */
async function onToken(tab: WarrenClient, expected: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while ((await token(tab)) !== expected) {
    if (Date.now() > deadline) assert.fail(`the tab still has ${await token(tab)}, not ${expected}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const ended = (states: SessionState[]) => states.filter((s) => s.state !== 'signedIn');

describe('tabs sharing one session', () => {
  it('When a duplicated tab restores, then it refreshes once and the first tab adopts the new pair', async () => {
    const { server, first, second, copy, states } = await duplicatedTabs();
    assert.equal(await second.restore(), true);
    assert.equal(server.callsTo('/auth/refresh').length, 1);
    await until(() => server.store.get(KEY) === 'refresh-2', 'the first tab to adopt refresh-2');
    assert.equal(copy.get(KEY), 'refresh-2');
    assert.equal(await token(first), 'access-2', 'the first tab uses the new access token too');
    assert.deepEqual(ended(states), []);
  });

  it('When both tabs refresh at once, again and again, then one refresh is made each time and the session lives', async () => {
    const { server, first, second, states } = await duplicatedTabs();
    await second.restore();
    for (let round = 0; round < 5; round++) {
      const before = server.callsTo('/auth/refresh').length;
      await Promise.all([first.refresh(), second.refresh()]);
      assert.equal(server.callsTo('/auth/refresh').length, before + 1, `round ${round}: one refresh for both tabs`);
      // The tab that did not refresh adopts the pair when the other's message arrives.
      const newest = `access-${server.issued()}`;
      await until(() => first.session.state === 'signedIn' && second.session.state === 'signedIn', 'both signed in');
      for (const tab of [first, second]) await onToken(tab, newest);
    }
    const presented = server.callsTo('/auth/refresh').map((c) => c.body.refreshToken as string);
    assert.equal(new Set(presented).size, presented.length, 'no refresh token presented twice');
    assert.deepEqual(ended(states), [], 'nobody was logged out');
    assert.equal((await second.inbox.unreadCount()), 0, 'the second tab still works');
  });

  it("When the other tab's message is slow, then the generation store still keeps a tab from presenting a rotated token", async () => {
    // Messages take 200 ms: the second tab gets the lock before it hears of the first's refresh.
    const { server, first, second, states } = await duplicatedTabs(200);
    await second.restore();
    await until(() => server.store.get(KEY) === 'refresh-2', 'the first tab to adopt refresh-2', 2000);
    await Promise.all([first.refresh(), second.refresh()]);
    const presented = server.callsTo('/auth/refresh').map((c) => c.body.refreshToken as string);
    assert.equal(new Set(presented).size, presented.length, `no refresh token presented twice: ${presented}`);
    assert.deepEqual(ended(states), []);
    await onToken(first, `access-${server.issued()}`);
    await onToken(second, `access-${server.issued()}`);
  });

  it('When one tab logs out, then the other is told its session ended, and forgets its tokens', async () => {
    const { browser, first, second, copy, states } = await duplicatedTabs();
    await second.restore();
    await first.logout();
    await until(() => second.session.state === 'ended', 'the second tab to end');
    assert.deepEqual(second.session, { state: 'ended', code: 'session_ended_elsewhere' });
    assert.equal(copy.size, 0, "the second tab's storage is empty");
    assert.equal(browser.records.size, 0, 'the generation record is gone');
    assert.ok(states.some((s) => s.state === 'signedOut'), 'the first tab is signed out');
  });

  it('When a stranger listens to the channel and reads the store through refreshes, then it finds no token, no session id and no generation', async () => {
    const { browser, server, first, second } = await duplicatedTabs();
    await second.restore();
    for (let round = 0; round < 2; round++) {
      await Promise.all([first.refresh(), second.refresh()]);
      await onToken(first, `access-${server.issued()}`);
      await onToken(second, `access-${server.issued()}`);
    }
    const generation = (JSON.parse(server.store.get(`${KEY}:tab`) ?? '{}') as { generation?: string }).generation;
    assert.ok(generation, "the tab's record holds its generation");
    const heard = browser.posted.map(readable).join('\n');
    assert.ok(browser.posted.length >= 6, 'the tabs did talk');
    assert.doesNotMatch(heard, /access-\d|refresh-\d/, 'no token on the channel');
    assert.ok(!heard.includes(SESSION_ID) && !heard.includes(generation), 'no session id or generation on the channel');
    const stored = [...browser.records].map(readable).join('\n');
    assert.equal(browser.records.size, 1, 'one record for the session');
    assert.ok(!stored.includes(SESSION_ID) && !stored.includes(generation), `no session id or generation in the store: ${stored.slice(0, 200)}`);
    // The pair travels only in answer to an ask.
    const kinds = browser.posted.map((m) => (m as { kind: string }).kind);
    kinds.forEach((kind, i) => kind === 'rotated' && assert.ok(kinds.slice(0, i).includes('ask'), `a pair sent unasked: ${kinds}`));
  });

  it('When a stranger asks for the pair, hands one over or says the session ended, plainly or sealed with another secret, then no tab answers or changes', async () => {
    const { browser, server, first, second, states } = await duplicatedTabs();
    await second.restore();
    await onToken(first, 'access-2');
    const record = JSON.parse(server.store.get(`${KEY}:tab`) ?? '{}') as { generation: string };
    // Another user's pair (the stranger signed in as someone else), claiming this session.
    const theirPair = evilPair(SESSION_ID);
    const messages = [
      { type: 'ask', sessionId: SESSION_ID, generation: record.generation },
      { type: 'rotated', sessionId: SESSION_ID, generation: '999999.ffff', pair: theirPair },
      { type: 'refreshed', sessionId: SESSION_ID, generation: '999999.ffff' },
      { type: 'ended', sessionId: SESSION_ID },
    ];
    const stranger = browser.tab();
    const otherKeys = await tabKeys(newSecret());
    assert.ok(otherKeys);
    const before = browser.posted.length;
    for (const m of messages) {
      stranger.post(m); // the old, readable form
      stranger.post(await otherKeys.seal(m.type, SESSION_ID, m)); // sealed, but not with this session's secret
      stranger.post({ v: 1, kind: m.type, iv: new Uint8Array(12), data: new Uint8Array(64).buffer }); // garbage
    }
    const posts = browser.posted.length - before;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(browser.posted.length - before, posts, 'no tab answered');
    assert.deepEqual(ended(states), [], 'nobody signed out');
    for (const tab of [first, second]) {
      assert.equal(tab.session.state, 'signedIn');
      assert.equal(await token(tab), 'access-2', 'no pair taken over');
    }
    assert.equal(server.store.get(KEY), 'refresh-2');
    assert.equal(server.callsTo('/auth/refresh').length, 1, 'nothing refreshed either');
  });

  it('When a pair sealed with the secret names another session, then the tab refuses it', async () => {
    const { browser, server, first } = await duplicatedTabs();
    const record = JSON.parse(server.store.get(`${KEY}:tab`) ?? '{}') as { secret: string; generation: string };
    const keys = await tabKeys(record.secret);
    assert.ok(keys);
    const pair = evilPair('00000000-0000-4000-8000-000000000000');
    browser.tab().post(await keys.seal('rotated', SESSION_ID, { type: 'rotated', sessionId: SESSION_ID, generation: '999999.ffff', pair }));
    // ... and one of another kind than it was sealed as:
    browser.tab().post({ ...(await keys.seal('ask', SESSION_ID, { type: 'ended', sessionId: SESSION_ID })) });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await token(first), 'access-1');
    assert.equal(first.session.state, 'signedIn');
  });

  it('When a stranger overwrites or deletes the generation records, then a lone tab still refreshes at once', async () => {
    const { browser, server, first } = await duplicatedTabs();
    for (const id of browser.records.keys()) browser.records.set(id, { v: 1, kind: 'generation', iv: new Uint8Array(12), data: new Uint8Array(48).buffer });
    await first.refresh();
    assert.ok(!browser.posted.some((m) => (m as { kind?: string }).kind === 'ask'), 'no asking (and waiting) for a pair nobody has');
    assert.equal(await token(first), 'access-2');
    browser.records.clear();
    await first.refresh();
    assert.equal(await token(first), `access-${server.issued()}`);
  });

  it('Without coordination (the bug this fixes), the duplicated tab ends the session of both', async () => {
    const server = fakeServer({ client: { crossTab: false } });
    await server.client.login(credentials);
    const second = server.another(new Map(server.store), { crossTab: false });
    await second.restore();
    await assert.rejects(server.client.refresh(), { status: 401, code: 'refresh_token_reused' });
    assert.deepEqual(server.client.session, { state: 'ended', code: 'refresh_token_reused' });
  });
});
