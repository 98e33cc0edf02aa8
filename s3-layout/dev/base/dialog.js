/**
 * A confirmation as a modal <dialog>: focus moves into it, Escape cancels, and focus returns to
 * what had it. Resolves true only for the confirming button.
 */
import { h } from './dom.js';

export function confirmDialog({ title, text, confirm, danger = false }) {
  return new Promise((resolve) => {
    const back = document.activeElement;
    const yes = h('button', { type: 'button', class: `button ${danger ? 'button--danger' : 'button--primary'}` }, confirm);
    const no = h('button', { type: 'button', class: 'button button--ghost' }, 'Cancel');
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title', 'aria-describedby': 'dialog-text' },
      h('h2', { id: 'dialog-title' }, title),
      h('p', { id: 'dialog-text' }, text),
      h('div', { class: 'dialog__actions' }, no, yes));
    let answer = false;
    const close = (value) => {
      answer = value;
      dialog.close();
    };
    yes.addEventListener('click', () => close(true));
    no.addEventListener('click', () => close(false));
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (back instanceof HTMLElement && back.isConnected) back.focus();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}
