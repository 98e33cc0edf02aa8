/**
 * The portal shared by every Warren portal (admin, manager, employee; dev and qa): the frame
 * (header with the live badge and the connection, the sections, the connection banner, the
 * toasts), the routes, and the session. The screens are modules of their own:
 *
 *   auth-views.js   sign in, create an account (emailed code), reset a password
 *   inbox-view.js   the inbox                  send-view.js   sending, its status, what was sent
 *   users-view.js   users and roles (admins)   account-view.js  sessions, log out everywhere
 *   activity-view.js  sign-in activity, the audit log (admins)
 *
 * Routes are hashes (#/inbox, #/send, #/users, #/activity, #/account; signed out: #/,
 * #/register, #/forgot), so a reload keeps the screen and the back button works.
 */
import { createAccountView } from './account-view.js';
import { createActivityView } from './activity-view.js';
import { authView } from './auth-views.js';
import { createConnection } from './connection.js';
import { capitalise, h, icon } from './dom.js';
import { problemText, refreshTimes, unreadLabel } from './format.js';
import { createInbox } from './inbox-view.js';
import { createSendView } from './send-view.js';
import { createToasts } from './toasts.js';
import { createUsersView } from './users-view.js';
import { createWarrenClient } from './warren-client.js';

const TIME_REFRESH_MS = 30_000;

/**
 * @param {HTMLElement} root
 * @param {{partition: string, portal: string, title: string, apiUrl: string, notificationUrl?: string,
 *          wsUrl: string, roles?: string[], features?: {send?: boolean, users?: boolean, audit?: boolean}}} config
 */
export function startPortal(root, config) {
  const prefix = `warren:${config.partition}:${config.portal}`;
  // The refresh token survives a reload of this tab (sessionStorage, never localStorage); the
  // key names partition and portal because one bucket origin serves them all (README). Tabs
  // holding the same session coordinate their refreshes (the client's crossTab).
  const client = createWarrenClient({
    mainBackendUrl: config.apiUrl,
    notificationUrl: config.notificationUrl || config.apiUrl,
    webSocketUrl: config.wsUrl,
    storage: safeSessionStorage(),
    storageKey: `${prefix}:refreshToken`,
  });
  const portalName = `Warren ${capitalise(config.portal)}`;
  const baseTitle = config.title || `${portalName} — ${config.partition}`;
  document.title = baseTitle;
  document.body.dataset.partition = config.partition;
  document.body.dataset.portal = config.portal;

  // ------------------------------------------------------------------ the frame
  const toasts = createToasts();
  const connection = createConnection();
  const badgeCount = h('span', { class: 'badge badge--zero' }, '0');
  const badge = h('a', { id: 'unread-badge', class: 'badge-link', href: '#/inbox', 'data-count': '0', 'aria-label': unreadLabel(0), title: unreadLabel(0) }, icon('bell'), badgeCount);
  const userName = h('span', { id: 'user-name', class: 'user-name' });
  const userRole = h('span', { id: 'user-role', class: 'role-pill' });
  const logoutButton = h('button', { id: 'logout', type: 'button', class: 'button button--ghost button--small' }, 'Log out');
  const tools = h('div', { class: 'topbar__tools', hidden: true }, connection.indicator, badge, h('span', { class: 'userbox' }, userName, userRole), logoutButton);
  const header = h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: '#/' },
      h('span', { class: 'brand__mark', 'aria-hidden': 'true' }, 'W'),
      h('span', { class: 'brand__name' }, h('span', { class: 'brand__long' }, 'Warren '), capitalise(config.portal)),
      h('span', { class: 'partition-pill', title: 'Partition' }, config.partition)),
    tools);
  const nav = h('nav', { class: 'sections', 'aria-label': 'Sections', hidden: true });
  const main = h('main', { id: 'main', class: 'content', tabindex: '-1' });
  root.replaceChildren(h('div', { class: 'app' }, header, nav, connection.banner, toasts.el, main));
  setInterval(() => refreshTimes(main), TIME_REFRESH_MS);

  // ------------------------------------------------------------------ signed in
  /** The signed-in state: who, and the screens made for them. Null when signed out. */
  let signedIn = null;

  function signIn(session) {
    const me = { user: session.user, permissions: session.permissions };
    userName.textContent = me.user.name || me.user.email;
    userName.title = me.user.email;
    userRole.textContent = me.user.role;
    tools.hidden = false;
    const canSend = config.features?.send === true && me.permissions.includes('notifications:send');
    const canAdmin = config.features?.users === true && me.permissions.includes('users:write');
    const canAudit = config.features?.audit === true && me.permissions.includes('audit:read');
    const inbox = createInbox({ client, toasts, onCount: setBadge });
    const views = {
      inbox: { label: 'Inbox', el: withRoleHint(me, inbox.el), shown: () => undefined },
      ...(canSend ? { send: { label: 'Send', ...createSendView({ client, me }) } } : {}),
      ...(canAdmin ? { users: { label: 'Users', ...createUsersView({ client, me, onOwnRoleChanged: () => client.refresh().catch(() => undefined) }) } } : {}),
      ...(canAudit ? { activity: { label: 'Activity', ...createActivityView({ client }) } } : {}),
      account: { label: 'Account', ...createAccountView({ client, me }) },
    };
    nav.replaceChildren(...Object.entries(views).map(([route, v]) => h('a', { href: `#/${route}`, 'data-route': route }, v.label)));
    nav.hidden = false;
    // Socket first, then the inbox (on the first `open`): whatever arrives in between comes on
    // the socket and is merged by id, so nothing falls between the page and the live stream.
    let opened = false;
    // A subscription being closed (signing out) still reports its last states: not to this page.
    const live = { alive: true };
    const subscription = client.live.subscribe((n) => inbox.notification(n), {
      onRead: (c) => inbox.read(c),
      onUnread: (c) => inbox.unread(c),
      onUnreadCount: (n) => inbox.count(n),
      onState: (state, info) => {
        if (!live.alive) return;
        connection.set(state, info);
        if (state === 'open') {
          inbox.opened(!opened);
          opened = true;
        } else inbox.closed();
      },
    });
    signedIn = { me, views, subscription, live, key: identity(session) };
    // Signed in from a sign-in screen (or an unknown route): to the inbox, which the hash then says.
    if (!views[routeOf(location.hash)]) history.replaceState(null, '', '#/inbox');
    show(routeOf(location.hash), false);
  }

  /** Closes what the signed-in screens opened. */
  function teardown() {
    if (!signedIn) return;
    signedIn.live.alive = false;
    signedIn.subscription.close();
    signedIn = null;
  }

  function signOut(message) {
    teardown();
    toasts.clear();
    connection.reset();
    setBadge(0);
    tools.hidden = true;
    nav.hidden = true;
    nav.replaceChildren();
    history.replaceState(null, '', '#/');
    showAuth('login', message ? { error: message } : {});
  }

  /** A user on another role's portal may stay, and is told which portal is theirs. */
  function withRoleHint(me, el) {
    const expected = config.roles ?? [];
    if (expected.length === 0 || expected.includes(me.user.role)) return el;
    const folder = config.partition === 'qa' ? `${me.user.role}_QA` : me.user.role;
    return h('div', { class: 'stack' },
      h('p', { class: 'notice', id: 'role-hint' },
        `This is the ${capitalise(config.portal)} portal; you are signed in as ${me.user.role}. `,
        h('a', { href: `../${folder}/` }, `Open the ${capitalise(me.user.role)} portal`)),
      el);
  }

  // ------------------------------------------------------------------ routes
  function routeOf(hash) {
    return hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  }

  function show(route, focus) {
    if (!signedIn) return showAuth(route, {});
    const name = signedIn.views[route] ? route : 'inbox';
    // A screen this user does not have (an employee's #/users): the hash says what is shown instead.
    if (name !== route) history.replaceState(null, '', `#/${name}`);
    const view = signedIn.views[name];
    for (const link of nav.children) {
      if (link.dataset.route === name) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    main.replaceChildren(view.el);
    main.scrollTop = 0;
    view.shown();
    refreshTimes(main);
    if (focus) main.querySelector('h1')?.focus();
  }

  function showAuth(route, ctx) {
    const name = route === 'register' || route === 'forgot' ? route : 'login';
    main.replaceChildren(authView(name, { client, config, go: goAuth, ...ctx }));
  }

  /** From one signed-out screen to another, with what it should say. */
  function goAuth(route, ctx = {}) {
    const hash = route === 'login' ? '#/' : `#/${route}`;
    if (location.hash !== hash) history.pushState(null, '', hash);
    showAuth(route, ctx);
  }

  addEventListener('hashchange', () => {
    const route = routeOf(location.hash);
    if (signedIn) show(route, true);
    else showAuth(route, {});
  });

  // ------------------------------------------------------------------ badge
  function setBadge(count) {
    const label = unreadLabel(count);
    badgeCount.textContent = String(count);
    badgeCount.classList.toggle('badge--zero', count === 0);
    badge.dataset.count = String(count);
    badge.setAttribute('aria-label', label);
    badge.title = label;
    document.title = count > 0 ? `(${count}) ${baseTitle}` : baseTitle;
  }

  // ------------------------------------------------------------------ session
  client.onSession((session) => {
    if (session.state === 'signedIn') {
      // A refresh that changed the role or permissions (a promotion): rebuild the screens.
      if (signedIn && signedIn.key === identity(session)) return;
      teardown();
      signIn(session);
      return;
    }
    const message = session.state !== 'ended' ? undefined
      : session.code === 'session_ended_elsewhere' ? 'You logged out in another tab.'
      : 'Your session has ended: it was signed out elsewhere, or it expired. Please sign in again.';
    signOut(message);
  });

  logoutButton.addEventListener('click', async () => {
    logoutButton.disabled = true;
    await client.logout();
    logoutButton.disabled = false;
  });

  // ------------------------------------------------------------------ start
  function restore() {
    main.replaceChildren(h('p', { class: 'muted loading' }, 'Loading…'));
    client.restore().then(
      (restored) => {
        if (!restored) showAuth(routeOf(location.hash), {});
      },
      (err) => showAuth('login', { error: problemText(err), retry: restore }),
    );
  }
  restore();
  return client;
}

/** What decides the screens: user, role and permissions. */
function identity(session) {
  return JSON.stringify([session.user.id, session.user.role, session.permissions]);
}

function safeSessionStorage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // blocked by the browser's privacy settings
  }
}
