/**
 * The account: who is signed in, the user's sessions (device, address, when), ending one of
 * them, and logging out everywhere. Ending the current session (or all) signs out here too.
 */
import { confirmDialog } from './dialog.js';
import { bdi, h, statusLine } from './dom.js';
import { describeDevice, problemText, timeElement } from './format.js';

export function createAccountView({ client, me }) {
  const status = statusLine('sessions-status');
  const list = h('ul', { id: 'sessions-list', class: 'sessions' });
  const everywhere = h('button', { id: 'logout-everywhere', type: 'button', class: 'button button--danger' }, 'Log out everywhere');
  const el = h('div', { id: 'account', class: 'account-page' },
    h('section', { class: 'card', 'aria-labelledby': 'account-title' },
      h('h1', { id: 'account-title', tabindex: '-1' }, 'Account'),
      h('dl', { class: 'profile' },
        h('dt', {}, 'Name'), h('dd', {}, bdi(me.user.name)),
        h('dt', {}, 'Email'), h('dd', {}, bdi(me.user.email)),
        h('dt', {}, 'Role'), h('dd', {}, me.user.role))),
    h('section', { class: 'card', 'aria-labelledby': 'sessions-title' },
      h('h2', { id: 'sessions-title' }, 'Your sessions'),
      h('p', { class: 'muted' }, 'Every browser or device signed in to your account. End any you do not recognise.'),
      status.el, list,
      h('div', { class: 'card__foot' }, everywhere)));

  async function load() {
    try {
      const sessions = await client.sessions.list();
      sessions.sort((a, b) => Number(b.current) - Number(a.current) || (a.lastUsedAt < b.lastUsedAt ? 1 : -1));
      list.replaceChildren(...sessions.map(item));
    } catch (err) {
      status.show(problemText(err), 'error');
    }
  }

  function item(s) {
    const device = describeDevice(s.userAgent);
    const end = h('button', { type: 'button', class: 'button button--ghost button--small' }, s.current ? 'Log out' : 'End session');
    end.addEventListener('click', async () => {
      end.disabled = true;
      try {
        await client.sessions.revoke(s.id);
        if (!s.current) {
          status.show(`The session on ${device} has ended.`, 'ok');
          await load();
        }
      } catch (err) {
        end.disabled = false;
        status.show(problemText(err), 'error');
      }
    });
    return h('li', { class: 'session', 'data-current': s.current ? 'true' : 'false' },
      h('div', { class: 'session__main' },
        h('span', { class: 'session__device' }, device, s.current ? h('span', { class: 'role-pill' }, 'this browser') : null),
        h('span', { class: 'session__meta' },
          s.ip ? h('span', {}, s.ip) : null,
          h('span', {}, 'signed in ', timeElement(s.createdAt)),
          h('span', {}, 'active ', timeElement(s.lastUsedAt)))),
      end);
  }

  everywhere.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Log out everywhere?',
      text: 'Every session of your account ends, this one too: each browser and device must sign in again.',
      confirm: 'Log out everywhere',
      danger: true,
    });
    if (!ok) return;
    everywhere.disabled = true;
    try {
      await client.sessions.logoutAll();
    } catch (err) {
      everywhere.disabled = false;
      status.show(problemText(err), 'error');
    }
  });

  return { el, shown: load };
}
