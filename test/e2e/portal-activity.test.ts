/**
 * Sign-in activity on the admin portal, in Chromium, through roles and labels (decision 0031):
 * an employee's failed sign-in in their own browser shows for the admin with its address and
 * device; the admin narrows by kind and by a person picked by name, and pages back with "Show
 * older" without gap or duplicate; names and user agents chosen by an attacker (markup, U+202E,
 * control characters) are shown as text, isolated; a refusal counted N times shows ×N; at
 * 390×844 nothing scrolls sideways; and a manager, on any portal, has no such view.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { BrowserContext, Page } from 'playwright-core';
import { assertNoProblems, PHONE, startPortalKit, type PortalKit } from '../support/browser.js';
import { call } from '../support/http.js';
import { ADMIN, login } from '../support/stack.js';
import { until } from '../support/wait.js';

describe('the admin portal: sign-in activity', { timeout: 150_000 }, () => {
  let kit: PortalKit;
  let authDb: pg.Client;
  const erin = { email: 'erin@warren.test', name: 'Erin Employee', password: '', id: '' };
  const mona = { email: 'mona@warren.test', name: 'Mona Manager', password: '' };
  /** Markup and a right-to-left override in a name, as anyone may register it. */
  const mallory = { email: 'mallory@warren.test', name: '<img src=x id=pwned>\u202eyrollaM', password: '', id: '' };
  const HOSTILE_UA = `Mozilla/5.0 \u202e<script id=pwned2>alert(1)</script>\u0001\u001b[31m${'x'.repeat(400)}`;
  let admin: { ctx: BrowserContext; page: Page };

  before(async () => {
    kit = await startPortalKit();
    erin.password = await kit.registerUser(erin.email, erin.name);
    mona.password = await kit.registerUser(mona.email, mona.name);
    mallory.password = await kit.registerUser(mallory.email, mallory.name);
    const token = (await login(kit.stack)).accessToken;
    const idOf = async (q: string) => (await call(`${kit.stack.mainUrl}/users?q=${q}`, { token })).body.items[0].id as string;
    erin.id = await idOf('erin');
    mallory.id = await idOf('mallory');
    assert.equal((await call(`${kit.stack.mainUrl}/users/${await idOf('mona')}`, { method: 'PATCH', token, body: { role: 'manager' } })).status, 200);
    authDb = new pg.Client({ connectionString: kit.stack.env.AUTH_DATABASE_URL });
    await authDb.connect();
  });
  after(async () => {
    await authDb?.end();
    await kit?.stop();
  });

  const open = (portal: string, viewport?: { width: number; height: number }) => kit.open(portal, viewport);
  const signIn = (p: Page, email: string, password: string) => kit.signIn(p, email, password);
  const sections = (p: Page) => p.getByRole('navigation', { name: 'Sections' }).getByRole('link');
  const dataRows = (p: Page) => p.locator('#activity-table tbody tr');

  it("When an employee's sign-in fails in their browser, then the admin opens Sign-in activity and sees it: who, when, from where, on what", () =>
    kit.step('failed sign-in seen', async () => {
      // Erin mistypes her password on the employee portal
      const employee = await open('employee');
      await employee.page.getByLabel('Email').fill(erin.email);
      await employee.page.getByLabel('Password').fill('not her password');
      await employee.page.getByRole('button', { name: 'Sign in' }).click();
      await employee.page.getByRole('alert').filter({ hasText: 'The email or password is incorrect.' }).waitFor();
      await employee.ctx.close();

      admin = await open('admin');
      const p = admin.page;
      await signIn(p, ADMIN.email, ADMIN.password);
      assert.deepEqual(await sections(p).allTextContents(), ['Inbox', 'Send', 'Users', 'Activity', 'Account']);
      await sections(p).filter({ hasText: 'Activity' }).click();
      await p.getByRole('heading', { name: 'Sign-in activity' }).waitFor();
      assert.ok(p.url().endsWith('#/activity'));

      const row = p.getByRole('row', { name: /Sign-in failed.*Erin Employee/ }).first();
      await row.waitFor();
      const cells = await row.locator('th, td').allInnerTexts();
      assert.match(cells[0] as string, /^Sign-in failed\s+wrong password$/);
      assert.match(cells[1] as string, /^just now\s+\S/, 'relative, then the exact time');
      assert.match(cells[2] as string, /^Erin Employee\s+erin@warren\.test$/);
      assert.equal(cells[3], '127.0.0.1');
      assert.match(cells[4] as string, /^Chrome on Linux\s+Mozilla\/5\.0/);
      assert.ok(((await row.locator('.audit__ua').getAttribute('title')) ?? '').includes('HeadlessChrome'), 'the whole user agent is the title');
      const exact = await row.locator('time').getAttribute('title');
      assert.ok(exact && exact.length > 8, 'the exact time on the relative one too');
      // Newest first: the row order follows the ids
      const ids = (await dataRows(p).evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-id')))));
      assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
      // By default the views of this list are left out; they are one choice away, by whom
      assert.equal(await p.locator('#activity-table tbody tr[data-event="audit_read"]').count(), 0);
      await p.getByLabel('Events').selectOption({ label: 'Views of this list' });
      await p.getByRole('row', { name: /Activity viewed.*by Administrator/ }).first().waitFor();
      await p.getByLabel('Events').selectOption({ label: 'Sign-ins and account events' });
      await p.getByRole('row', { name: /Sign-in failed.*Erin Employee/ }).first().waitFor();
      // The table is a table: column headers, a caption, labelled filters
      assert.deepEqual(await p.getByRole('columnheader').allTextContents(), ['Event', 'When', 'Person', 'Address', 'Device']);
      await p.getByRole('table', { name: 'Sign-in activity, newest first' }).waitFor();
      await p.getByLabel('Events').waitFor();
      await p.getByRole('combobox', { name: 'Person' }).waitFor();
    }));

  it('When the admin narrows to failed sign-ins and picks a person by name, then only theirs show; "Show older" pages back without gap or duplicate', () =>
    kit.step('filters and paging', async () => {
      const p = admin.page;
      // 70 more failures of Erin's, so that her list spans pages of 50
      await authDb.query(`INSERT INTO audit_log (event, user_id, ip, user_agent, details) SELECT 'login_failed', $1, '203.0.113.' || g, 'curl/8.5.0', '{"reason":"wrong_password"}' FROM generate_series(1, 70) g`, [erin.id]);
      // And a failure of Mallory's with a user agent no HTTP parser lets through (a real U+202E, C0 controls)
      await authDb.query(`INSERT INTO audit_log (event, user_id, ip, user_agent, details) VALUES ('login_failed', $1, '198.51.100.23', $2, '{"reason":"wrong_password"}')`, [mallory.id, HOSTILE_UA]);

      await p.getByLabel('Events').selectOption({ label: 'Failed sign-ins' });
      await until(async () => (await dataRows(p).count()) === 50 && (await p.locator('tbody tr[data-event]:not([data-event^="login_"])').count()) === 0, 'a page of failures only');
      assert.ok(await p.getByRole('row', { name: /yrollaM/ }).count() > 0, "others' failures too");

      const person = p.getByRole('combobox', { name: 'Person' });
      await person.fill('erin');
      await p.getByRole('option', { name: /Erin Employee/ }).waitFor();
      await person.press('Enter');
      await p.getByRole('list', { name: 'Chosen: Person' }).getByText('Erin Employee').waitFor();
      await until(async () => (await p.getByRole('row', { name: /yrollaM/ }).count()) === 0 && (await dataRows(p).count()) === 50, "Erin's failures only");

      await p.getByRole('button', { name: 'Show older' }).click();
      await until(async () => (await dataRows(p).count()) === 71, 'the second page appended: 70 written and the one from her browser');
      assert.equal(await p.getByRole('button', { name: 'Show older' }).isHidden(), true, 'nothing older');
      const ids = await dataRows(p).evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-id'))));
      assert.equal(new Set(ids).size, ids.length, 'no duplicate');
      assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first across pages');
      const people = await p.locator('#activity-table tbody .audit__name').allTextContents();
      assert.ok(people.every((n) => n === 'Erin Employee'));

      // Removing the person shows everyone again
      await p.getByRole('button', { name: 'Remove Erin Employee' }).click();
      await until(async () => (await p.getByRole('row', { name: /yrollaM/ }).count()) > 0, 'everyone again');
    }));

  it('When a name or a user agent holds markup, control characters or U+202E, then they show as text, isolated, and the words after them read as written', () =>
    kit.step('hostile text', async () => {
      const p = admin.page;
      await p.getByLabel('Events').selectOption({ label: 'Everything' });
      // Newest of all is the read of the previous filter (a failure was newest among failures)
      await until(async () => (await dataRows(p).first().getAttribute('data-event')) === 'audit_read', 'the page of all events');
      const row = p.locator(`#activity-table tbody tr[data-event="login_failed"]`).filter({ has: p.locator('.audit__ip', { hasText: '198.51.100.23' }) });
      await row.waitFor();
      assert.equal(await p.locator('#pwned, #pwned2, #activity-table img, #activity-table script').count(), 0, 'no markup became an element');
      const name = row.locator('.audit__name');
      assert.equal(await name.textContent(), mallory.name);
      assert.equal(await name.locator('bdi').count(), 1, 'the name is isolated');
      const ua = row.locator('.audit__ua');
      assert.equal(await ua.locator('bdi').count(), 1, 'the user agent is isolated');
      const shown = (await ua.textContent()) ?? '';
      assert.ok(shown.startsWith('Mozilla/5.0 \u202e<script id=pwned2>') && shown.endsWith('…') && Array.from(shown).length === 60, JSON.stringify(shown));
      assert.equal((await ua.getAttribute('title'))?.length, 256, 'the API cut it to 256 characters');
      // The email under the name: each character right of the one before, whatever the name did
      const order = await row.locator('.audit__person').evaluate((cell) => {
        const doc = (cell as unknown as { ownerDocument: any }).ownerDocument;
        const email = cell.querySelectorAll('.audit__sub')[0] as any;
        const node = email.querySelector('bdi').firstChild;
        const lefts: number[] = [];
        for (let i = 0; i < node.data.length; i++) {
          const range = doc.createRange();
          range.setStart(node, i);
          range.setEnd(node, i + 1);
          lefts.push(range.getBoundingClientRect().left);
        }
        return { text: node.data as string, lefts };
      });
      assert.equal(order.text, mallory.email);
      assert.ok(order.lefts.every((l, i) => i === 0 || l > (order.lefts[i - 1] as number)), JSON.stringify(order));
    }));

  it('When a refusal was repeated (counted into one row), then the row shows ×N, read as "repeated N times", and when the last came; a count that is not a number shows nothing', () =>
    kit.step('repeats', async () => {
      const p = admin.page;
      const lastAt = new Date(Date.now() - 5_000).toISOString();
      await authDb.query(
        `INSERT INTO audit_log (event, user_id, ip, user_agent, details) VALUES ('login_throttled', $1, '203.0.113.88', 'curl/8.5.0', $2), ('login_refused_locked', $1, '203.0.113.89', 'curl/8.5.0', $3)`,
        [erin.id, { repeats: 12, lastAt }, { repeats: '<img id=pwned3>', lastAt: 'soon' }],
      );
      await p.getByLabel('Events').selectOption({ label: 'Failed sign-ins' });

      const row = p.getByRole('row', { name: /Refused: too many tries\s*repeated 12 times.*Erin Employee/ });
      await row.waitFor();
      assert.equal(await row.locator('.audit__repeats [aria-hidden="true"]').textContent(), '×12');
      assert.match((await row.locator('.audit__repeats').getAttribute('title')) ?? '', /^12 times, the last at \S/);
      assert.match((await row.locator('.audit__event .audit__sub').textContent()) ?? '', /^the last at \S/);
      const odd = p.locator('#activity-table tbody tr[data-event="login_refused_locked"]').filter({ has: p.locator('.audit__ip', { hasText: '203.0.113.89' }) });
      await odd.waitFor();
      assert.equal(await odd.locator('.audit__repeats').count(), 0, 'the API leaves out a count of the wrong shape');
      assert.equal(await p.locator('#pwned3').count(), 0);
    }));

  it('When the admin uses Sign-in activity on a phone (390×844), then rows stack and nothing scrolls sideways', () =>
    kit.step('phone', async () => {
      const phone = await open('admin', PHONE);
      const p = phone.page;
      await signIn(p, ADMIN.email, ADMIN.password);
      await sections(p).filter({ hasText: 'Activity' }).click();
      await p.getByRole('heading', { name: 'Sign-in activity' }).waitFor();
      await p.getByRole('row', { name: /yrollaM/ }).first().waitFor();
      const problems = await p.evaluate(() => {
        const w = globalThis as unknown as { innerWidth: number; document: any; getComputedStyle(e: any): any };
        const doc = w.document;
        const out: string[] = [];
        if (doc.documentElement.scrollWidth > w.innerWidth) out.push(`page ${doc.documentElement.scrollWidth}`);
        const main = doc.querySelector('main');
        if (main.scrollWidth > main.clientWidth) out.push(`content ${main.scrollWidth}`);
        const nav = doc.querySelector('nav.sections');
        if (nav.scrollWidth > nav.clientWidth) out.push('the sections do not fit');
        for (const el of doc.querySelectorAll('#activity *')) {
          const r = el.getBoundingClientRect();
          if (r.width === 0 || el.closest('.sr-only, thead')) continue;
          if (r.right > w.innerWidth + 0.5 || r.left < -0.5) out.push(`${el.tagName}.${el.className} ${Math.round(r.left)}–${Math.round(r.right)}`);
        }
        const row = doc.querySelector('#activity-table tbody tr');
        if (row && w.getComputedStyle(row).display !== 'grid') out.push('rows are not stacked');
        return out;
      });
      assert.deepEqual(problems, []);
      await phone.ctx.close();
    }));

  it('When a manager signs in, on the manager portal or the admin one, then there is no Sign-in activity', () =>
    kit.step('manager', async () => {
      for (const portal of ['manager', 'admin']) {
        const { ctx, page: p } = await open(portal);
        await signIn(p, mona.email, mona.password);
        const links = await sections(p).allTextContents();
        assert.ok(!links.includes('Activity'), `${portal}: ${links.join(', ')}`);
        await p.goto(`${kit.portals.origin}/${portal}/#/activity`);
        await p.getByRole('heading', { name: 'Inbox' }).waitFor();
        assert.ok(p.url().endsWith('#/inbox'), 'the inbox instead');
        assert.equal(await p.getByRole('heading', { name: 'Sign-in activity' }).count(), 0);
        await ctx.close();
      }
    }));

  it('Then no page threw, broke the Content-Security-Policy or loaded anything from outside', () => {
    assertNoProblems(kit);
  });
});
