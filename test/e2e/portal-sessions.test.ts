/**
 * Sessions in the portals, in Chromium: a session ended from "Your sessions" in one browser
 * signs the other browser out at once; "Log out everywhere" ends both; a duplicated tab (two
 * pages of one browser context, the second starting with a copy of the first's sessionStorage,
 * as the browser's "Duplicate tab" makes it) keeps the session through several token refreshes
 * instead of ending it by refresh-token reuse, and logging out in one tab ends the other; another
 * page of the same origin (another portal, not a duplicate) can neither read the tokens off the
 * tabs' channel and store, nor hand a tab another pair, nor sign it out; going offline says so,
 * and coming back goes live again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page, Response } from 'playwright-core';
import { assertNoProblems, startPortalKit, type PortalKit } from '../support/browser.js';
import { call } from '../support/http.js';
import { ADMIN, login } from '../support/stack.js';
import { until } from '../support/wait.js';

/** Short, so that several refreshes happen while both tabs are open. */
const ACCESS_TOKEN_TTL_SECONDS = 10;

describe('the portals in a real browser: sessions and tabs', { timeout: 150_000 }, () => {
  let kit: PortalKit;
  const sam = { email: 'sam@warren.test', name: 'Sam Sessions', password: '' };

  before(async () => {
    kit = await startPortalKit({ ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_SECONDS) });
    sam.password = await kit.registerUser(sam.email, sam.name);
  });
  after(async () => {
    await kit?.stop();
  });

  async function signedIn(ctx: BrowserContext): Promise<Page> {
    const p = await kit.page(ctx);
    await p.goto(`${kit.portals.origin}/employee/`);
    await p.getByLabel('Email').fill(sam.email);
    await p.getByLabel('Password').fill(sam.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Inbox' }).waitFor();
    return p;
  }
  const signInShown = (p: Page) => p.getByRole('heading', { name: 'Sign in to Warren Employee' }).waitFor();
  const toAccount = (p: Page) => p.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Account' }).click();

  it('When a session is ended from "Your sessions" in one browser, then the other browser is signed out', () =>
    kit.step('revoke', async () => {
      const here = await signedIn(await kit.context());
      const there = await signedIn(await kit.context());
      await toAccount(here);
      const sessions = here.getByRole('list').filter({ has: here.getByText('this browser') }).getByRole('listitem');
      await until(async () => (await sessions.count()) === 2, 'two sessions listed');
      const other = sessions.filter({ hasNotText: 'this browser' });
      assert.match((await other.textContent()) ?? '', /Chrome on Linux.*127\.0\.0\.1/s);
      await other.getByRole('button', { name: 'End session' }).click();
      await here.getByRole('status').filter({ hasText: 'The session on Chrome on Linux has ended.' }).waitFor();
      await until(async () => (await sessions.count()) === 1, 'one session left');

      await signInShown(there);
      await there.getByRole('alert').filter({ hasText: 'Your session has ended' }).waitFor();
      await here.getByRole('heading', { name: 'Account' }).waitFor();
    }));

  it('When "Log out everywhere" is confirmed, then every browser is signed out', () =>
    kit.step('logout everywhere', async () => {
      const here = await signedIn(await kit.context());
      const there = await signedIn(await kit.context());
      await toAccount(here);
      await here.getByRole('button', { name: 'Log out everywhere' }).click();
      const dialog = here.getByRole('dialog', { name: 'Log out everywhere?' });
      await dialog.getByRole('button', { name: 'Log out everywhere' }).click();
      await signInShown(here);
      await signInShown(there);
      const ended = await login(kit.stack, sam.email, sam.password);
      const sessions = await call(`${kit.stack.mainUrl}/auth/sessions`, { token: ended.accessToken });
      assert.equal(sessions.body.length, 1, 'only the session this check just made');
    }));

  it('When a tab is duplicated, then both keep the one session through several refreshes, and a logout in one ends the other', () =>
    kit.step('duplicated tab', async () => {
      const ctx = await kit.context();
      const first = await signedIn(ctx);
      const copied = await first.evaluate<[string, string][]>('Object.entries(sessionStorage)');
      // "Duplicate tab": a new tab of the same browser starting with a copy of sessionStorage.
      const second = await kit.page(ctx);
      await second.addInitScript((entries: [string, string][]) => {
        const storage = (globalThis as unknown as { sessionStorage: { length: number; setItem(k: string, v: string): void } }).sessionStorage;
        if (storage.length === 0) for (const [k, v] of entries) storage.setItem(k, v);
      }, copied);
      const refreshes: Response[] = [];
      for (const p of [first, second]) p.on('response', (r) => r.url().endsWith('/auth/refresh') && refreshes.push(r));
      await second.goto(`${kit.portals.origin}/employee/`);
      await second.getByRole('heading', { name: 'Inbox' }).waitFor();

      // Both tabs' tokens come due at about the same time, again and again.
      // Without coordination the second refresh presents a rotated token: 401, and the session ends.
      await until(() => refreshes.length >= 4 || refreshes.some((r) => r.status() !== 200), 'four refreshes', 4 * ACCESS_TOKEN_TTL_SECONDS * 1000);
      assert.deepEqual(refreshes.map((r) => r.status()), refreshes.map(() => 200), 'no refresh was refused');
      const presented = await Promise.all(refreshes.map(async (r) => (JSON.parse(r.request().postData() ?? '{}') as { refreshToken: string }).refreshToken));
      assert.equal(new Set(presented).size, presented.length, 'no refresh token was presented twice');
      for (const p of [first, second]) assert.equal(await p.getByRole('heading', { name: 'Inbox' }).count(), 1, 'still signed in');

      const me = await login(kit.stack, sam.email, sam.password);
      const admin = await login(kit.stack);
      await call(`${kit.stack.mainUrl}/notifications`, { token: admin.accessToken, body: { recipients: { userIds: [me.user.id] }, title: 'To both tabs', body: '' } });
      for (const p of [first, second]) await p.getByRole('article', { name: 'To both tabs' }).waitFor();

      await second.getByRole('button', { name: 'Log out' }).click();
      await signInShown(second);
      await signInShown(first);
      await first.getByRole('alert').filter({ hasText: 'You logged out in another tab.' }).waitFor();
      assert.equal(await first.evaluate<number>('sessionStorage.length'), 0, 'the other tab forgot the tokens too');
      await ctx.close();
    }));

  it('When another page of the origin listens to the tabs\' channel, reads their store, asks for the pair, hands over a pair or says the session ended, then it gets no token and the signed-in tab carries on', () =>
    kit.step('same-origin page', async () => {
      const ctx = await kit.context();
      const admin = await kit.page(ctx);
      await admin.goto(`${kit.portals.origin}/admin/`);
      await admin.getByLabel('Email').fill(ADMIN.email);
      await admin.getByLabel('Password').fill(ADMIN.password);
      await admin.getByRole('button', { name: 'Sign in' }).click();
      await admin.getByRole('heading', { name: 'Inbox' }).waitFor();
      // Another portal of the bucket, opened in a new tab (not a duplicate: its sessionStorage is its own).
      const other = await kit.page(ctx);
      await other.goto(`${kit.portals.origin}/employee_QA/`);
      await other.getByRole('heading', { name: 'Sign in to Warren Employee' }).waitFor();
      const channel = 'warren-client:warren:dev:admin:refreshToken';
      await other.evaluate((name) => {
        const w = globalThis as unknown as { heard: unknown[]; spy: { postMessage(m: unknown): void; onmessage: ((e: { data: unknown }) => void) | null } };
        w.heard = [];
        // One object listens and posts: a channel never hears its own messages, so `heard` is the other tabs'.
        w.spy = new (globalThis as unknown as { BroadcastChannel: new (n: string) => typeof w.spy }).BroadcastChannel(name);
        w.spy.onmessage = (e) => w.heard.push(e.data);
      }, channel);
      /** What the page heard, bytes as text: to look for tokens in it. */
      const heard = () => other.evaluate(() => JSON.stringify((globalThis as unknown as { heard: unknown[] }).heard, (_k, v: unknown) =>
        v instanceof ArrayBuffer ? String.fromCharCode(...new Uint8Array(v)) : ArrayBuffer.isView(v) ? String.fromCharCode(...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) : v));
      const heardCount = () => other.evaluate(() => (globalThis as unknown as { heard: unknown[] }).heard.length);
      /** The kind of each message heard from the `from`-th on (`type` in the clear, `kind` once sealed). */
      const heardKinds = (from: number) => other.evaluate((n) => (globalThis as unknown as { heard: { type?: string; kind?: string }[] }).heard.slice(n).map((m) => m.kind ?? m.type), from);

      // A refresh in the admin tab (a reload restores the session with one) while the page listens.
      const refreshed = admin.waitForResponse((r) => r.url().endsWith('/auth/refresh'));
      await admin.reload();
      const pair = (await (await refreshed).json()) as { accessToken: string; refreshToken: string; session: { id: string } };
      await admin.getByRole('heading', { name: 'Inbox' }).waitFor();
      await until(async () => (await heardCount()) > 0, 'the admin tab to say something on the channel');
      const tokensIn = (text: string) => [pair.accessToken, pair.refreshToken].filter((t) => text.includes(t)).length;
      assert.equal(tokensIn(await heard()), 0, 'no token on the channel');

      // The tab's own record (the test may read it; the other page cannot): what the page would need to ask.
      const record = await admin.evaluate(() => {
        const s = (globalThis as unknown as { sessionStorage: { length: number; key(i: number): string | null; getItem(k: string): string | null } }).sessionStorage;
        for (let i = 0; i < s.length; i++) {
          try {
            const r = JSON.parse(s.getItem(s.key(i) ?? '') ?? '') as { generation?: string };
            if (typeof r.generation === 'string') return r as { generation: string };
          } catch {
            // the refresh token
          }
        }
        return null;
      });
      assert.ok(record, 'the admin tab keeps its generation');
      const stored = await other.evaluate(async () => {
        const idb = (globalThis as unknown as { indexedDB: any }).indexedDB;
        const db: any = await new Promise((resolve, reject) => {
          const r = idb.open('warren-client');
          r.onsuccess = () => resolve(r.result);
          r.onerror = () => reject(r.error);
        });
        const out: string[] = [];
        for (const name of Array.from(db.objectStoreNames as ArrayLike<string>)) {
          const all: [unknown[], unknown[]] = await Promise.all(['getAllKeys', 'getAll'].map((m) => new Promise<unknown[]>((resolve) => {
            const r = db.transaction(name).objectStore(name)[m]();
            r.onsuccess = () => resolve(r.result);
          }))) as [unknown[], unknown[]];
          out.push(JSON.stringify(all, (_k, v: unknown) => (v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? '<bytes>' : v)));
        }
        db.close();
        return out.join('\n');
      });
      assert.ok(stored.length > 0, 'the page can read the store');
      assert.ok(!stored.includes(pair.session.id), 'no session id in IndexedDB');
      assert.ok(!stored.includes(record.generation), 'no readable generation in IndexedDB');

      const post = (m: unknown) => other.evaluate((message) => (globalThis as unknown as { spy: { postMessage(m: unknown): void } }).spy.postMessage(message), m);
      /** The admin tab still signed in as the admin, for `ms` (the forgeries would have taken effect within milliseconds). */
      const staysAdmin = async (what: string, ms = 1500) => {
        const deadline = Date.now() + ms;
        while (Date.now() < deadline) {
          assert.equal(await admin.locator('#user-name').textContent(), 'Administrator', what);
          assert.equal(await admin.getByRole('heading', { name: 'Inbox' }).count(), 1, `${what}: still signed in`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };

      // Asking, with the session id and generation the page should not even know.
      const before = await heardCount();
      await post({ type: 'ask', sessionId: pair.session.id, generation: record.generation });
      await post({ v: 1, kind: 'ask', iv: new Uint8Array(12), data: new Uint8Array(80).buffer });
      await staysAdmin('after an ask');
      assert.equal(tokensIn(await heard()), 0, 'no pair handed out');
      assert.ok(!(await heardKinds(before)).includes('rotated'), 'the ask got no pair in answer, not even a sealed one');

      // Another user's pair, as a rotation of the admin's session.
      const someoneElse = await login(kit.stack, sam.email, sam.password);
      await post({ type: 'rotated', sessionId: pair.session.id, generation: '999999.ffff', pair: { ...someoneElse, tokenType: 'Bearer', expiresIn: 900 } });
      await post({ type: 'refreshed', sessionId: pair.session.id, generation: '999999.ffff' });
      await staysAdmin('after a forged pair');
      const kept = await admin.evaluate<string | null>("sessionStorage.getItem('warren:dev:admin:refreshToken')");
      assert.notEqual(kept, someoneElse.refreshToken, "the admin tab did not take the other user's token");

      // The end of the session, forged.
      await post({ type: 'ended', sessionId: pair.session.id });
      await post({ v: 1, kind: 'ended', iv: new Uint8Array(12), data: new Uint8Array(64).buffer });
      await staysAdmin('after a forged end');
      await ctx.close();
    }));

  it('When the browser goes offline, then the portal says so, and live again once back', () =>
    kit.step('offline', async () => {
      const ctx = await kit.context();
      const p = await signedIn(ctx);
      await p.getByRole('status', { name: 'Connection: live' }).waitFor();
      await ctx.setOffline(true);
      await p.getByRole('status').filter({ hasText: 'You are offline.' }).waitFor();
      await p.getByRole('status', { name: 'Connection: offline' }).waitFor();
      await ctx.setOffline(false);
      await p.getByRole('status', { name: 'Connection: live' }).waitFor({ timeout: 20_000 });
      assert.equal(await p.locator('#connection-banner').isVisible(), false, 'no banner once live');
      await ctx.close();
    }));

  it('Then no page threw, broke the Content-Security-Policy or loaded anything from outside', () => {
    assertNoProblems(kit);
  });
});
