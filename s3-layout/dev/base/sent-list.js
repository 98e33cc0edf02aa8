/**
 * "What I sent": the user's own sends as the API lists them (`GET /notifications/sent`, newest
 * first, each with its status and whom it went to), so the list is the same after a reload, in
 * another tab or on another device; "Show older" pages back. While the Send screen is shown and
 * the page visible, the newest are read again every 15 s, so the counts move as people read.
 *
 * A send just accepted (202) is stored a moment later, and only then listed: it is shown at once
 * as pending (in memory only), and the API's row takes its place, in the same element, when the
 * list has it — never twice. Rows are kept by id and updated in place.
 */
import { bdi, h } from './dom.js';
import { plural, problemText, recipientsSummary, timeElement } from './format.js';
import { statusText } from './send-status.js';

const PAGE_SIZE = 20;
const REFRESH_MS = 15_000;
/** The API's largest page: the newest this many are read again; older rows keep their last counts. */
const REFRESH_MAX = 100;

export function createSentList({ client }) {
  const list = h('ul', { id: 'sent-list', class: 'sent-list', 'aria-labelledby': 'sent-title' });
  const empty = h('p', { class: 'empty', hidden: true }, 'Nothing sent yet.');
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const more = h('button', { id: 'sent-more', type: 'button', class: 'button button--ghost', hidden: true }, 'Show older');
  const el = h('section', { id: 'sent', class: 'card', 'aria-labelledby': 'sent-title' },
    h('div', { class: 'card__head' }, h('h2', { id: 'sent-title' }, 'Sent')),
    h('p', { class: 'muted' }, 'What you sent, from any tab or device. The counts update while this screen is open.'),
    error, empty, list, more);

  /** The API's items, in its order (newest first). */
  let listed = [];
  /** Accepted but not listed yet, newest first: id → { id, title, roles, people, at, status }. */
  const pending = new Map();
  /** id → <li>, kept across renders; and what each <li> shows, so an unchanged one is left alone. */
  const rows = new Map();
  const shownAs = new WeakMap();
  /** Where "Show older" goes on from: just after the oldest row shown (null: nothing older). */
  let nextCursor = null;
  let loaded = false;
  let refreshing = null;
  let timer = null;

  function render() {
    const listedIds = new Set(listed.map((i) => i.id));
    for (const id of pending.keys()) if (listedIds.has(id)) pending.delete(id);
    const order = [...[...pending.values()].map((p) => ({ id: p.id, pending: p })), ...listed.map((item) => ({ id: item.id, item }))];
    order.forEach(({ id, item, pending: p }, i) => {
      let li = rows.get(id);
      if (!li) {
        li = h('li', { class: 'sent__item', 'data-id': id });
        rows.set(id, li);
      }
      fill(li, item, p);
      // Moved only when out of place: the rest of the list stays as it is.
      if (list.children[i] !== li) list.insertBefore(li, list.children[i] ?? null);
    });
    const keep = new Set(order.map((o) => o.id));
    for (const [id, li] of rows) {
      if (!keep.has(id)) {
        li.remove();
        rows.delete(id);
      }
    }
    empty.hidden = !loaded || order.length > 0;
    more.hidden = !nextCursor;
  }

  /** One row's content: what the API says of the send, or what the form sent while it is pending. */
  function fill(li, item, p) {
    const title = item ? item.title : p.title;
    const at = item ? item.createdAt : p.at;
    const status = item ? { text: statusText(item, item.unknownUserCount), kind: 'ok' } : p.status;
    const key = JSON.stringify([title, at, status, item ? item.to : [p.roles, p.people]]);
    if (shownAs.get(li) === key) return;
    shownAs.set(li, key);
    li.dataset.state = item ? 'listed' : 'pending';
    const who = item ? toWhom(item.to) : recipientsSummary(p.roles, p.people);
    li.replaceChildren(
      h('span', { class: 'sent__title' }, bdi(title)),
      h('span', { class: 'sent__meta' }, timeElement(at), who ? h('span', {}, 'to ', ...who) : null),
      h('span', { class: 'sent__status', 'data-kind': status.kind }, status.text));
  }

  async function refresh() {
    if (refreshing) return refreshing;
    refreshing = (async () => {
      try {
        const page = await client.notifications.sent({ limit: Math.min(REFRESH_MAX, Math.max(PAGE_SIZE, listed.length)) });
        const fresh = new Set(page.items.map((i) => i.id));
        const older = listed.filter((i) => !fresh.has(i.id));
        if (older.length < listed.length) {
          // The newest as they are now, then the older rows shown before: one run without a gap
          // (the page reaches into them). "Show older" goes on from the oldest row shown.
          listed = [...page.items, ...older];
          if (older.length === 0) nextCursor = page.nextCursor;
        } else {
          // Nothing shown before is on the newest page (first load, or more new sends than a
          // page): sends may lie between, so the list starts again from this page.
          listed = page.items;
          nextCursor = page.nextCursor;
        }
        loaded = true;
        showError(null);
      } catch (err) {
        showError(err);
      } finally {
        refreshing = null;
        render();
      }
    })();
    return refreshing;
  }

  async function loadOlder() {
    if (!nextCursor) return;
    more.disabled = true;
    try {
      const page = await client.notifications.sent({ limit: PAGE_SIZE, before: nextCursor });
      const shown = new Map(listed.map((i, n) => [i.id, n]));
      for (const item of page.items) {
        if (shown.has(item.id)) listed[shown.get(item.id)] = item;
        else listed.push(item);
      }
      nextCursor = page.nextCursor;
      showError(null);
    } catch (err) {
      showError(err);
    } finally {
      more.disabled = false;
      render();
    }
  }
  more.addEventListener('click', () => void loadOlder());

  function showError(err) {
    if (!err) {
      error.hidden = true;
      error.textContent = '';
      return;
    }
    const text = `What you sent could not be loaded: ${problemText(err)}`;
    // Said once, not again on every failed poll.
    if (error.textContent !== text) error.textContent = text;
    error.hidden = false;
  }

  // ------------------------------------------------------------------ polling while shown
  function onVisibility() {
    if (el.isConnected && document.visibilityState === 'visible') void refresh();
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!el.isConnected) {
        stop();
        return;
      }
      if (document.visibilityState === 'visible') await refresh();
      schedule();
    }, REFRESH_MS);
  }
  function stop() {
    clearTimeout(timer);
    timer = null;
    document.removeEventListener('visibilitychange', onVisibility);
  }

  render();

  return {
    el,
    /** The Send screen is shown: read the list now, and again every 15 s while it stays shown. */
    shown() {
      document.removeEventListener('visibilitychange', onVisibility);
      document.addEventListener('visibilitychange', onVisibility);
      schedule();
      void refresh();
    },
    /** A send just accepted: shown at once, pending until the API lists it. */
    add(entry) {
      const rest = [...pending.values()].filter((p) => p.id !== entry.id);
      pending.clear();
      // Newest first: above any send still pending; not at all if the list has it already.
      if (!listed.some((i) => i.id === entry.id)) pending.set(entry.id, { ...entry, status: { text: 'Delivering…', kind: 'pending' } });
      for (const p of rest) pending.set(p.id, p);
      render();
    },
    /** The status of a send the form follows (`GET /notifications/:id`): stored, it is listed now. */
    setStatus(id, result) {
      const p = pending.get(id);
      if (p) {
        p.status = { text: result.text, kind: result.kind };
        render();
        if (result.stored) void refresh();
        return;
      }
      const n = listed.findIndex((i) => i.id === id);
      if (n >= 0 && result.status) {
        const s = result.status;
        listed[n] = { ...listed[n], recipients: s.recipients, read: s.read, unknownUserCount: s.unknownUserIds.length };
        render();
      }
    },
  };
}

/** "all employees, Erin Employee and 3 more people": whom a listed send named (null: not recorded). */
function toWhom(to) {
  if (!to) return null;
  const people = to.users.map((u) => u.name || 'an unnamed user');
  const rest = to.userCount - to.users.length;
  if (rest > 0) people.push(plural(rest, 'more person', 'more people'));
  return recipientsSummary(to.roles, people);
}
