/**
 * Toasts: a short note for each new notification (and for errors of background actions).
 *
 * They live in their own row of the page grid, between the header and the scrolling content,
 * never floating over it: a toast pushes the content down for a few seconds instead of covering
 * a form's fields or buttons (portal.css, `.app`). Each toast is a status message (an error is
 * an alert) and can be dismissed; at most a few are shown, the newest last.
 */
import { bdi, h, icon } from './dom.js';

const TOAST_MS = 6000;
const MAX_TOASTS = 3;

export function createToasts() {
  const region = h('div', { class: 'toasts', id: 'toasts' });

  function show({ title, body, meta }, kind = 'info') {
    const dismiss = h('button', { type: 'button', class: 'toast__close', 'aria-label': `Dismiss: ${title}` }, icon('close', 16));
    const el = h('div', { class: `toast toast--${kind}`, role: kind === 'error' ? 'alert' : 'status' },
      h('div', { class: 'toast__text' },
        h('strong', { class: 'toast__title' }, bdi(title)),
        body ? h('span', { class: 'toast__body' }, bdi(body)) : null,
        meta ? h('span', { class: 'toast__meta' }, meta) : null),
      dismiss);
    let timer = setTimeout(remove, TOAST_MS);
    function remove() {
      clearTimeout(timer);
      el.remove();
    }
    dismiss.addEventListener('click', remove);
    // Someone reading it (hover or keyboard focus) keeps it until they leave.
    el.addEventListener('mouseenter', () => clearTimeout(timer));
    el.addEventListener('focusin', () => clearTimeout(timer));
    el.addEventListener('mouseleave', () => (timer = setTimeout(remove, TOAST_MS / 2)));
    region.append(el);
    while (region.childElementCount > MAX_TOASTS) region.firstElementChild.remove();
  }

  return { el: region, show, clear: () => region.replaceChildren() };
}
