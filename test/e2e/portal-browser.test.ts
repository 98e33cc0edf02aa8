/**
 * The static portals (s3-layout/) in a real browser: Debian's Chromium driven by playwright-core,
 * the committed pages served as the bucket lays them out, config.js pointed at an in-process
 * stack. Log in (and fail to), watch a notification arrive live, read it, survive a token refresh
 * and a reload, send from the portal, log out; then the employee portal and a qa portal.
 *
 * Needs /usr/bin/chromium (apt-get install chromium). playwright-core never downloads a browser.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page, type WebSocket as PwWebSocket } from 'playwright-core';
import { call, sleep } from '../support/http.js';
import { decodePayload } from '../support/forge.js';
import { startPortalServer, type PortalServer } from '../support/portal-server.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { ADMIN, login, startStack, type Stack } from '../support/stack.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Short, so that the refresh-ahead and the socket renewal happen within the test. */
const ACCESS_TOKEN_TTL_SECONDS = 10;
const SCREENSHOTS = process.env.PORTAL_SCREENSHOT_DIR ?? join(tmpdir(), 'warren-portal-screenshots');
const UI_TIMEOUT_MS = 10_000;

describe('the portals in a real browser', { timeout: 90_000 }, () => {
  let portals: PortalServer;
  let stack: Stack;
  let smtp: TestSmtpServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Every socket the admin page opened, with the frames it sent and received. */
  const sockets: { ws: PwWebSocket; sent: string[]; received: string[] }[] = [];
  const refreshes: number[] = [];
  const offOrigin: string[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    portals = await startPortalServer();
    smtp = await startSmtpServer();
    stack = await startStack({
      CORS_ORIGINS: portals.origin,
      ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_SECONDS),
      SMTP_URL: smtp.url,
    });
    portals.pointAt({ apiUrl: stack.mainUrl, notificationUrl: stack.notificationUrl, wsUrl: stack.notificationWsUrl });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    page = await newPage(context);
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
    await browser?.close().catch(() => undefined);
    await stack?.stop();
    await smtp?.stop();
    await portals?.stop();
  });

  /** A page that records uncaught errors and any request leaving 127.0.0.1. */
  async function newPage(ctx: BrowserContext): Promise<Page> {
    const p = await ctx.newPage();
    p.setDefaultTimeout(UI_TIMEOUT_MS);
    p.on('pageerror', (err) => pageErrors.push(err.message));
    p.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith('http://127.0.0.1:') && !url.startsWith('ws://127.0.0.1:') && !url.startsWith('data:')) offOrigin.push(url);
    });
    return p;
  }

  const badge = (p: Page) => p.locator('#unread-badge');
  const unreadCount = async (token: string) =>
    (await call<{ count: number }>(`${stack.notificationUrl}/inbox/unread-count`, { token })).body.count;

  async function signIn(p: Page, email: string, password: string) {
    await p.locator('#login-email').fill(email);
    await p.locator('#login-password').fill(password);
    await p.locator('#login-form button[type=submit]').click();
  }

  async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = UI_TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await sleep(50);
    }
    assert.fail(`timed out waiting for ${what}`);
  }

  it('When the admin portal opens and the password is wrong, then the problem detail is shown', async (t) => {
    await page.goto(`${portals.origin}/admin`);
    assert.equal(new URL(page.url()).pathname, '/admin/', 'the folder URL is redirected to its index');
    assert.equal(await page.title(), 'Warren Admin — dev');
    await page.locator('#login-form').waitFor();

    await signIn(page, ADMIN.email, 'not the password');

    const error = page.locator('#login-error');
    await error.waitFor();
    assert.equal(await error.textContent(), 'The email or password is incorrect.');
    assert.equal(await page.locator('#login-password').inputValue(), '', 'the wrong password is cleared');
    const file = join(SCREENSHOTS, 'admin-dev-login-error.png');
    await page.screenshot({ path: file, animations: 'disabled' });
    t.diagnostic(`screenshot: ${file}`);
  });

  it('When the admin signs in, then name, role, badge 0, an empty inbox and the send form show', async () => {
    await signIn(page, ADMIN.email, ADMIN.password);

    await page.locator('#inbox-empty').waitFor();
    assert.equal(await page.locator('#user-name').textContent(), 'Administrator');
    assert.equal(await page.locator('#user-role').textContent(), 'admin');
    assert.equal(await badge(page).textContent(), '0');
    assert.equal(await page.locator('.inbox-item').count(), 0);
    assert.ok(await page.locator('#send-form').isVisible(), 'admins get the send form');
    await page.locator('#connection[data-state=live]').waitFor();
    const stored = await page.evaluate<string[]>('Object.keys(sessionStorage)');
    assert.deepEqual(stored, ['warren:dev:admin:refreshToken'], 'only the refresh token, in sessionStorage, keyed by partition and portal');
    assert.deepEqual(await page.evaluate<string[]>('Object.keys(localStorage)'), [], 'nothing in localStorage');
  });

  it('When a notification is sent through the API, then it appears live with badge 1 and a toast', async (t) => {
    const admin = await login(stack);
    const sent = await call(`${stack.mainUrl}/notifications`, {
      token: admin.accessToken,
      body: { recipients: { userIds: [admin.user.id] }, title: 'Deploy finished', body: 'Build 42 is live on dev.', type: 'deploy' },
    });
    assert.equal(sent.status, 202);

    const item = page.locator('.inbox-item', { hasText: 'Deploy finished' });
    await item.waitFor();
    await page.locator('#unread-badge[data-count="1"]').waitFor();
    assert.equal(await item.getAttribute('data-read'), 'false');
    assert.match((await item.textContent()) ?? '', /Build 42 is live on dev\./);
    assert.match((await item.textContent()) ?? '', /unread/);
    assert.equal(await item.locator('.inbox-item__sender').textContent(), 'from Administrator', "the sender's name");
    assert.ok(await item.locator('time').getAttribute('datetime'));
    await page.locator('.toast', { hasText: 'Deploy finished' }).waitFor();
    assert.equal(await page.title(), '(1) Warren Admin — dev');
    assert.equal(sockets.length, 1, 'one socket so far');

    const file = join(SCREENSHOTS, 'admin-dev-live.png');
    await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
    t.diagnostic(`screenshot: ${file}`);
  });

  it('When the notification is clicked, then it is marked read: badge 0, and the API agrees', async () => {
    const item = page.locator('.inbox-item', { hasText: 'Deploy finished' });
    await item.locator('button').click();

    await page.locator('#unread-badge[data-count="0"]').waitFor();
    assert.equal(await item.getAttribute('data-read'), 'true');
    const admin = await login(stack);
    assert.equal(await unreadCount(admin.accessToken), 0);
    const inbox = await call(`${stack.notificationUrl}/inbox`, { token: admin.accessToken });
    assert.ok(inbox.body.items[0].readAt, 'readAt set on the server');
  });

  it('When the access token nears its expiry, then it is refreshed and the live socket renewed in place', async () => {
    // The first refresh comes at 75 % of the 10 s lifetime; wait past the first token's expiry.
    await until(() => refreshes.length >= 1, 'a refresh', ACCESS_TOKEN_TTL_SECONDS * 1000 + 2000);
    const socket = sockets[0]!;
    await until(() => socket.sent.some((f) => JSON.parse(f).type === 'auth'), 'an auth frame on the socket');
    await until(() => socket.received.some((f) => JSON.parse(f).type === 'auth_ok'), 'auth_ok');
    // Wait until the token the socket opened with has expired (read from the socket's URL):
    // from then on only the renewal can keep the socket open.
    const firstToken = new URL(socket.ws.url()).searchParams.get('token') ?? '';
    const firstExpiry = (decodePayload(firstToken).exp as number) * 1000;
    await until(() => Date.now() > firstExpiry + 500, "the socket's first token to expire", ACCESS_TOKEN_TTL_SECONDS * 1000 + 5000);

    const admin = await login(stack);
    await call(`${stack.mainUrl}/notifications`, {
      token: admin.accessToken,
      body: { recipients: { userIds: [admin.user.id] }, title: 'After the refresh', body: 'still live' },
    });
    await page.locator('.inbox-item', { hasText: 'After the refresh' }).waitFor();
    assert.equal(sockets.length, 1, 'the same socket carried it: renewed, not reopened');
    assert.equal(socket.ws.isClosed(), false);
    assert.equal(await badge(page).textContent(), '1');
  });

  it('When the page reloads, then the session is restored from this tab and the inbox reloads', async () => {
    await page.reload();
    await page.locator('.inbox-item', { hasText: 'Deploy finished' }).waitFor();
    assert.equal(await page.locator('#login-form').count(), 0, 'no login form');
    assert.equal(await page.locator('.inbox-item').count(), 2);
    assert.equal(await page.locator('#user-name').textContent(), 'Administrator');
    await page.locator('#unread-badge[data-count="1"]').waitFor();
  });

  it('When the admin sends from the form, then it arrives as text (no markup), and "mark all read" clears the badge', async (t) => {
    await page.locator('#send-role-admin').check();
    await page.locator('#send-title').fill('<img src=x onerror="window.__pwned=1">Quarterly <b>numbers</b>');
    await page.locator('#send-body').fill('Body with <script>window.__pwned=2</script> inside');
    await page.locator('#send-form button[type=submit]').click();
    await page.locator('#send-status[data-kind=ok]').waitFor();
    assert.match((await page.locator('#send-status').textContent()) ?? '', /^Sent \(id [0-9a-f-]{36}\)\.$/);

    const item = page.locator('.inbox-item', { hasText: 'Quarterly <b>numbers</b>' });
    await item.waitFor();
    assert.equal(await item.locator('img, b, script').count(), 0, 'the title and body are text, not markup');
    assert.equal(await page.evaluate<unknown>('window.__pwned'), undefined);
    await page.locator('#unread-badge[data-count="2"]').waitFor();

    await page.locator('#mark-all-read').click();
    await page.locator('#unread-badge[data-count="0"]').waitFor();
    assert.equal(await page.locator('.inbox-item[data-read=false]').count(), 0);
    const admin = await login(stack);
    assert.equal(await unreadCount(admin.accessToken), 0);
    const file = join(SCREENSHOTS, 'admin-dev-all-read.png');
    await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
    t.diagnostic(`screenshot: ${file}`);

    await page.locator('#send-form button[type=submit]').click(); // the title was cleared: required
    await page.locator('#send-title').fill('x');
    await page.locator('#send-role-admin').uncheck();
    await page.locator('#send-user-ids').fill('not-a-uuid');
    await page.locator('#send-form button[type=submit]').click();
    await page.locator('#send-status[data-kind=error]').waitFor();
    assert.match((await page.locator('#send-status').textContent()) ?? '', /recipients\.userIds\.0/, 'validation errors are listed');
  });

  it('When the admin logs out, then the login form returns and the refresh token is ended', async () => {
    const refreshToken = await page.evaluate<string | null>("sessionStorage.getItem('warren:dev:admin:refreshToken')");
    assert.ok(refreshToken);
    const logout = page.waitForResponse((r) => r.url().endsWith('/auth/logout'));
    await page.locator('#logout').click();
    assert.equal((await logout).status(), 204);
    await page.locator('#login-form').waitFor();
    assert.equal(await page.evaluate<number>('sessionStorage.length'), 0);
    const refused = await call(`${stack.mainUrl}/auth/refresh`, { body: { refreshToken } });
    assert.equal(refused.status, 401);
  });

  it('When an employee signs in to the employee portal, then the inbox shows and there is no send form', async (t) => {
    const email = 'erin@warren.test';
    const password = 'an employee passphrase 7';
    await call(`${stack.mainUrl}/auth/register`, { body: { email, password, name: 'Erin Employee' } });
    const code = codeIn(await smtp.waitForMessage((m) => m.envelope.to.includes(email), 10_000));
    assert.equal((await call(`${stack.mainUrl}/auth/verify-email`, { body: { email, code } })).status, 200);

    const ctx = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    try {
      const p = await newPage(ctx);
      await p.goto(`${portals.origin}/employee/`);
      assert.equal(await p.title(), 'Warren Employee — dev');
      await signIn(p, email, password);
      await p.locator('#inbox-empty').waitFor();
      assert.equal(await p.locator('#user-name').textContent(), 'Erin Employee');
      assert.equal(await p.locator('#user-role').textContent(), 'employee');
      assert.equal(await p.locator('#send-form').count(), 0, 'no send form for employees');
      await p.locator('#connection[data-state=live]').waitFor();

      const admin = await login(stack);
      await call(`${stack.mainUrl}/notifications`, {
        token: admin.accessToken,
        body: { recipients: { roles: ['employee'] }, title: 'Welcome aboard', body: 'For every employee.' },
      });
      await p.locator('.inbox-item', { hasText: 'Welcome aboard' }).waitFor();
      await p.locator('#unread-badge[data-count="1"]').waitFor();
      const file = join(SCREENSHOTS, 'employee-dev.png');
      await p.screenshot({ path: file, fullPage: true, animations: 'disabled' });
      t.diagnostic(`screenshot: ${file}`);
    } finally {
      await ctx.close();
    }
  });

  it('When a qa portal opens, then it loads its own copy of the shared code and its qa config', async (t) => {
    const ctx = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    try {
      const p = await newPage(ctx);
      const before = portals.requested.length;
      await p.goto(`${portals.origin}/manager_QA/`);
      assert.equal(await p.title(), 'Warren Manager — qa');
      await p.locator('#login-form').waitFor();
      assert.equal(await p.locator('body').getAttribute('data-partition'), 'qa');
      const paths = portals.requested.slice(before);
      assert.ok(paths.includes('/manager_QA/shared/portal.js'), 'shared code from the portal folder');
      assert.ok(paths.includes('/manager_QA/config.js'));
      assert.ok(!paths.some((path) => path.startsWith('/base/')), `nothing from dev's base: ${paths}`);
      const file = join(SCREENSHOTS, 'manager-qa-login.png');
      await p.screenshot({ path: file, animations: 'disabled' });
      t.diagnostic(`screenshot: ${file}`);
    } finally {
      await ctx.close();
    }
  });

  it('Then nothing was loaded from outside and no page threw', () => {
    assert.deepEqual(offOrigin, []);
    assert.deepEqual(pageErrors, []);
  });
});
