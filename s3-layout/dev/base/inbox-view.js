/**
 * The inbox: newest first, an All/Unread filter, relative times, who sent each notification,
 * its `data` when present, mark read or unread, mark all read, and older pages on demand.
 *
 * Items are kept by id and updated in place (never the whole list re-rendered), so the button a
 * keyboard user just pressed keeps its focus while live notifications and read changes arrive.
 */
import { bdi, h, uid } from './dom.js';
import { problemText, timeElement } from './format.js';

const PAGE_SIZE = 20;
/** `data` shown per notification: enough to read, never a wall of text. */
const MAX_DATA_ENTRIES = 12;
const MAX_DATA_CHARS = 300;

export function createInbox({ client, toasts, onCount }) {
  /** id → { n, el } */
  const items = new Map();
  let nextCursor = null;
  let loaded = false;
  let filter = 'all';
  let unreadCount = 0;
  /** Read while the Unread filter is on: stays in view until the filter changes. */
  const keep = new Set();

  const list = h('ul', { id: 'inbox-list', class: 'inbox-list' });
  const empty = h('p', { id: 'inbox-empty', class: 'empty', hidden: true });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const loadMore = h('button', { id: 'load-more', type: 'button', class: 'button button--ghost', hidden: true }, 'Load older');
  const markAll = h('button', { id: 'mark-all-read', type: 'button', class: 'button button--ghost button--small', disabled: true }, 'Mark all read');
  const filterName = uid('filter');
  const radios = ['all', 'unread'].map((value) => {
    const input = h('input', { type: 'radio', name: filterName, value, id: `inbox-filter-${value}` });
    input.checked = value === filter;
    input.addEventListener('change', () => setFilter(value));
    return h('label', { class: 'segmented__option' }, input, h('span', {}, value === 'all' ? 'All' : 'Unread'));
  });
  const filters = h('fieldset', { class: 'segmented' }, h('legend', { class: 'sr-only' }, 'Show'), ...radios);
  const el = h('section', { id: 'inbox', class: 'card inbox', 'aria-labelledby': 'inbox-title' },
    h('div', { class: 'card__head' },
      h('h1', { id: 'inbox-title', tabindex: '-1' }, 'Inbox'),
      h('div', { class: 'card__tools' }, filters, markAll)),
    error, empty, list, loadMore);

  async function load(before) {
    error.hidden = true;
    loadMore.disabled = true;
    try {
      const page = await client.inbox.list({ limit: PAGE_SIZE, before });
      for (const n of page.items) if (!items.has(n.id)) put(n);
      // The first page decides the cursor; a later first page (after a reconnect) must not
      // forget older pages the user already loaded.
      if (before || !loaded) nextCursor = page.nextCursor;
      loaded = true;
    } catch (err) {
      error.textContent = problemText(err);
      error.hidden = false;
    } finally {
      loadMore.disabled = false;
      render();
    }
  }

  /** Adds or replaces one item, in id order (ids compare as strings: newest first). */
  function put(n) {
    const existing = items.get(n.id);
    if (existing) {
      existing.n = n;
      update(existing);
      return;
    }
    const entry = { n, el: itemElement(n) };
    items.set(n.id, entry);
    update(entry);
    let after = null;
    for (const li of list.children) {
      if (li.dataset.id < n.id) {
        after = li;
        break;
      }
    }
    list.insertBefore(entry.el, after);
  }

  function itemElement(n) {
    const titleId = uid('note');
    const toggle = h('button', { type: 'button', class: 'button button--ghost button--small note__toggle' });
    toggle.addEventListener('click', () => (items.get(n.id)?.n.readAt ? markUnread(n.id) : markRead(n.id)));
    const meta = h('p', { class: 'note__meta' },
      timeElement(n.createdAt),
      n.sender ? h('span', { class: 'note__sender' }, 'from ', n.sender.name ? bdi(n.sender.name) : 'a former user') : h('span', { class: 'note__sender' }, 'from Warren'),
      n.type && n.type !== 'general' ? h('span', { class: 'type-pill' }, n.type) : null,
      h('span', { class: 'note__state' }));
    return h('li', { class: 'inbox-item', 'data-id': n.id },
      h('article', { class: 'note', 'aria-labelledby': titleId },
        h('span', { class: 'note__dot', 'aria-hidden': 'true' }),
        h('div', { class: 'note__main' },
          h('h2', { class: 'note__title', id: titleId }, bdi(n.title)),
          n.body ? h('p', { class: 'note__body' }, n.body) : null,
          meta,
          dataDetails(n.data)),
        toggle));
  }

  /** Read state and visibility of one item, in place. */
  function update(entry) {
    const unread = !entry.n.readAt;
    const li = entry.el;
    li.dataset.read = unread ? 'false' : 'true';
    li.classList.toggle('inbox-item--unread', unread);
    li.querySelector('.note__state').textContent = unread ? 'Unread' : 'Read';
    li.querySelector('.note__toggle').textContent = unread ? 'Mark as read' : 'Mark as unread';
    li.hidden = filter === 'unread' && !unread && !keep.has(entry.n.id);
  }

  function render() {
    for (const entry of items.values()) update(entry);
    const visible = [...items.values()].some((e) => !e.el.hidden);
    empty.hidden = !loaded || visible;
    empty.textContent = filter === 'unread' ? 'No unread notifications.' : 'No notifications yet.';
    loadMore.hidden = !nextCursor;
    markAll.disabled = unreadCount === 0 && ![...items.values()].some((e) => !e.n.readAt);
  }

  function setFilter(value) {
    filter = value;
    keep.clear();
    render();
  }

  async function setRead(id, readAt, call, failure) {
    const entry = items.get(id);
    if (!entry) return;
    const before = entry.n.readAt;
    entry.n = { ...entry.n, readAt };
    if (filter === 'unread') keep.add(id);
    render();
    try {
      await call(id);
      // Live, the socket's read frame brings the count; otherwise ask for it.
      if (!liveCount) setCount(await client.inbox.unreadCount());
    } catch (err) {
      entry.n = { ...entry.n, readAt: before };
      render();
      toasts.show({ title: failure, body: problemText(err) }, 'error');
    }
  }
  const markRead = (id) => setRead(id, new Date().toISOString(), (x) => client.inbox.markRead(x), 'Could not mark as read');
  const markUnread = (id) => setRead(id, null, (x) => client.inbox.markUnread(x), 'Could not mark as unread');

  markAll.addEventListener('click', async () => {
    markAll.disabled = true;
    try {
      await client.inbox.markAllRead();
      const now = new Date().toISOString();
      for (const entry of items.values()) if (!entry.n.readAt) entry.n = { ...entry.n, readAt: now };
      if (!liveCount) setCount(await client.inbox.unreadCount());
    } catch (err) {
      toasts.show({ title: 'Could not mark all as read', body: problemText(err) }, 'error');
    }
    render();
  });
  loadMore.addEventListener('click', () => load(nextCursor));

  let liveCount = false;
  function setCount(count) {
    unreadCount = count;
    onCount(count);
    render();
  }

  return {
    el,
    /** The socket is open: (re)load the first page; what came meanwhile is merged by id. */
    opened(first) {
      liveCount = true;
      if (first || !loaded) void load();
      else render();
    },
    closed() {
      liveCount = false;
    },
    notification(n) {
      const known = items.has(n.id);
      put(n);
      render();
      if (!known && !n.readAt) toasts.show({ title: n.title, body: n.body, meta: n.sender?.name ? ['from ', bdi(n.sender.name)] : undefined });
    },
    read(change) {
      const now = new Date().toISOString();
      for (const entry of items.values()) {
        if ((change.all || change.ids.includes(entry.n.id)) && !entry.n.readAt) entry.n = { ...entry.n, readAt: now };
      }
      render();
    },
    unread(change) {
      for (const id of change.ids) {
        const entry = items.get(id);
        if (entry) entry.n = { ...entry.n, readAt: null };
      }
      render();
    },
    count: setCount,
  };
}

/** `data` as a short list of key: value, folded away; nothing when it is empty. */
function dataDetails(data) {
  const entries = data && typeof data === 'object' ? Object.entries(data) : [];
  if (entries.length === 0) return null;
  const shown = entries.slice(0, MAX_DATA_ENTRIES);
  const list = h('dl', { class: 'note__data-list' },
    ...shown.map(([key, value]) => [h('dt', {}, bdi(key)), h('dd', {}, bdi(dataText(value)))]));
  const more = entries.length > shown.length ? h('p', { class: 'muted' }, `and ${entries.length - shown.length} more`) : null;
  return h('details', { class: 'note__data' }, h('summary', {}, `Details (${entries.length})`), list, more);
}

function dataText(value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_DATA_CHARS ? `${text.slice(0, MAX_DATA_CHARS)}…` : text;
}
