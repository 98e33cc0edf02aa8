/**
 * Picking people by name or email (`GET /users?q=`), never by raw id: an ARIA 1.2 combobox with
 * a listbox of matches (arrow keys, Enter, Escape, or the mouse), and the chosen people as a
 * list of removable chips. Sending picks several; `single` keeps one (choosing another replaces
 * it), for a filter such as Sign-in activity's.
 */
import { bdi, field, h, icon, uid } from './dom.js';
import { plural, problemText } from './format.js';

const SEARCH_DELAY_MS = 200;
const MATCHES = 8;

export function createRecipientPicker({
  client,
  onChange,
  id = 'send-people',
  label = 'People',
  hint = 'Search by name or email; pick with the arrow keys and Enter.',
  single = false,
}) {
  const listId = uid('people-list');
  const input = h('input', {
    id,
    type: 'text',
    role: 'combobox',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': listId,
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'Type a name or an email',
    maxlength: '100',
  });
  const listbox = h('ul', { id: listId, class: 'picker__list', role: 'listbox', 'aria-label': 'Matching people', hidden: true });
  // Said to screen readers; shown only when it matters to everyone (nobody found, an error).
  const status = h('p', { class: 'picker__status', role: 'status', 'data-visible': 'false' });
  const say = (text, visible = false) => {
    status.replaceChildren(...[text].flat());
    status.dataset.visible = String(visible);
  };
  const chips = h('ul', { class: 'chips', 'aria-label': single ? `Chosen: ${label}` : 'Chosen people' });
  /** id → user */
  const chosen = new Map();
  let matches = [];
  let active = -1;
  let timer;
  let asked = 0;

  function open(show) {
    listbox.hidden = !show;
    input.setAttribute('aria-expanded', show ? 'true' : 'false');
    if (!show) setActive(-1);
  }

  function setActive(i) {
    active = i;
    [...listbox.children].forEach((li, j) => li.setAttribute('aria-selected', j === i ? 'true' : 'false'));
    const li = listbox.children[i];
    if (li) {
      input.setAttribute('aria-activedescendant', li.id);
      li.scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  }

  async function search() {
    const q = input.value.trim();
    const ask = ++asked;
    if (!q) {
      matches = [];
      listbox.replaceChildren();
      say('');
      return open(false);
    }
    try {
      const page = await client.users.search({ q, limit: MATCHES });
      if (ask !== asked) return; // a newer search is on its way
      matches = page.items.filter((u) => !chosen.has(u.id));
      listbox.replaceChildren(...matches.map((u, i) =>
        h('li', { id: `${listId}-${i}`, role: 'option', class: 'picker__option', 'aria-selected': 'false' },
          h('span', { class: 'picker__name' }, bdi(u.name || u.email)),
          h('span', { class: 'picker__email' }, bdi(u.email)),
          h('span', { class: 'role-pill' }, u.role))));
      [...listbox.children].forEach((li, i) => {
        // mousedown, not click: the input keeps its focus.
        li.addEventListener('mousedown', (event) => {
          event.preventDefault();
          choose(matches[i]);
        });
      });
      if (matches.length) say(`${plural(matches.length, 'person', 'people')} found`);
      else say(page.items.length ? 'Everyone who matches is chosen already.' : 'Nobody matches.', true);
      open(matches.length > 0);
    } catch (err) {
      if (ask !== asked) return;
      say(problemText(err), true);
      open(false);
    }
  }

  function choose(user) {
    if (!user) return;
    if (single) chosen.clear();
    chosen.set(user.id, user);
    input.value = '';
    matches = [];
    listbox.replaceChildren();
    open(false);
    say([bdi(user.name || user.email), ' added.']);
    renderChips();
    input.focus();
  }

  function remove(id) {
    const user = chosen.get(id);
    chosen.delete(id);
    renderChips();
    say(user ? [bdi(user.name || user.email), ' removed.'] : '');
    input.focus();
  }

  function renderChips() {
    chips.replaceChildren(...[...chosen.values()].map((u) => {
      const label = u.name || u.email;
      const button = h('button', { type: 'button', class: 'chip__remove', 'aria-label': `Remove ${label}` }, icon('close', 14));
      button.addEventListener('click', () => remove(u.id));
      return h('li', { class: 'chip', title: u.email }, h('span', {}, bdi(label)), button);
    }));
    chips.hidden = chosen.size === 0;
    onChange();
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, SEARCH_DELAY_MS);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' && matches.length) {
      event.preventDefault();
      open(true);
      setActive((active + 1) % matches.length);
    } else if (event.key === 'ArrowUp' && matches.length) {
      event.preventDefault();
      open(true);
      setActive((active - 1 + matches.length) % matches.length);
    } else if (event.key === 'Enter' && !listbox.hidden) {
      // Enter picks the highlighted match (or the only one) instead of submitting the form.
      event.preventDefault();
      choose(matches[active >= 0 ? active : 0]);
    } else if (event.key === 'Escape' && !listbox.hidden) {
      event.preventDefault();
      open(false);
    }
  });
  input.addEventListener('blur', () => open(false));
  chips.hidden = true;

  return {
    el: h('div', { class: 'picker' }, field(label, input, hint), listbox, status, chips),
    chosen: () => [...chosen.values()],
    clear() {
      chosen.clear();
      renderChips();
      say('');
    },
  };
}
