/**
 * "Sent" in the portals, in Chromium, through roles and labels: the list comes from the API
 * (GET /notifications/sent), not from the tab. A manager sends to all employees (Erin and Eve)
 * and Erin; the send shows at once as pending (the test hides it from the list the API answers
 * until it lets go), and becomes the API's row without a second one appearing; after a reload, and in another
 * browser, it is still there with whom it went to and its read count, and the count rises (by
 * the list's own polling) once Erin reads it. "Show older" pages back; an admin's list holds none
 * of the manager's sends; on a phone (390×844) nothing scrolls sideways.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import pg from 'pg';
import { assertNoProblems, PHONE, startPortalKit, type PortalKit } from '../support/browser.js';
import { call } from '../support/http.js';
import { ADMIN, login } from '../support/stack.js';
import { until } from '../support/wait.js';

/** The list reads the API again every 15 s while shown: a rise in a count shows within one period. */
const POLL_WAIT_MS = 25_000;

describe('the portals in a real browser: what I sent', { timeout: 180_000 }, () => {
  let kit: PortalKit;
  const mona = { email: 'mona@warren.test', name: 'Mona Manager', password: '' };
  const erin = { email: 'erin@warren.test', name: 'Erin Employee', password: '' };
  const eve = { email: 'eve@warren.test', name: 'Eve Evans', password: '' };
  let manager: { ctx: BrowserContext; page: Page };
  const title = 'Fire drill on Tuesday';
  let sendId = '';

  before(async () => {
    kit = await startPortalKit();
    for (const p of [mona, erin, eve]) p.password = await kit.registerUser(p.email, p.name);
    const admin = await login(kit.stack);
    const monaId = (await call(`${kit.stack.mainUrl}/users?q=mona`, { token: admin.accessToken })).body.items[0].id as string;
    assert.equal((await call(`${kit.stack.mainUrl}/users/${monaId}`, { method: 'PATCH', token: admin.accessToken, body: { role: 'manager' } })).status, 200);
    // The notification service learns of the promotion from auth's outbox: "all employees" is then Erin and Eve.
    const db = new pg.Client({ connectionString: kit.stack.env.NOTIFICATION_DATABASE_URL });
    await db.connect();
    try {
      await until(async () => (await db.query<{ role: string }>('SELECT role FROM directory_users WHERE user_id = $1', [monaId])).rows[0]?.role === 'manager', 'the directory to hold Mona as a manager');
    } finally {
      await db.end();
    }
  });
  after(async () => {
    await kit?.stop();
  });

  const open = (portal: string, viewport?: { width: number; height: number }) => kit.open(portal, viewport);
  const signIn = (p: Page, email: string, password: string) => kit.signIn(p, email, password);
  const section = (p: Page, name: string) => p.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name });
  const sentList = (p: Page) => p.getByRole('region', { name: 'Sent', exact: true });
  const rowsTitled = (p: Page, t: string) => sentList(p).getByRole('listitem').filter({ hasText: t });

  it('When the manager sends to all employees and Erin, then it shows at once as pending and becomes the listed row, never two', () =>
    kit.step('send', async () => {
      manager = await open('manager');
      const p = manager.page;
      await signIn(p, mona.email, mona.password);
      // The list the API answers hides this send until `hold` is lifted: the row must come from the form meanwhile.
      let hold = true;
      await p.route(/\/notifications\/sent(\?|$)/, async (route) => {
        const response = await route.fetch();
        const page = await response.json();
        if (hold) page.items = page.items.filter((i: { title: string }) => i.title !== title);
        await route.fulfill({ response, json: page });
      });
      await section(p, 'Send').click();
      await sentList(p).getByText('Nothing sent yet.').waitFor();
      assert.equal(await sentList(p).getByRole('listitem').count(), 0);

      await p.getByRole('checkbox', { name: 'Employees' }).check();
      const people = p.getByRole('combobox', { name: 'People' });
      await people.fill('erin');
      await p.getByRole('option', { name: /Erin Employee/ }).click();
      await p.getByLabel('Title').fill(title);
      await p.getByLabel('Message').fill('Meet at the car park at 10.');
      await p.getByRole('button', { name: 'Send', exact: true }).click();

      // Pending: from the form, with whom it went to; then its status from GET /notifications/:id.
      const row = rowsTitled(p, title);
      await row.waitFor();
      assert.equal(await row.getAttribute('data-state'), 'pending');
      assert.match((await row.textContent()) ?? '', /to all employees and Erin Employee/);
      await row.getByText('Delivered to 2 people · 0 read').waitFor();
      sendId = (await row.getAttribute('data-id')) ?? '';
      assert.match(sendId, /^[0-9a-f-]{36}$/);
      assert.equal(await row.getAttribute('data-state'), 'pending', 'the list has not got it yet');

      // The API lists it: the same row, now the API's.
      hold = false;
      await until(async () => (await row.getAttribute('data-state')) === 'listed', 'the row to become the listed one', 10_000);
      assert.equal(await rowsTitled(p, title).count(), 1, 'one row, not two');
      assert.equal(await row.getAttribute('data-id'), sendId);
      assert.match((await row.textContent()) ?? '', /to all employees and Erin Employee.*Delivered to 2 people · 0 read/s);
      await p.unroute(/\/notifications\/sent(\?|$)/);
    }));

  it('When the page reloads, and in another browser, then the send is still listed with whom it went to and its read count', () =>
    kit.step('reload', async () => {
      const p = manager.page;
      await p.reload();
      await sentList(p).waitFor();
      const row = rowsTitled(p, title);
      await row.getByText('Delivered to 2 people · 0 read').waitFor();
      assert.match((await row.textContent()) ?? '', /to all employees and Erin Employee/);
      assert.equal(await rowsTitled(p, title).count(), 1);

      const other = await open('manager');
      await signIn(other.page, mona.email, mona.password);
      await section(other.page, 'Send').click();
      await rowsTitled(other.page, title).getByText('Delivered to 2 people · 0 read').waitFor();
      await other.ctx.close();
    }));

  it('When Erin reads it, then the count in the list rises while the screen stays open (no reload, no click)', () =>
    kit.step('read count', async () => {
      const employee = await open('employee');
      await signIn(employee.page, erin.email, erin.password);
      await employee.page.getByRole('article', { name: title }).getByRole('button', { name: 'Mark as read' }).click();
      await employee.page.getByRole('link', { name: '0 unread notifications' }).waitFor();

      await rowsTitled(manager.page, title).getByText('Delivered to 2 people · 1 read').waitFor({ timeout: POLL_WAIT_MS });
      await employee.ctx.close();
    }));

  it('When the manager has sent more than a page, then "Show older" lists the rest, newest first, each once', () =>
    kit.step('show older', async () => {
      // Arrange: 21 more sends through the API (one batch), so 22 in all
      const token = (await login(kit.stack, mona.email, mona.password)).accessToken;
      const batch = await call(`${kit.stack.mainUrl}/notifications/batch`, {
        token,
        body: { notifications: Array.from({ length: 21 }, (_, i) => ({ recipients: { roles: ['manager'] }, title: `Batch item ${String(i).padStart(2, '0')}`, body: '' })) },
      });
      assert.equal(batch.status, 202);
      await until(async () => (await call(`${kit.stack.notificationUrl}/notifications/sent?limit=100`, { token })).body.items.length === 22, 'all 22 stored');
      const expected = (await call(`${kit.stack.notificationUrl}/notifications/sent?limit=100`, { token })).body.items.map((i: { id: string }) => i.id);

      // Act: a fresh look at the screen, then the older page
      const p = manager.page;
      await section(p, 'Inbox').click();
      await section(p, 'Send').click();
      const items = sentList(p).getByRole('listitem');
      await until(async () => (await items.count()) === 20, 'the first page of 20');
      await sentList(p).getByRole('button', { name: 'Show older' }).click();
      await until(async () => (await items.count()) === 22, 'all 22 after Show older');

      // Assert
      const ids = await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
      assert.deepEqual(ids, expected);
      assert.equal(await sentList(p).getByRole('button', { name: 'Show older' }).isVisible(), false, 'nothing older');
      assert.equal(await rowsTitled(p, title).count(), 1);
    }));

  it("When the admin opens Sent, then none of the manager's sends are there: it is what the admin sent", () =>
    kit.step('admin', async () => {
      const admin = await open('admin');
      await signIn(admin.page, ADMIN.email, ADMIN.password);
      await section(admin.page, 'Send').click();
      await sentList(admin.page).getByText('Nothing sent yet.').waitFor();
      assert.equal(await sentList(admin.page).getByRole('listitem').count(), 0);
      await admin.ctx.close();
    }));

  it('When the manager opens Sent on a phone (390×844), then the list is there and nothing scrolls sideways', () =>
    kit.step('phone', async () => {
      const phone = await open('manager', PHONE);
      const p = phone.page;
      await signIn(p, mona.email, mona.password);
      await section(p, 'Send').click();
      await until(async () => (await sentList(p).getByRole('listitem').count()) === 20, 'the first page');
      await sentList(p).getByRole('button', { name: 'Show older' }).click();
      await rowsTitled(p, title).waitFor();
      await rowsTitled(p, title).scrollIntoViewIfNeeded();
      const widths = await p.evaluate(() => {
        const doc = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number }; querySelector(s: string): { scrollWidth: number; clientWidth: number } | null } }).document;
        const main = doc.querySelector('main');
        return { page: doc.documentElement.scrollWidth, viewport: doc.documentElement.clientWidth, main: main?.scrollWidth ?? 0, mainClient: main?.clientWidth ?? 0 };
      });
      assert.ok(widths.page <= widths.viewport, `page ${widths.page} > ${widths.viewport}`);
      assert.ok(widths.main <= widths.mainClient, `main ${widths.main} > ${widths.mainClient}`);
      const box = await rowsTitled(p, title).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width, 'the row fits the screen');
      await phone.ctx.close();
    }));

  it('Then no page threw, broke the Content-Security-Policy or loaded anything from outside', () => {
    assertNoProblems(kit);
  });
});
