/**
 * The portals' browser tests' common kit: Debian's Chromium driven by playwright-core (which never
 * downloads a browser), the portals served as the bucket lays them out, pointed at an in-process
 * stack whose CORS_ORIGINS lists them, and an SMTP server that catches the codes.
 *
 * Every page records what should never happen (an uncaught error, a Content-Security-Policy
 * violation, a request leaving 127.0.0.1); `step` screenshots every open page when a step fails,
 * into test-results/portals/failures/ (git-ignored), for the reviewer.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { call } from './http.js';
import { startPortalServer, type PortalServer } from './portal-server.js';
import { codeIn, startSmtpServer, type TestSmtpServer } from './smtp.js';
import { waitUntilKnown } from './directory.js';
import { login, startStack, type Stack } from './stack.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const UI_TIMEOUT_MS = 10_000;
export const DESKTOP = { width: 1200, height: 800 };
export const PHONE = { width: 390, height: 844 };

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Screenshots of a run (git-ignored); PORTAL_SCREENSHOT_DIR overrides. */
export const RESULTS = process.env.PORTAL_SCREENSHOT_DIR ?? join(ROOT, 'test-results', 'portals');
/** The README's pictures: written only when PORTAL_SCREENSHOTS_TO_DOCS=1 (`npm run portals:screenshots`). */
export const DOCS_SCREENSHOTS = join(ROOT, 'docs', 'portals');

export interface PortalKit {
  portals: PortalServer;
  stack: Stack;
  smtp: TestSmtpServer;
  browser: Browser;
  /** Problems seen on any page so far: uncaught errors, CSP violations, requests off 127.0.0.1. */
  problems: string[];
  /** A new browser context (one person, one browser profile). */
  context(viewport?: { width: number; height: number }): Promise<BrowserContext>;
  page(context: BrowserContext): Promise<Page>;
  /** A new context with one page on `portal`'s start page (`admin`, `manager_QA`, …). */
  open(portal: string, viewport?: { width: number; height: number }): Promise<{ ctx: BrowserContext; page: Page }>;
  /** Signs in on the page's sign-in form, as a person would, and waits for the inbox. */
  signIn(page: Page, email: string, password: string): Promise<void>;
  /** Runs a step; if it fails, every open page is screenshot into test-results/portals/failures/. */
  step(name: string, fn: () => Promise<void>): Promise<void>;
  /** Registers and verifies a user through the API (the code from the SMTP server), known to the directory; returns the password. */
  registerUser(email: string, name: string): Promise<string>;
  /** The code in the next email to `email` (not read before). */
  codeFor(email: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startPortalKit(stackEnv: Record<string, string> = {}): Promise<PortalKit> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium`);
  const portals = await startPortalServer();
  const smtp = await startSmtpServer();
  const stack = await startStack({ CORS_ORIGINS: portals.origin, SMTP_URL: smtp.url, ...stackEnv });
  portals.pointAt({ apiUrl: stack.mainUrl, notificationUrl: stack.notificationUrl, wsUrl: stack.notificationWsUrl });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  const problems: string[] = [];
  const contexts: BrowserContext[] = [];
  const readMail = new Set<string>();

  const kit: PortalKit = {
    portals,
    stack,
    smtp,
    browser,
    problems,
    async context(viewport = DESKTOP) {
      const ctx = await browser.newContext({ viewport, deviceScaleFactor: 1 });
      contexts.push(ctx);
      return ctx;
    },
    async open(portal, viewport) {
      const ctx = await kit.context(viewport);
      const page = await kit.page(ctx);
      await page.goto(`${portals.origin}/${portal}/`);
      return { ctx, page };
    },
    async signIn(p, email, password) {
      await p.getByLabel('Email').fill(email);
      await p.getByLabel('Password').fill(password);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('heading', { name: 'Inbox' }).waitFor();
    },
    async page(ctx) {
      const p = await ctx.newPage();
      p.setDefaultTimeout(UI_TIMEOUT_MS);
      p.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      p.on('console', (m) => {
        if (m.type() === 'error' && /Content.Security.Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
      });
      p.on('request', (r) => {
        const url = r.url();
        if (!url.startsWith('http://127.0.0.1:') && !url.startsWith('ws://127.0.0.1:') && !url.startsWith('data:')) problems.push(`off origin: ${url}`);
      });
      return p;
    },
    async step(name, fn) {
      try {
        await fn();
      } catch (err) {
        const dir = join(RESULTS, 'failures');
        mkdirSync(dir, { recursive: true });
        const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80);
        let i = 0;
        for (const ctx of contexts) {
          for (const p of ctx.pages()) {
            await p.screenshot({ path: join(dir, `${slug}-${i++}.png`), fullPage: false }).catch(() => undefined);
          }
        }
        throw err;
      }
    },
    async codeFor(email) {
      const message = await smtp.waitForMessage((m) => m.envelope.to.includes(email) && !readMail.has(m.raw), 10_000);
      readMail.add(message.raw);
      return codeIn(message);
    },
    async registerUser(email, name) {
      const password = `${name.split(' ')[0]?.toLowerCase()} has a long passphrase 7`;
      assert.equal((await call(`${stack.mainUrl}/auth/register`, { body: { email, password, name } })).status, 202);
      const code = await kit.codeFor(email);
      assert.equal((await call(`${stack.mainUrl}/auth/verify-email`, { body: { email, code } })).status, 200);
      // Role sends reach the users the notification service's directory knows (auth announces them asynchronously).
      // (A session only to learn the id; ended at once, so the user's session list starts empty.)
      const session = await login(stack, email, password);
      await call(`${stack.mainUrl}/auth/logout`, { method: 'POST', token: session.accessToken });
      await waitUntilKnown(stack.env, [session.user.id]);
      return password;
    },
    async stop() {
      await browser.close().catch(() => undefined);
      await stack.stop();
      await smtp.stop();
      await portals.stop();
    },
  };
  return kit;
}

/** Fails naming every problem the pages recorded (call last in each file). */
export function assertNoProblems(kit: PortalKit): void {
  assert.deepEqual(kit.problems, [], 'no page threw, violated the CSP or loaded anything from outside');
}

/** Where a screenshot for the README goes: docs/portals/ when asked for, else the run's folder. */
export function screenshotPath(name: string): string {
  const dir = process.env.PORTAL_SCREENSHOTS_TO_DOCS === '1' ? DOCS_SCREENSHOTS : RESULTS;
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.png`);
}

/** The toast's box overlaps no visible input, textarea, select or button of the page's content. */
export async function assertCoversNoControl(page: Page, toast: Locator): Promise<void> {
  const box = await toast.boundingBox();
  assert.ok(box, 'the toast is visible');
  const overlapping = await page.evaluate((t) => {
    const hits: string[] = [];
    const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ getBoundingClientRect(): { left: number; right: number; top: number; bottom: number; width: number; height: number }; tagName: string; textContent: string | null; id: string; getAttribute(n: string): string | null }> } }).document;
    for (const el of doc.querySelectorAll('main input, main textarea, main select, main button, main a')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      const overlaps = r.left < t.x + t.width && r.right > t.x && r.top < t.y + t.height && r.bottom > t.y;
      if (overlaps) hits.push(`${el.tagName} ${el.textContent?.trim() || el.getAttribute('aria-label') || el.id}`);
    }
    return hits;
  }, box);
  assert.deepEqual(overlapping, [], 'the toast covers no control');
}
