/**
 * The portal page shared by every Warren portal (admin, manager, employee; dev and qa): a login
 * form, then the user, the unread badge, the inbox with paging, read state, "mark all read",
 * live toasts, logout, and — where the portal allows it and the user holds notifications:send —
 * a form to send a notification.
 *
 * Every piece of data reaches the page as text (textContent, text nodes, setAttribute on plain
 * attributes); innerHTML is never used, so a notification titled "<img onerror=…>" shows as text.
 */
import { createWarrenClient, WarrenProblem } from './warren-client.js';

const PAGE_SIZE = 20;
const TOAST_MS = 6000;
const MAX_TOASTS = 4;
const ROLES = ['admin', 'manager', 'employee'];

/**
 * @param {HTMLElement} root
 * @param {{partition: string, portal: string, title: string, apiUrl: string, notificationUrl?: string,
 *          wsUrl: string, roles?: string[], features?: {send?: boolean}}} config
 */
export function startPortal(root, config) {
  // The refresh token survives a reload of this tab (sessionStorage, never localStorage); the
  // key names partition and portal because one bucket origin serves them all (README).
  const client = createWarrenClient({
    mainBackendUrl: config.apiUrl,
    notificationUrl: config.notificationUrl || config.apiUrl,
    webSocketUrl: config.wsUrl,
    storage: safeSessionStorage(),
    storageKey: `warren:${config.partition}:${config.portal}:refreshToken`,
  });
  const baseTitle = config.title || `Warren ${capitalise(config.portal)} — ${config.partition}`;
  document.title = baseTitle;
  document.body.dataset.partition = config.partition;
  document.body.dataset.portal = config.portal;

  /** The inbox: notifications by id, shown newest first (ids compare as strings). */
  const items = new Map();
  let nextCursor = null;
  let inboxLoaded = false;
  let connectionState = 'stopped';
  /** The signed-in user ({user, permissions}) and the badge's count. */
  let me = null;
  let unreadCount = 0;
  let everOpen = false;

  // ------------------------------------------------------------------ static frame
  const badge = h('span', { id: 'unread-badge', class: 'badge', 'aria-live': 'polite', title: 'Unread notifications' }, '0');
  const connection = h('span', { id: 'connection', class: 'connection', 'data-state': 'stopped' }, 'offline');
  const userName = h('span', { id: 'user-name', class: 'user-name' });
  const userRole = h('span', { id: 'user-role', class: 'role-pill' });
  const logoutButton = h('button', { id: 'logout', type: 'button', class: 'button button--ghost' }, 'Log out');
  const userBox = h('div', { class: 'userbox', hidden: true },
    bellIcon(), badge, connection, userName, userRole, logoutButton);
  const header = h('header', { class: 'topbar' },
    h('div', { class: 'brand' },
      h('span', { class: 'brand__mark', 'aria-hidden': 'true' }, 'W'),
      h('span', { class: 'brand__name' }, `Warren ${capitalise(config.portal)}`),
      h('span', { class: 'partition-pill', title: 'Partition' }, config.partition)),
    userBox);
  const main = h('main', { class: 'content' });
  const toasts = h('div', { class: 'toasts', 'aria-live': 'polite', 'aria-atomic': 'false' });
  root.replaceChildren(header, main, toasts);

  // ------------------------------------------------------------------ login view
  function showLogin(message) {
    userBox.hidden = true;
    items.clear();
    nextCursor = null;
    inboxLoaded = false;
    setBadge(0);
    const error = h('p', { id: 'login-error', class: 'form-error', role: 'alert', hidden: !message }, message ?? '');
    const email = h('input', { id: 'login-email', name: 'email', type: 'email', autocomplete: 'username', required: true, maxlength: '254' });
    const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: '1024' });
    const submit = h('button', { type: 'submit', class: 'button button--primary' }, 'Sign in');
    const form = h('form', { id: 'login-form', class: 'card login' },
      h('h1', {}, `Sign in to Warren ${capitalise(config.portal)}`),
      h('p', { class: 'muted' }, `${config.partition} partition`),
      field('Email', email),
      field('Password', password),
      error,
      submit);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.hidden = true;
      submit.disabled = true;
      submit.textContent = 'Signing in…';
      try {
        await client.login({ email: email.value.trim(), password: password.value });
        // the session change (client.onSession) renders the inbox
      } catch (err) {
        password.value = '';
        error.textContent = problemText(err);
        error.hidden = false;
        submit.disabled = false;
        submit.textContent = 'Sign in';
        password.focus();
      }
    });
    main.replaceChildren(form);
    email.focus();
  }

  // ------------------------------------------------------------------ signed-in view
  const list = h('ul', { id: 'inbox-list', class: 'inbox-list' });
  const empty = h('p', { id: 'inbox-empty', class: 'empty', hidden: true }, 'No notifications yet.');
  const inboxError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const loadMore = h('button', { id: 'load-more', type: 'button', class: 'button button--ghost', hidden: true }, 'Load older');
  const markAll = h('button', { id: 'mark-all-read', type: 'button', class: 'button button--ghost', disabled: true }, 'Mark all read');
  const roleHint = h('p', { class: 'notice', hidden: true });
  const inboxSection = h('section', { class: 'card inbox', 'aria-labelledby': 'inbox-title' },
    h('div', { class: 'card__head' },
      h('h2', { id: 'inbox-title' }, 'Inbox'),
      markAll),
    inboxError, empty, list, loadMore);

  function showInbox() {
    const { user } = me;
    userName.textContent = user.name || user.email;
    userName.title = user.email;
    userRole.textContent = user.role;
    userBox.hidden = false;
    const expected = config.roles ?? [];
    roleHint.hidden = expected.length === 0 || expected.includes(user.role);
    roleHint.textContent = `This is the ${capitalise(config.portal)} portal; you are signed in as ${user.role}.`;
    const canSend = config.features?.send === true && me.permissions.includes('notifications:send');
    main.replaceChildren(h('div', { class: canSend ? 'layout layout--two' : 'layout' },
      h('div', {}, roleHint, inboxSection),
      canSend ? sendForm() : null));
    renderList();
    setBadge(unreadCount);
    // Socket first, then the inbox (on the first `open`): whatever arrives in between comes on
    // the socket and is merged by id, so nothing falls between the page and the live stream.
    everOpen = false;
    client.live.subscribe(onNotification, { onRead, onState, onUnreadCount });
  }

  async function loadInbox(before) {
    inboxError.hidden = true;
    loadMore.disabled = true;
    try {
      const page = await client.inbox.list({ limit: PAGE_SIZE, before });
      for (const n of page.items) if (!items.has(n.id)) items.set(n.id, n);
      // The first page decides the cursor; a later first page (after a reconnect) must not
      // forget older pages the user already loaded.
      if (before || !inboxLoaded) nextCursor = page.nextCursor;
      inboxLoaded = true;
      renderList();
    } catch (err) {
      inboxError.textContent = problemText(err);
      inboxError.hidden = false;
    } finally {
      loadMore.disabled = false;
    }
  }

  function renderList() {
    const sorted = [...items.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    list.replaceChildren(...sorted.map(renderItem));
    empty.hidden = !inboxLoaded || sorted.length > 0;
    loadMore.hidden = !nextCursor;
    markAll.disabled = !sorted.some((n) => !n.readAt) && unreadCount === 0;
  }

  function renderItem(n) {
    const unread = !n.readAt;
    const created = new Date(n.createdAt);
    const open = h('button', {
      type: 'button',
      class: 'inbox-item__open',
      'aria-label': unread ? `${n.title} (unread, mark as read)` : `${n.title} (read)`,
      title: unread ? 'Mark as read' : 'Read',
    },
    h('span', { class: 'inbox-item__dot', 'aria-hidden': 'true' }),
    h('span', { class: 'inbox-item__text' },
      h('span', { class: 'inbox-item__title' }, n.title),
      n.body ? h('span', { class: 'inbox-item__body' }, n.body) : null,
      h('span', { class: 'inbox-item__meta' },
        h('time', { datetime: n.createdAt, title: n.createdAt }, isNaN(created) ? '' : dateFormat.format(created)),
        n.sender && n.sender.name ? h('span', { class: 'inbox-item__sender' }, `from ${n.sender.name}`) : null,
        n.type && n.type !== 'general' ? h('span', { class: 'type-pill' }, n.type) : null,
        h('span', { class: 'inbox-item__state' }, unread ? 'unread' : 'read'))));
    open.addEventListener('click', () => markRead(n.id));
    return h('li', { class: unread ? 'inbox-item inbox-item--unread' : 'inbox-item', 'data-id': n.id, 'data-read': unread ? 'false' : 'true' }, open);
  }

  async function markRead(id) {
    const n = items.get(id);
    if (!n || n.readAt) return;
    const before = n.readAt;
    n.readAt = new Date().toISOString(); // optimistic; the `read` frame brings the exact count
    renderList();
    try {
      await client.inbox.markRead(id);
      // Live, the socket's `read` frame brings the count; offline, ask for it.
      if (connectionState !== 'live') setBadge(await client.inbox.unreadCount());
    } catch (err) {
      n.readAt = before;
      renderList();
      toast({ title: 'Could not mark as read', body: problemText(err) }, 'error');
    }
  }

  markAll.addEventListener('click', async () => {
    markAll.disabled = true;
    try {
      await client.inbox.markAllRead();
      if (connectionState !== 'live') setBadge(await client.inbox.unreadCount());
      const now = new Date().toISOString();
      for (const n of items.values()) n.readAt ??= now;
      renderList();
    } catch (err) {
      toast({ title: 'Could not mark all as read', body: problemText(err) }, 'error');
      renderList();
    }
  });
  loadMore.addEventListener('click', () => loadInbox(nextCursor));

  // ------------------------------------------------------------------ send form
  function sendForm() {
    const title = h('input', { id: 'send-title', name: 'title', required: true, maxlength: '200' });
    const body = h('textarea', { id: 'send-body', name: 'body', rows: '3', maxlength: '4000' });
    const type = h('input', { id: 'send-type', name: 'type', placeholder: 'general', pattern: '[a-z0-9._\\-]{1,64}', maxlength: '64' });
    const userIds = h('input', { id: 'send-user-ids', name: 'userIds', placeholder: 'user ids, separated by commas' });
    const roleBoxes = ROLES.map((role) => h('input', { type: 'checkbox', name: 'roles', value: role, id: `send-role-${role}` }));
    const status = h('p', { id: 'send-status', class: 'form-status', role: 'status', hidden: true });
    const submit = h('button', { type: 'submit', class: 'button button--primary' }, 'Send');
    const form = h('form', { id: 'send-form', class: 'card send' },
      h('h2', {}, 'Send a notification'),
      h('fieldset', { class: 'roles' },
        h('legend', {}, 'To roles'),
        ...roleBoxes.map((box) => h('label', { class: 'check' }, box, ` ${box.value}`))),
      field('…and/or users', userIds),
      field('Title', title),
      field('Message', body),
      field('Type (optional)', type),
      status,
      submit);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const roles = roleBoxes.filter((b) => b.checked).map((b) => b.value);
      const ids = userIds.value.split(/[\s,;]+/).filter(Boolean);
      const recipients = {};
      if (roles.length) recipients.roles = roles;
      if (ids.length) recipients.userIds = ids;
      if (!roles.length && !ids.length) return showStatus(status, 'Choose at least one role or user.', 'error');
      submit.disabled = true;
      try {
        const { id } = await client.notifications.send({ recipients, title: title.value, body: body.value, type: type.value.trim() || undefined });
        showStatus(status, `Sent (id ${id}).`, 'ok');
        title.value = '';
        body.value = '';
      } catch (err) {
        const lines = err instanceof WarrenProblem && err.errors.length
          ? err.errors.map((e) => `${e.path || 'body'}: ${e.message}`)
          : [];
        showStatus(status, [problemText(err), ...lines].join('\n'), 'error');
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  function showStatus(el, text, kind) {
    el.textContent = text;
    el.dataset.kind = kind;
    el.hidden = false;
  }

  // ------------------------------------------------------------------ toasts, badge
  function toast(n, kind = 'info') {
    const el = h('div', { class: `toast toast--${kind}`, role: kind === 'error' ? 'alert' : 'status' },
      h('strong', { class: 'toast__title' }, n.title),
      n.body ? h('span', { class: 'toast__body' }, n.body) : null);
    const remove = () => el.remove();
    el.addEventListener('click', remove);
    setTimeout(remove, TOAST_MS);
    toasts.append(el);
    while (toasts.childElementCount > MAX_TOASTS) toasts.firstElementChild.remove();
  }

  function setBadge(count) {
    unreadCount = count;
    badge.textContent = String(count);
    badge.dataset.count = String(count);
    badge.classList.toggle('badge--zero', count === 0);
    document.title = count > 0 ? `(${count}) ${baseTitle}` : baseTitle;
  }

  // ------------------------------------------------------------------ client events
  client.onSession((session) => {
    if (session.state === 'signedIn') {
      const first = me === null;
      me = { user: session.user, permissions: session.permissions };
      if (first) showInbox();
      return;
    }
    me = null;
    toasts.replaceChildren();
    showLogin(session.state === 'ended' ? 'Your session has ended. Please sign in again.' : undefined);
  });

  function onNotification(n) {
    const known = items.has(n.id);
    items.set(n.id, n);
    renderList();
    if (!known && !n.readAt) toast(n);
  }

  function onRead(change) {
    const now = new Date().toISOString();
    if (change.all) for (const n of items.values()) n.readAt ??= now;
    else for (const id of change.ids) {
      const n = items.get(id);
      if (n) n.readAt ??= now;
    }
    renderList();
  }

  function onUnreadCount(count) {
    setBadge(count);
    renderList();
  }

  function onState(state, info) {
    connectionState = state === 'open' ? 'live' : state === 'reconnecting' ? 'retrying' : state === 'connecting' ? 'connecting' : 'stopped';
    connection.dataset.state = connectionState;
    connection.textContent = { live: 'live', retrying: 'reconnecting…', connecting: 'connecting…', stopped: 'offline' }[connectionState];
    connection.title = info.code ? `last close code ${info.code}` : '';
    if (state !== 'open') return;
    if (!everOpen) loadInbox();
    else renderList();
    everOpen = true;
  }

  logoutButton.addEventListener('click', async () => {
    logoutButton.disabled = true;
    await client.logout();
    logoutButton.disabled = false;
  });

  // ------------------------------------------------------------------ start
  main.replaceChildren(h('p', { class: 'muted loading' }, 'Loading…'));
  client.restore().then(
    (restored) => {
      if (!restored) showLogin();
    },
    () => showLogin('The server cannot be reached. Please try again.'),
  );
  return client;
}

// -------------------------------------------------------------------- helpers

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** The message to show for a failed call: the problem's `detail`, else its title. */
function problemText(err) {
  if (err instanceof WarrenProblem) {
    const text = err.detail || err.title || `Request failed (${err.status}).`;
    return err.retryAfter ? `${text} Try again in ${formatSeconds(err.retryAfter)}.` : text;
  }
  return 'Something went wrong. Please try again.';
}

function safeSessionStorage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // blocked by the browser's privacy settings
  }
}

function formatSeconds(s) {
  return s >= 120 ? `${Math.ceil(s / 60)} minutes` : `${s} seconds`;
}

/** A bell drawn as SVG: no emoji font or icon font is needed on the user's machine. */
function bellIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  for (const [k, v] of Object.entries({ class: 'bell', viewBox: '0 0 24 24', width: '20', height: '20', 'aria-hidden': 'true' })) svg.setAttribute(k, v);
  for (const d of ['M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9', 'M13.73 21a2 2 0 0 1-3.46 0']) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

function field(label, input) {
  return h('label', { class: 'field' }, h('span', { class: 'field__label' }, label), input);
}

function capitalise(s) {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : '';
}

/**
 * Creates an element. Attribute values go through setAttribute and children through append(),
 * which makes text nodes of strings: data can never become markup.
 */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}
