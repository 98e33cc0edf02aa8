/**
 * Two tabs of one browser holding the same session (a duplicated tab: the second starts with a
 * copy of the first's sessionStorage), against the scripted server, whose refresh refuses a
 * rotated token as the real one does (refresh_token_reused ends the session). A fake browser
 * gives them one lock, one generation store and one channel; its messages can be slowed down,
 * to show that the generation store alone keeps a tab from presenting a rotated token. The
 * same in Chromium: test/e2e/portal-tabs.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionState, TabCoordinator, TabMessage, WarrenClient } from '../src/index.js';
import { fakeServer, until } from './fakes.js';

const credentials = { email: 'a@warren.test', password: 'pw' };
const KEY = 'warren:dev:admin:refreshToken';

/** One browser: a lock shared by its tabs, a generation store, and a channel delivering after `delayMs`. */
function fakeBrowser(delayMs = 0) {
  let lock: Promise<unknown> = Promise.resolve();
  const generations = new Map<string, string>();
  const tabs = new Set<(m: TabMessage) => void>();
  const posted: TabMessage[] = [];
  return {
    posted,
    generations,
    tab(): TabCoordinator {
      const listeners = new Set<(m: TabMessage) => void>();
      const deliver = (m: TabMessage) => {
        for (const l of [...listeners]) l(m);
      };
      tabs.add(deliver);
      return {
        exclusive<T>(fn: () => Promise<T>): Promise<T> {
          const run = lock.then(fn, fn);
          lock = run.catch(() => undefined);
          return run;
        },
        generation: async (sid) => generations.get(sid) ?? null,
        setGeneration: async (sid, g) => void generations.set(sid, g),
        forget: async (sid) => void generations.delete(sid),
        post(m) {
          posted.push(m);
          // A structured clone, as a real channel makes; never back to the sender.
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
    assert.equal(browser.generations.size, 0, 'the generation record is gone');
    assert.ok(states.some((s) => s.state === 'signedOut'), 'the first tab is signed out');
  });

  it("When a message names another session, then the tabs ignore it", async () => {
    const { browser, first, second, states } = await duplicatedTabs();
    await second.restore();
    const stranger = browser.tab();
    stranger.post({ type: 'ended', sessionId: '00000000-0000-4000-8000-000000000000' });
    stranger.post({ type: 'ask', sessionId: '00000000-0000-4000-8000-000000000000', generation: '1.00' });
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(ended(states), []);
    assert.equal(first.session.state, 'signedIn');
    assert.equal(second.session.state, 'signedIn');
    assert.ok(!browser.posted.some((m) => m.type === 'rotated' && m.sessionId.startsWith('00000000')), 'nothing handed to a stranger');
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
