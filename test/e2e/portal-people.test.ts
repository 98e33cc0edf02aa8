/**
 * The portals for each role, in Chromium, through roles and labels: a person registers on the
 * employee portal (the code comes by real SMTP), is signed in, resets a forgotten password (which
 * signs out their other session); the admin makes someone a manager in the users table (with a
 * confirmation) and is refused, with the reason, when demoting the last admin; the manager picks
 * the employee by name, previews and sends; the employee sees the toast and the sender's name
 * live in another browser; the manager sees the send's status count the read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { assertNoProblems, startPortalKit, type PortalKit } from '../support/browser.js';
import { ADMIN } from '../support/stack.js';
import { until } from '../support/wait.js';

describe('the portals in a real browser: each role', { timeout: 150_000 }, () => {
  let kit: PortalKit;
  const paula = { email: 'paula@warren.test', name: 'Paula Person', password: 'paula chose this passphrase 1' };
  const mona = { email: 'mona@warren.test', name: 'Mona Manager', password: '' };
  let employee: { ctx: BrowserContext; page: Page };
  let admin: { ctx: BrowserContext; page: Page };
  let manager: { ctx: BrowserContext; page: Page };

  before(async () => {
    kit = await startPortalKit();
    mona.password = await kit.registerUser(mona.email, mona.name);
  });
  after(async () => {
    await kit?.stop();
  });

  const open = (portal: string, viewport?: { width: number; height: number }) => kit.open(portal, viewport);
  const signIn = (p: Page, email: string, password: string) => kit.signIn(p, email, password);
  const section = (p: Page, name: string) => p.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name });

  it('When a person registers on the employee portal and enters the emailed code, then they are signed in as an employee', () =>
    kit.step('register', async () => {
      employee = await open('employee');
      const p = employee.page;
      await p.getByRole('link', { name: 'Create an account' }).click();
      await p.getByRole('heading', { name: 'Create an account' }).waitFor();
      await p.getByLabel('Name').fill(paula.name);
      await p.getByLabel('Email').fill(paula.email);
      await p.getByLabel('Password').fill('short');
      await p.getByRole('button', { name: 'Create account' }).click();
      // The browser's own check (minlength) stops it first; the server's words come for the rest.
      assert.equal(await p.getByRole('heading', { name: 'Check your email' }).count(), 0);
      await p.getByLabel('Password').fill(paula.password);
      await p.getByRole('button', { name: 'Create account' }).click();

      await p.getByRole('heading', { name: 'Check your email' }).waitFor();
      await p.getByLabel('Code').fill('000000');
      await p.getByRole('button', { name: 'Confirm email' }).click();
      await p.getByRole('alert').waitFor();
      await p.getByLabel('Code').fill(await kit.codeFor(paula.email));
      await p.getByRole('button', { name: 'Confirm email' }).click();

      await p.getByRole('heading', { name: 'Inbox' }).waitFor();
      assert.equal(await p.locator('#user-name').textContent(), paula.name);
      assert.equal(await p.locator('#user-role').textContent(), 'employee');
    }));

  it('When they reset a forgotten password with the emailed code, then the new one works and their other session is signed out', () =>
    kit.step('reset', async () => {
      const other = await open('employee');
      const p = other.page;
      await p.getByRole('link', { name: 'Forgot your password?' }).click();
      await p.getByLabel('Email').fill(paula.email);
      await p.getByRole('button', { name: 'Email me a code' }).click();
      await p.getByRole('heading', { name: 'Choose a new password' }).waitFor();
      await p.getByLabel('Code').fill(await kit.codeFor(paula.email));
      paula.password = 'paula chose a new passphrase 2';
      await p.getByLabel('New password', { exact: true }).fill(paula.password);
      await p.getByRole('button', { name: 'Set new password' }).click();

      await p.getByText('Your password is changed and every session was signed out.').waitFor();
      assert.equal(await p.getByLabel('Email').inputValue(), paula.email, 'the address is filled in');
      await p.getByLabel('Password').fill(paula.password);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('heading', { name: 'Inbox' }).waitFor();
      await other.ctx.close();

      // The session of the first browser ended with the reset: it says so and asks to sign in.
      await employee.page.getByRole('alert').filter({ hasText: 'Your session has ended' }).waitFor();
      await signIn(employee.page, paula.email, paula.password);
    }));

  it('When the admin makes someone a manager in the users table, then it is confirmed first; demoting the last admin is refused with the reason', () =>
    kit.step('roles', async () => {
      admin = await open('admin');
      const p = admin.page;
      await signIn(p, ADMIN.email, ADMIN.password);
      await section(p, 'Users').click();
      await p.getByRole('heading', { name: 'Users' }).waitFor();
      await p.getByLabel('Search users').fill('mona');
      await until(async () => (await p.getByRole('row').count()) === 2, 'the header row and Mona only');
      await p.getByRole('row', { name: /Mona Manager/ }).waitFor();

      await p.getByLabel('Role of Mona Manager').selectOption('manager');
      const dialog = p.getByRole('dialog', { name: "Change Mona Manager's role?" });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await until(async () => (await p.getByLabel('Role of Mona Manager').inputValue()) === 'employee', 'cancelled: back to employee');
      await p.getByLabel('Role of Mona Manager').selectOption('manager');
      await dialog.getByRole('button', { name: 'Make manager' }).click();
      await p.getByRole('status').filter({ hasText: 'Mona Manager is now a manager.' }).waitFor();

      await p.getByLabel('Search users').fill('admin@');
      await p.getByRole('row', { name: /Administrator/ }).waitFor();
      await p.getByLabel('Role of Administrator').selectOption('employee');
      await p.getByRole('dialog', { name: "Change Administrator's role?" }).getByRole('button', { name: 'Make employee' }).click();
      await p.getByRole('alert').filter({ hasText: 'Administrator is the last admin, so they stay an admin' }).waitFor();
      assert.equal(await p.getByLabel('Role of Administrator').inputValue(), 'admin');
    }));

  it('When the manager picks the employee by name and sends, then the employee sees the toast and the sender live, and the status counts the read', () =>
    kit.step('manager sends', async () => {
      manager = await open('manager');
      const p = manager.page;
      await signIn(p, mona.email, mona.password);
      assert.deepEqual(await p.getByRole('navigation', { name: 'Sections' }).getByRole('link').allTextContents(), ['Inbox', 'Send', 'Account'], 'no users table for managers');
      await section(p, 'Send').click();

      const people = p.getByRole('combobox', { name: 'People' });
      await people.fill('paula');
      const option = p.getByRole('option', { name: /Paula Person/ });
      await option.waitFor();
      await people.press('ArrowDown');
      assert.equal(await option.getAttribute('aria-selected'), 'true');
      await people.press('Enter');
      await p.getByRole('button', { name: 'Remove Paula Person' }).waitFor();
      await p.getByLabel('Title').fill('Your laptop is ready');
      await p.getByLabel('Message').fill('Pick it up at the front desk.');
      assert.match((await p.getByRole('region', { name: 'Preview' }).textContent()) ?? '', /To Paula Person.*Your laptop is ready.*from Mona Manager/s);
      await p.getByRole('button', { name: 'Send', exact: true }).click();
      await p.locator('#send-result').getByText('Delivered to 1 person · 0 read').waitFor();

      // The employee, in another browser, hears of it at once.
      const toast = employee.page.getByRole('status').filter({ hasText: 'Your laptop is ready' });
      await toast.waitFor();
      assert.match((await toast.textContent()) ?? '', /from Mona Manager/);
      const item = employee.page.getByRole('article', { name: 'Your laptop is ready' });
      assert.equal(await item.locator('.note__sender').textContent(), 'from Mona Manager');
      await employee.page.getByRole('link', { name: '1 unread notification' }).waitFor();
      await item.getByRole('button', { name: 'Mark as read' }).click();

      await p.locator('#send-result').getByText('Delivered to 1 person · 1 read').waitFor();
      const sent = p.getByRole('region', { name: 'Sent', exact: true });
      await sent.getByText('Delivered to 1 person · 1 read').waitFor();
      assert.match((await sent.textContent()) ?? '', /Your laptop is ready.*to Paula Person/s);
    }));

  it('Then no page threw, broke the Content-Security-Policy or loaded anything from outside', () => {
    assertNoProblems(kit);
  });
});
