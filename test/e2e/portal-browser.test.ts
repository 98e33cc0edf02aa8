/**
 * The static portals (s3-layout/) in a real browser, the inbox as everyone uses it: Debian's
 * Chromium driven by playwright-core, through roles and labels as a person would, against an
 * in-process stack. A refused sign-in; the live badge (and its accessible name), toasts that
 * cover nothing, the sender's name, relative times and `data`; read, unread, the Unread filter,
 * mark all read; the token refreshed and the socket renewed in place; a reload; a send shown as
 * text with its status; logout; the employee portal; a qa portal's own copy of the code; under
 * a strict Content-Security-Policy, nothing loaded from outside.
 *
 * Other flows: portal-people (registration, roles, sending to a person), portal-sessions
 * (sessions, duplicated tabs, offline), portal-screens (phone layout, the README's pictures).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page, WebSocket as PwWebSocket } from 'playwright-core';
import { assertCoversNoControl, assertNoProblems, startPortalKit, type PortalKit } from '../support/browser.js';
import { decodePayload } from '../support/forge.js';
import { call } from '../support/http.js';
import { ADMIN, login } from '../support/stack.js';
import { until } from '../support/wait.js';

/** Short, so that the refresh-ahead and the socket renewal happen within the test. */
const ACCESS_TOKEN_TTL_SECONDS = 10;

describe('the portals in a real browser: the inbox', { timeout: 120_000 }, () => {
  let kit: PortalKit;
  let context: BrowserContext;
  let page: Page;
  /** Every socket the admin page opened, with the frames it sent and received. */
  const sockets: { ws: PwWebSocket; sent: string[]; received: string[] }[] = [];
  const refreshes: number[] = [];

  before(async () => {
    kit = await startPortalKit({ ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_SECONDS) });
    context = await kit.context();
    page = await kit.page(context);
    page.on('websocket', (ws) => {
      const entry = { ws, sent: [] as string[], received: [] as string[] };
      sockets.push(entry);
      ws.on('framesent', (f) => entry.sent.push(String(f.payload)));
      ws.on('framereceived', (f) => entry.received.push(String(f.payload)));
    });
    page.on('request', (r) => {
      if (r.url().endsWith('/auth/refresh') && r.method() === 'POST') refreshes.push(Date.now());
    });
  });

  after(async () => {
    await kit?.stop();
  });

  const badge = (p: Page) => p.locator('#unread-badge');
  const note = (p: Page, title: string) => p.getByRole('article', { name: title });
  const unreadCount = async (token: string) => (await call<{ count: number }>(`${kit.stack.notificationUrl}/inbox/unread-count`, { token })).body.count;
  async function sendAsAdmin(body: object) {
    const admin = await login(kit.stack);
    const sent = await call(`${kit.stack.mainUrl}/notifications`, { token: admin.accessToken, body });
    assert.equal(sent.status, 202);
    return admin;
  }
  async function signIn(p: Page, email: string, password: string) {
    await p.getByLabel('Email').fill(email);
    await p.getByLabel('Password').fill(password);
    await p.getByRole('button', { name: 'Sign in' }).click();
  }

  it('When the admin portal opens and the password is wrong, then the problem detail is shown', () =>
    kit.step('wrong password', async () => {
      await page.goto(`${kit.portals.origin}/admin`);
      assert.equal(new URL(page.url()).pathname, '/admin/', 'the folder URL is redirected to its index');
      assert.equal(await page.title(), 'Warren Admin — dev');
      await page.getByRole('heading', { name: 'Sign in to Warren Admin' }).waitFor();

      await signIn(page, ADMIN.email, 'not the password');

      await page.getByRole('alert').filter({ hasText: 'The email or password is incorrect.' }).waitFor();
      assert.equal(await page.getByLabel('Password').inputValue(), '', 'the wrong password is cleared');
      assert.ok(await page.getByRole('link', { name: 'Forgot your password?' }).isVisible());
      assert.ok(await page.getByRole('link', { name: 'Create an account' }).isVisible());
    }));

  it('When the admin signs in, then name, role, an empty inbox, a badge named "0 unread notifications" and every section show', () =>
    kit.step('sign in', async () => {
      await signIn(page, ADMIN.email, ADMIN.password);

      await page.getByRole('heading', { name: 'Inbox' }).waitFor();
      await page.getByText('No notifications yet.').waitFor();
      await page.getByRole('link', { name: '0 unread notifications' }).waitFor();
      assert.equal(await page.locator('#user-name').textContent(), 'Administrator');
      assert.equal(await page.locator('#user-role').textContent(), 'admin');
      const sections = page.getByRole('navigation', { name: 'Sections' }).getByRole('link');
      assert.deepEqual(await sections.allTextContents(), ['Inbox', 'Send', 'Users', 'Activity', 'Account']);
      await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
      const stored = (await page.evaluate<string[]>('Object.keys(sessionStorage)')).sort();
      assert.deepEqual(stored, ['warren:dev:admin:refreshToken', 'warren:dev:admin:refreshToken:tab'], 'the refresh token and its tab record (generation and secret), in sessionStorage');
      assert.deepEqual(await page.evaluate<string[]>('Object.keys(localStorage)'), [], 'nothing in localStorage');
    }));

  it('When a notification with data arrives, then it shows live with the sender, a relative time and its data, the badge says 1, and the toast covers no control', () =>
    kit.step('live notification', async () => {
      const admin = await login(kit.stack);
      await sendAsAdmin({ recipients: { userIds: [admin.user.id] }, title: 'Deploy finished', body: 'Build 42 is live on dev.', type: 'deploy', data: { build: 42, commit: 'a1b2c3d' } });

      const item = note(page, 'Deploy finished');
      await item.waitFor();
      await page.getByRole('link', { name: '1 unread notification' }).waitFor();
      assert.equal(await page.title(), '(1) Warren Admin — dev');
      assert.match((await item.textContent()) ?? '', /Build 42 is live on dev\./);
      assert.equal(await item.locator('.note__sender').textContent(), 'from Administrator', "the sender's name");
      assert.equal(await item.locator('time').textContent(), 'just now');
      assert.ok(await item.locator('time').getAttribute('title'), 'the exact time on hover');
      await item.getByText('Details (2)').click();
      assert.match((await item.locator('dl').textContent()) ?? '', /build\s*42\s*commit\s*a1b2c3d/);

      const toast = page.getByRole('status').filter({ hasText: 'Deploy finished' });
      await toast.waitFor();
      assert.match((await toast.textContent()) ?? '', /from Administrator/);
      await assertCoversNoControl(page, toast);
      assert.equal(sockets.length, 1, 'one socket so far');
    }));

  it('When it is marked read, unread again and read, then the badge and the API follow, and the Unread filter shows only unread ones', () =>
    kit.step('read and unread', async () => {
      const admin = await login(kit.stack);
      const item = note(page, 'Deploy finished');
      await item.getByRole('button', { name: 'Mark as read' }).click();
      await page.getByRole('link', { name: '0 unread notifications' }).waitFor();
      assert.equal(await unreadCount(admin.accessToken), 0);

      await item.getByRole('button', { name: 'Mark as unread' }).click();
      await page.getByRole('link', { name: '1 unread notification' }).waitFor();
      assert.equal(await unreadCount(admin.accessToken), 1);
      assert.equal((await call(`${kit.stack.notificationUrl}/inbox`, { token: admin.accessToken })).body.items[0].readAt, null, 'unread on the server');

      await sendAsAdmin({ recipients: { userIds: [admin.user.id] }, title: 'Older news', body: '' });
      await note(page, 'Older news').waitFor();
      await note(page, 'Older news').getByRole('button', { name: 'Mark as read' }).click();
      await page.getByRole('link', { name: '1 unread notification' }).waitFor();
      await page.getByRole('radio', { name: 'Unread' }).check();
      await until(async () => !(await note(page, 'Older news').isVisible()), 'the read one to be filtered out');
      assert.ok(await note(page, 'Deploy finished').isVisible());
      await page.getByRole('radio', { name: 'All' }).check();
      await note(page, 'Older news').waitFor();
    }));

  it('When the access token nears its expiry, then it is refreshed and the live socket renewed in place', () =>
    kit.step('refresh', async () => {
      await until(() => refreshes.length >= 1, 'a refresh', ACCESS_TOKEN_TTL_SECONDS * 1000 + 2000);
      const socket = sockets[0]!;
      await until(() => socket.sent.some((f) => JSON.parse(f).type === 'auth'), 'an auth frame on the socket');
      await until(() => socket.received.some((f) => JSON.parse(f).type === 'auth_ok'), 'auth_ok');
      // From the first token's expiry on, only the renewal keeps the socket open.
      const firstToken = new URL(socket.ws.url()).searchParams.get('token') ?? '';
      const firstExpiry = (decodePayload(firstToken).exp as number) * 1000;
      await until(() => Date.now() > firstExpiry + 500, "the socket's first token to expire", ACCESS_TOKEN_TTL_SECONDS * 1000 + 5000);

      const admin = await login(kit.stack);
      await sendAsAdmin({ recipients: { userIds: [admin.user.id] }, title: 'After the refresh', body: 'still live' });
      await note(page, 'After the refresh').waitFor();
      assert.equal(sockets.length, 1, 'the same socket carried it: renewed, not reopened');
      assert.equal(socket.ws.isClosed(), false);
      await page.getByRole('link', { name: '2 unread notifications' }).waitFor();
    }));

  it('When the page reloads, then the session is restored from this tab and the inbox reloads', () =>
    kit.step('reload', async () => {
      await page.reload();
      await note(page, 'Deploy finished').waitFor();
      assert.equal(await page.getByRole('heading', { name: 'Sign in to Warren Admin' }).count(), 0, 'no sign-in form');
      assert.equal(await page.getByRole('article').count(), 3);
      await page.getByRole('link', { name: '2 unread notifications' }).waitFor();
    }));

  it('When the admin sends from the Send section, then it arrives as text (no markup), the status counts it, and "Mark all read" clears the badge', () =>
    kit.step('send', async () => {
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Send' }).click();
      await page.getByRole('heading', { name: 'Send a notification' }).waitFor();
      const title = '<img src=x onerror="window.__pwned=1">Quarterly <b>numbers</b>';
      await page.getByLabel('Title').fill(title);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'Choose at least one role or person.' }).waitFor();

      await page.getByRole('checkbox', { name: 'Admins' }).check();
      await page.getByLabel('Message').fill('Body with <script>window.__pwned=2</script> inside');
      const preview = page.getByRole('region', { name: 'Preview' });
      assert.match((await preview.textContent()) ?? '', /To all admins/);
      assert.match((await preview.textContent()) ?? '', /Quarterly <b>numbers<\/b>/);
      await page.getByRole('button', { name: 'Send', exact: true }).click();

      const result = page.locator('#send-result');
      await result.getByText('Delivered to 1 person · 0 read').waitFor();
      assert.doesNotMatch((await result.textContent()) ?? '', /[0-9a-f]{8}-[0-9a-f]{4}/, 'a status, not a bare id');
      await page.getByRole('region', { name: 'Sent', exact: true }).getByText(title).waitFor();

      await page.getByRole('link', { name: '3 unread notifications' }).click();
      const item = note(page, title);
      await item.waitFor();
      assert.equal(await item.locator('img, b, script').count(), 0, 'the title and body are text, not markup');
      assert.equal(await page.evaluate<unknown>('window.__pwned'), undefined);

      await page.getByRole('button', { name: 'Mark all read' }).click();
      await page.getByRole('link', { name: '0 unread notifications' }).waitFor();
      assert.equal(await page.locator('.inbox-item[data-read=false]').count(), 0);
      const admin = await login(kit.stack);
      assert.equal(await unreadCount(admin.accessToken), 0);
    }));

  it('When a title holds a right-to-left override (U+202E), then the words after it still read left to right', () =>
    kit.step('bidi override', async () => {
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Send' }).click();
      const title = 'Invoice \u202Efdp.exe';
      await page.getByRole('checkbox', { name: 'Admins' }).check();
      await page.getByLabel('Title').fill(title);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      const result = page.locator('#send-result');
      // (The last step's result is still shown until this send is answered.)
      await until(async () => ((await result.textContent()) ?? '').includes(title), 'the result of this send');
      // "Sent “…” to all admins.": the portal's words after the title, each character's box right of the one before.
      const boxes = await result.evaluate((el, sent) => {
        const doc = (el as unknown as { ownerDocument: any }).ownerDocument;
        const chars: { node: any; i: number }[] = [];
        for (const part of [el.querySelector('strong'), el.querySelector('strong + span')]) {
          const walker = doc.createTreeWalker(part, 4 /* text */);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) for (let i = 0; i < node.data.length; i++) chars.push({ node, i });
        }
        const text = chars.map((c) => c.node.data[c.i]).join('');
        const after = text.indexOf(sent) + sent.length;
        return chars.slice(after).filter((c) => !/\s/.test(c.node.data[c.i])).map((c) => {
          const range = doc.createRange();
          range.setStart(c.node, c.i);
          range.setEnd(c.node, c.i + 1);
          return { char: c.node.data[c.i] as string, left: range.getBoundingClientRect().left as number };
        });
      }, title);
      assert.equal(boxes.map((b) => b.char).join(''), '”toalladmins.');
      const outOfOrder = boxes.filter((b, i) => i > 0 && b.left <= boxes[i - 1]!.left).map((b) => b.char);
      assert.deepEqual(outOfOrder, [], `every character right of the one before: ${JSON.stringify(boxes)}`);
    }));

  it('When the admin logs out, then the sign-in form returns and the refresh token is ended', () =>
    kit.step('logout', async () => {
      const refreshToken = await page.evaluate<string | null>("sessionStorage.getItem('warren:dev:admin:refreshToken')");
      assert.ok(refreshToken);
      const logout = page.waitForResponse((r) => r.url().endsWith('/auth/logout'));
      await page.getByRole('button', { name: 'Log out' }).click();
      assert.equal((await logout).status(), 204);
      await page.getByRole('heading', { name: 'Sign in to Warren Admin' }).waitFor();
      assert.equal(await page.evaluate<number>('sessionStorage.length'), 0);
      assert.equal((await call(`${kit.stack.mainUrl}/auth/refresh`, { body: { refreshToken } })).status, 401);
    }));

  it('When an employee signs in to the employee portal, then there is no Send or Users section and role notifications arrive', () =>
    kit.step('employee', async () => {
      const email = 'erin@warren.test';
      const password = await kit.registerUser(email, 'Erin Employee');
      const ctx = await kit.context({ width: 1000, height: 700 });
      const p = await kit.page(ctx);
      await p.goto(`${kit.portals.origin}/employee/`);
      assert.equal(await p.title(), 'Warren Employee — dev');
      await signIn(p, email, password);
      await p.getByText('No notifications yet.').waitFor();
      assert.equal(await p.locator('#user-name').textContent(), 'Erin Employee');
      assert.deepEqual(await p.getByRole('navigation', { name: 'Sections' }).getByRole('link').allTextContents(), ['Inbox', 'Account']);

      await sendAsAdmin({ recipients: { roles: ['employee'] }, title: 'Welcome aboard', body: 'For every employee.' });
      await note(p, 'Welcome aboard').waitFor();
      await p.getByRole('link', { name: '1 unread notification' }).waitFor();
      await ctx.close();
    }));

  it('When an employee opens the admin portal, then they are told which portal is theirs', () =>
    kit.step('role hint', async () => {
      const ctx = await kit.context();
      const p = await kit.page(ctx);
      await p.goto(`${kit.portals.origin}/admin/`);
      await signIn(p, 'erin@warren.test', 'erin has a long passphrase 7');
      await p.getByText('This is the Admin portal; you are signed in as employee.').waitFor();
      assert.equal(await p.getByRole('link', { name: 'Open the Employee portal' }).getAttribute('href'), '../employee/');
      assert.deepEqual(await p.getByRole('navigation', { name: 'Sections' }).getByRole('link').allTextContents(), ['Inbox', 'Account'], 'no send or users without the permissions');
      // A screen they do not have, typed in: the inbox, and the address says so.
      await p.goto(`${kit.portals.origin}/admin/#/users`);
      await p.getByRole('heading', { name: 'Inbox' }).waitFor();
      await until(async () => (await p.evaluate<string>('location.hash')) === '#/inbox', 'the hash to name the inbox');
      assert.equal(await p.getByRole('heading', { name: 'Users' }).count(), 0);
      await ctx.close();
    }));

  it('When a qa portal opens, then it loads its own copy of the shared code and its qa config', () =>
    kit.step('qa portal', async () => {
      const ctx = await kit.context({ width: 1000, height: 700 });
      const p = await kit.page(ctx);
      const before = kit.portals.requested.length;
      await p.goto(`${kit.portals.origin}/manager_QA/`);
      assert.equal(await p.title(), 'Warren Manager — qa');
      await p.getByRole('heading', { name: 'Sign in to Warren Manager' }).waitFor();
      assert.equal(await p.locator('body').getAttribute('data-partition'), 'qa');
      const paths = kit.portals.requested.slice(before);
      assert.ok(paths.includes('/manager_QA/shared/portal.js'), 'shared code from the portal folder');
      assert.ok(paths.includes('/manager_QA/config.js'));
      assert.ok(!paths.some((path) => path.startsWith('/base/')), `nothing from dev's base: ${paths}`);
      await ctx.close();
    }));

  it('Then nothing was loaded from outside, no page threw and nothing broke the Content-Security-Policy', () => {
    assertNoProblems(kit);
  });
});
