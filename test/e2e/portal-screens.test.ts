/**
 * Every screen of every portal at phone width (390×844) in Chromium: the header is one row at
 * most 64 px high, nothing is wider than the screen (no horizontal scroll, no element past its
 * right edge), and dates stay on one line. Then the pictures of each portal at desktop and phone
 * width: to test-results/portals/ on every run, to docs/portals/ (the README's) when
 * PORTAL_SCREENSHOTS_TO_DOCS=1 (`npm run portals:screenshots`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { assertNoProblems, PHONE, screenshotPath, startPortalKit, type PortalKit } from '../support/browser.js';
import { call } from '../support/http.js';
import { ADMIN, login } from '../support/stack.js';
import { until } from '../support/wait.js';

/** A little smaller than the tests' desktop: the pictures stay small files. */
const PICTURE_DESKTOP = { width: 1100, height: 720 };

interface Person {
  email: string;
  name: string;
  password: string;
}

describe('the portals in a real browser: phone layout and pictures', { timeout: 180_000 }, () => {
  let kit: PortalKit;
  const mona: Person = { email: 'mona@warren.test', name: 'Mona Manager', password: '' };
  const erin: Person = { email: 'erin@warren.test', name: 'Erin Employee', password: '' };
  const eve: Person = { email: 'eve@warren.test', name: 'Eve Evans', password: '' };

  before(async () => {
    kit = await startPortalKit();
    for (const p of [mona, erin, eve]) p.password = await kit.registerUser(p.email, p.name);
    const admin = await login(kit.stack);
    const token = admin.accessToken;
    const monaId = (await call(`${kit.stack.mainUrl}/users?q=mona`, { token })).body.items[0].id as string;
    assert.equal((await call(`${kit.stack.mainUrl}/users/${monaId}`, { method: 'PATCH', token, body: { role: 'manager' } })).status, 200);
    const manager = await login(kit.stack, mona.email, mona.password);
    const erinId = (await call(`${kit.stack.mainUrl}/users?q=erin`, { token })).body.items[0].id as string;
    const send = (t: string, body: object) => call(`${kit.stack.mainUrl}/notifications`, { token: t, body });
    await send(token, { recipients: { roles: ['employee', 'manager'] }, title: 'Office closed on Friday', body: 'The building is closed for maintenance. Work from home.', type: 'facilities' });
    await send(manager.accessToken, { recipients: { roles: ['employee'] }, title: 'Team lunch on Thursday', body: 'Pizza at noon in the big room.' });
    await send(manager.accessToken, {
      recipients: { userIds: [erinId] },
      title: 'Your laptop is ready',
      body: 'Pick it up at the front desk any time today.',
      type: 'it',
      data: { asset: 'LT-4821', desk: 'Front desk, 2nd floor', ticket: 'IT-1043' },
    });
    await send(token, {
      recipients: { roles: ['employee'] },
      title: 'Security training is due for everyone before the end of the month, including contractors',
      body: 'Follow https://training.example.com/courses/security-awareness-2030/enrol?cohort=all-employees to enrol.',
      type: 'compliance',
      data: { course: 'security-awareness-2030', link: 'https://training.example.com/courses/security-awareness-2030/enrol?cohort=all-employees' },
    });
    await send(token, { recipients: { roles: ['admin'] }, title: 'Weekly sign-ups', body: '12 new accounts this week; 2 wait for a role.', type: 'report', data: { signups: 12 } });
    // A 40-character key and a 300-character value without a space: the key must not squeeze the value away.
    await send(token, { recipients: { roles: ['admin'] }, title: 'Import finished', body: '', type: 'report', data: { customer_reference_of_the_imported_batch: 'a1b2c3d4e5'.repeat(30), rows: 1200 } });
    await until(async () => (await call(`${kit.stack.notificationUrl}/inbox/unread-count`, { token })).body.count === 2, "the admin's two notifications");
    await until(async () => (await call(`${kit.stack.notificationUrl}/inbox/unread-count`, { token: (await login(kit.stack, erin.email, erin.password)).accessToken })).body.count === 4, "Erin's four notifications");
  });
  after(async () => {
    await kit?.stop();
  });

  const PORTALS = [
    { portal: 'admin', person: () => ({ ...ADMIN, name: 'Administrator' }), sections: ['inbox', 'send', 'users', 'activity', 'account'] },
    { portal: 'manager', person: () => mona, sections: ['inbox', 'send', 'account'] },
    { portal: 'employee', person: () => erin, sections: ['inbox', 'account'] },
  ];

  async function signIn(p: Page, portal: string, who: { email: string; password: string }) {
    await p.goto(`${kit.portals.origin}/${portal}/`);
    await p.getByLabel('Email').fill(who.email);
    await p.getByLabel('Password').fill(who.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Inbox' }).waitFor();
    await p.getByRole('status', { name: 'Connection: live' }).waitFor();
  }

  /** What a phone screen must never have; '' when it has none of it. */
  async function phoneProblems(p: Page): Promise<string[]> {
    return p.evaluate(() => {
      const w = globalThis as unknown as { innerWidth: number; document: any; getComputedStyle(e: any): any };
      const doc = w.document;
      const problems: string[] = [];
      if (doc.documentElement.scrollWidth > w.innerWidth) problems.push(`the page scrolls sideways: ${doc.documentElement.scrollWidth} > ${w.innerWidth}`);
      const main = doc.querySelector('main');
      if (main.scrollWidth > main.clientWidth) problems.push(`the content scrolls sideways: ${main.scrollWidth} > ${main.clientWidth}`);
      const header = doc.querySelector('header').getBoundingClientRect();
      if (header.height > 64) problems.push(`the header is ${header.height} px high`);
      for (const child of doc.querySelector('header').querySelectorAll(':scope > *, .topbar__tools > *')) {
        const r = child.getBoundingClientRect();
        if (r.width > 0 && (r.top < header.top || r.bottom > header.bottom)) problems.push(`the header wraps: ${child.className}`);
      }
      for (const el of doc.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || el.closest('.sr-only, [hidden], .sections')) continue;
        if (r.right > w.innerWidth + 0.5 || r.left < -0.5) problems.push(`${el.tagName}.${el.className} overflows (${Math.round(r.left)}–${Math.round(r.right)})`);
      }
      for (const t of doc.querySelectorAll('time')) {
        const range = doc.createRange();
        range.selectNodeContents(t);
        if (t.getClientRects().length > 0 && range.getClientRects().length > 1) problems.push(`a date wraps: ${t.textContent}`);
      }
      // Every value of a notification's data keeps room to be read: at least ~10 characters wide.
      for (const dd of doc.querySelectorAll('.note__data-list dd')) {
        if (dd.getClientRects().length === 0) continue;
        const probe = doc.createElement('span');
        probe.style.cssText = 'position:absolute;visibility:hidden;white-space:pre';
        probe.textContent = '0'.repeat(10);
        dd.append(probe);
        const tenChars = probe.getBoundingClientRect().width;
        probe.remove();
        const width = dd.getBoundingClientRect().width;
        if (width < tenChars * 0.95) problems.push(`a data value is ${Math.round(width)} px wide, less than 10 characters (${Math.round(tenChars)} px)`);
      }
      const nav = doc.querySelector('nav.sections');
      if (nav && !nav.hidden && nav.scrollWidth > nav.clientWidth) problems.push('the sections do not fit');
      return problems;
    });
  }

  for (const { portal, person, sections } of PORTALS) {
    it(`When the ${portal} portal is used on a phone, then every screen fits: one header row of at most 64 px, nothing wider than the screen, dates on one line`, () =>
      kit.step(`${portal} phone`, async () => {
        const ctx = await kit.context(PHONE);
        const p = await kit.page(ctx);
        for (const route of ['', 'register', 'forgot']) {
          await p.goto(`${kit.portals.origin}/${portal}/#/${route}`);
          await p.locator('main h1').waitFor();
          assert.deepEqual(await phoneProblems(p), [], `signed out, #/${route}`);
        }
        await signIn(p, portal, person());
        for (const route of sections) {
          await p.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: route[0]!.toUpperCase() + route.slice(1) }).click();
          await p.locator('main h1').waitFor();
          await p.waitForLoadState('networkidle');
          if (route === 'inbox') for (const d of await p.locator('details').all()) await d.locator('summary').click();
          assert.deepEqual(await phoneProblems(p), [], `#/${route}`);
        }
        await ctx.close();
      }));
  }

  it('Then each portal is pictured at desktop and phone width', () =>
    kit.step('pictures', async () => {
      for (const { portal, person } of PORTALS) {
        for (const [size, viewport] of [['desktop', PICTURE_DESKTOP], ['phone', PHONE]] as const) {
          const ctx = await kit.context(viewport);
          const p = await kit.page(ctx);
          await signIn(p, portal, person());
          await stage(p, portal);
          await p.screenshot({ path: screenshotPath(`${portal}-${size}`), animations: 'disabled' });
          await ctx.close();
        }
      }
    }));

  it("Then the admin's sign-in activity and the manager's sent list are pictured too", () =>
    kit.step('pictures of activity and sent', async () => {
      // A mistyped password, so the activity shows a refusal beside the sign-ins.
      await call(`${kit.stack.mainUrl}/auth/login`, { body: { email: erin.email, password: 'not her password' } });
      const admin = await kit.context(PICTURE_DESKTOP);
      const a = await kit.page(admin);
      await signIn(a, 'admin', { ...ADMIN });
      await a.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Activity' }).click();
      await a.getByRole('row', { name: /Erin Employee/ }).first().waitFor();
      await a.screenshot({ path: screenshotPath('admin-activity'), animations: 'disabled' });
      await admin.close();

      const manager = await kit.context(PICTURE_DESKTOP);
      const m = await kit.page(manager);
      await signIn(m, 'manager', mona);
      await m.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Send' }).click();
      const sent = m.getByRole('region', { name: 'Sent' });
      await sent.getByText('Your laptop is ready').waitFor();
      await sent.screenshot({ path: screenshotPath('manager-sent'), animations: 'disabled' });
      await manager.close();
    }));

  /** Each portal on the screen that shows what it is for. */
  async function stage(p: Page, portal: string) {
    if (portal === 'employee') {
      await p.getByRole('article', { name: 'Your laptop is ready' }).getByText('Details (3)').click();
      return;
    }
    if (portal === 'admin') {
      await p.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Users' }).click();
      await p.getByRole('row', { name: /Mona Manager/ }).waitFor();
      return;
    }
    await p.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Send' }).click();
    await p.getByRole('checkbox', { name: 'Managers' }).check();
    await p.getByRole('combobox', { name: 'People' }).fill('eve');
    await p.getByRole('option', { name: /Eve Evans/ }).click();
    await p.getByLabel('Title').fill('Quarterly review');
    await p.getByLabel('Message').fill('Please book your slot by Friday.');
    await p.getByLabel('Type (optional)').fill('hr');
    await p.getByRole('button', { name: 'Send', exact: true }).click();
    await p.locator('#send-result').getByText(/Delivered to 2 people/).waitFor();
    await p.getByLabel('Title').fill('Team lunch on Thursday');
    await p.getByLabel('Message').fill('Pizza at noon in the big room.');
    await p.locator('main').evaluate((m) => (m.scrollTop = 0));
  }

  it('Then no page threw, broke the Content-Security-Policy or loaded anything from outside', () => {
    assertNoProblems(kit);
  });
});
