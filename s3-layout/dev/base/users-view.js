/**
 * Users (admins, permission users:write): search by name or email, page through, and change a
 * role after a confirmation. Refusals are explained: the last admin cannot be demoted, which
 * the server answers with 409 last_admin.
 */
import { confirmDialog } from './dialog.js';
import { bdi, h, statusLine } from './dom.js';
import { problemText, timeElement } from './format.js';

const ROLES = ['admin', 'manager', 'employee'];
const PAGE = 25;
const SEARCH_DELAY_MS = 250;

export function createUsersView({ client, me, onOwnRoleChanged }) {
  const search = h('input', { id: 'users-search', type: 'search', maxlength: '100', autocomplete: 'off', placeholder: 'Name or email' });
  const status = statusLine('users-status');
  const rows = h('tbody');
  const table = h('table', { class: 'users-table', id: 'users-table' },
    h('caption', { class: 'sr-only' }, 'Users, by name'),
    h('thead', {}, h('tr', {}, ...['Name', 'Email', 'Role', 'Account'].map((c) => h('th', { scope: 'col' }, c)))),
    rows);
  const more = h('button', { type: 'button', class: 'button button--ghost', hidden: true }, 'Load more');
  const empty = h('p', { class: 'empty', hidden: true }, 'Nobody matches.');
  const el = h('section', { id: 'users', class: 'card users', 'aria-labelledby': 'users-title' },
    h('h1', { id: 'users-title', tabindex: '-1' }, 'Users'),
    h('div', { class: 'field field--inline' }, h('label', { for: search.id, class: 'field__label' }, 'Search users'), search),
    status.el, table, empty, more);

  let cursor = null;
  let asked = 0;
  let timer;

  async function load(append) {
    const ask = ++asked;
    more.disabled = true;
    try {
      const page = await client.users.search({ q: search.value.trim(), limit: PAGE, after: append ? cursor : undefined });
      if (ask !== asked) return;
      cursor = page.nextCursor;
      const made = page.items.map(row);
      if (append) rows.append(...made);
      else rows.replaceChildren(...made);
      empty.hidden = rows.childElementCount > 0;
      more.hidden = !cursor;
    } catch (err) {
      if (ask === asked) status.show(problemText(err), 'error');
    } finally {
      more.disabled = false;
    }
  }

  function row(user) {
    const label = user.name || user.email;
    const select = h('select', { 'aria-label': `Role of ${label}`, 'data-user': user.id },
      ...ROLES.map((r) => h('option', { value: r, selected: r === user.role }, r)));
    select.value = user.role;
    let current = user.role;
    select.addEventListener('change', async () => {
      const next = select.value;
      status.clear();
      const self = user.id === me.user.id;
      const ok = await confirmRoleChange(label, current, next, self);
      if (!ok) {
        select.value = current;
        return;
      }
      select.disabled = true;
      try {
        const changed = await client.users.changeRole(user.id, next);
        current = changed.role;
        select.value = current;
        const lowered = ROLES.indexOf(next) > ROLES.indexOf(user.role);
        status.show([bdi(label), ` is now ${article(current)} ${current}.${lowered ? ' Their sessions were signed out, so the change applies at once.' : ' The new permissions apply from their next sign-in or token refresh.'}`], 'ok');
        user.role = current;
        if (self) onOwnRoleChanged();
      } catch (err) {
        select.value = current;
        status.show(err?.code === 'last_admin'
          ? [bdi(label), ' is the last admin, so they stay an admin: Warren always keeps at least one admin, or nobody could manage roles. Make someone else an admin first.']
          : problemText(err), 'error');
      } finally {
        select.disabled = false;
      }
    });
    const state = user.locked ? 'Locked' : user.emailVerified === false ? 'Not verified' : 'Active';
    return h('tr', { 'data-user': user.id },
      h('th', { scope: 'row', class: 'users__name' }, bdi(label)),
      h('td', { class: 'users__email', 'data-label': 'Email' }, bdi(user.email)),
      h('td', { 'data-label': 'Role' }, select),
      h('td', { class: 'users__state', 'data-label': 'Account' }, state, user.createdAt ? [' · joined ', timeElement(user.createdAt)] : null));
  }

  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(false), SEARCH_DELAY_MS);
  });
  more.addEventListener('click', () => load(true));

  return { el, shown: () => load(false) };
}

function confirmRoleChange(label, from, to, self) {
  const lowered = ROLES.indexOf(to) > ROLES.indexOf(from);
  return confirmDialog({
    title: ['Change ', bdi(label), "'s role?"],
    text: `From ${from} to ${to}.${lowered ? ' This takes permissions away: every session of theirs is signed out.' : ''}${self ? ' This is your own account.' : ''}`,
    confirm: `Make ${to}`,
    danger: lowered,
  });
}

function article(word) {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
