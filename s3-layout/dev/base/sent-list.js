/**
 * "What I sent": the API lists no sends, so the portal keeps the sends made in this tab
 * (sessionStorage, per user, at most 50: id, title, when, to whom) and asks the server for each
 * one's status. It is gone when the tab closes or the user signs out (docs/decisions/0027).
 */
import { bdi, h } from './dom.js';
import { recipientsSummary, timeElement } from './format.js';
import { describeSend } from './send-status.js';

const MAX_KEPT = 50;
const STATUS_LOOKUPS = 20;

export function createSentList({ client, storageKey }) {
  const list = h('ul', { id: 'sent-list', class: 'sent-list' });
  const empty = h('p', { class: 'empty' }, 'Nothing sent from this tab yet.');
  const refresh = h('button', { type: 'button', class: 'button button--ghost button--small' }, 'Refresh statuses');
  const el = h('section', { id: 'sent', class: 'card', 'aria-labelledby': 'sent-title' },
    h('div', { class: 'card__head' }, h('h2', { id: 'sent-title' }, 'Sent from this tab'), refresh),
    h('p', { class: 'muted' }, 'Kept in this browser tab until you sign out; the counts come from the server.'),
    empty, list);

  const read = () => {
    try {
      const parsed = JSON.parse(sessionStorage.getItem(storageKey) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((e) => e && typeof e.id === 'string') : [];
    } catch {
      return [];
    }
  };
  const write = (entries) => {
    try {
      sessionStorage.setItem(storageKey, JSON.stringify(entries.slice(0, MAX_KEPT)));
    } catch {
      // Full or blocked: the list lasts as long as the page.
    }
  };
  let entries = read();
  /** id → status element */
  const statusOf = new Map();

  function render() {
    statusOf.clear();
    list.replaceChildren(...entries.map((e) => {
      const status = h('span', { class: 'sent__status', 'data-kind': 'pending' }, '…');
      statusOf.set(e.id, status);
      return h('li', { class: 'sent__item', 'data-id': e.id },
        h('span', { class: 'sent__title' }, bdi(e.title)),
        h('span', { class: 'sent__meta' }, timeElement(e.at), h('span', {}, 'to ', ...to(e))),
        status);
    }));
    empty.hidden = entries.length > 0;
    refresh.hidden = entries.length === 0;
  }

  /** Whom an entry went to: roles and names (an entry of an older portal: one text). */
  const to = (e) => (Array.isArray(e.roles) && Array.isArray(e.people) ? recipientsSummary(e.roles, e.people.map(String)) : [bdi(String(e.to ?? ''))]);

  async function lookUp(ids) {
    await Promise.all(ids.map(async (id) => {
      const result = await describeSend(client, id);
      const status = statusOf.get(id);
      if (!status) return;
      status.textContent = result.text;
      status.dataset.kind = result.kind;
    }));
  }

  refresh.addEventListener('click', () => lookUp(entries.slice(0, STATUS_LOOKUPS).map((e) => e.id)));
  render();

  return {
    el,
    add(entry) {
      entries = [entry, ...entries.filter((e) => e.id !== entry.id)].slice(0, MAX_KEPT);
      write(entries);
      render();
    },
    /** Shown: read the statuses of the newest sends. */
    shown() {
      entries = read();
      render();
      void lookUp(entries.slice(0, STATUS_LOOKUPS).map((e) => e.id));
    },
    /** A live status for one send (the send view follows the newest). */
    setStatus(id, result) {
      const status = statusOf.get(id);
      if (!status) return;
      status.textContent = result.text;
      status.dataset.kind = result.kind;
    },
    forget() {
      try {
        sessionStorage.removeItem(storageKey);
      } catch {
        // nothing kept
      }
    },
  };
}
