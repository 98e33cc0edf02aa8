/**
 * Sending (admins and managers, permission notifications:send): to roles and/or people picked by
 * name or email, with a live preview of what recipients will see; after a send, its status
 * (delivered to, read so far) instead of a bare id, and the list of what the user sent (sent-list.js).
 *
 * A send that failed without an answer (offline, timeout) is retried with the same
 * Idempotency-Key while the form is unchanged, so it can never arrive twice.
 */
import { bdi, field, h, statusLine } from './dom.js';
import { fieldErrors, problemText, recipientsSummary } from './format.js';
import { createRecipientPicker } from './recipient-picker.js';
import { createSentList } from './sent-list.js';
import { followSend } from './send-status.js';

const ROLES = [
  ['admin', 'Admins'],
  ['manager', 'Managers'],
  ['employee', 'Employees'],
];
const LABELS = { title: 'Title', body: 'Message', type: 'Type', recipients: 'Recipients' };

export function createSendView({ client, me }) {
  const sent = createSentList({ client });
  const title = h('input', { id: 'send-title', name: 'title', required: true, maxlength: '200', autocomplete: 'off' });
  const body = h('textarea', { id: 'send-body', name: 'body', rows: '4', maxlength: '4000' });
  const type = h('input', { id: 'send-type', name: 'type', placeholder: 'general', pattern: '[a-z0-9._\\-]{1,64}', maxlength: '64', autocomplete: 'off' });
  const roleBoxes = ROLES.map(([value, label]) => {
    const box = h('input', { type: 'checkbox', name: 'roles', value, id: `send-role-${value}` });
    return { box, label: h('label', { class: 'check', for: box.id }, box, ` ${label}`) };
  });
  const picker = createRecipientPicker({ client, onChange: updatePreview });
  const status = statusLine('send-status');
  const submit = h('button', { type: 'submit', class: 'button button--primary' }, 'Send');
  const form = h('form', { id: 'send-form', 'aria-labelledby': 'send-title-heading' },
    h('fieldset', { class: 'roles' }, h('legend', {}, 'Everyone who is'), ...roleBoxes.map((r) => r.label)),
    picker.el,
    field('Title', title),
    field('Message', body),
    field('Type (optional)', type, 'A short label such as deploy or hr.'),
    status.el,
    submit);

  // The preview: what a recipient's inbox will show.
  const pTitle = h('span', { class: 'note__title' });
  const pBody = h('span', { class: 'note__body' });
  const pType = h('span', { class: 'type-pill' });
  const pTo = h('p', { class: 'preview__to' });
  const preview = h('section', { id: 'send-preview', class: 'card preview', 'aria-labelledby': 'preview-title' },
    h('h2', { id: 'preview-title' }, 'Preview'),
    pTo,
    h('div', { class: 'note note--preview' },
      h('span', { class: 'note__dot', 'aria-hidden': 'true' }),
      h('div', { class: 'note__main' }, pTitle, pBody,
        h('p', { class: 'note__meta' }, h('span', {}, 'just now'), h('span', {}, 'from ', bdi(me.user.name || me.user.email)), pType))));
  const result = h('div', { id: 'send-result', class: 'send-result', role: 'status', hidden: true });

  function updatePreview() {
    const roles = roleBoxes.filter((r) => r.box.checked).map((r) => r.box.value);
    pTo.replaceChildren('To ', ...recipientsSummary(roles, picker.chosen()));
    pTitle.replaceChildren(title.value ? bdi(title.value) : 'Your title');
    pTitle.classList.toggle('placeholder', !title.value);
    pBody.replaceChildren(bdi(body.value));
    pBody.hidden = !body.value;
    pType.textContent = type.value.trim();
    pType.hidden = !type.value.trim() || type.value.trim() === 'general';
  }
  for (const input of [title, body, type, ...roleBoxes.map((r) => r.box)]) input.addEventListener('input', updatePreview);
  updatePreview();

  /** The last attempt that got no answer: its body and key, reused for an unchanged retry. */
  let unanswered = null;

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.clear();
    const roles = roleBoxes.filter((r) => r.box.checked).map((r) => r.box.value);
    const people = picker.chosen();
    if (!roles.length && !people.length) return status.show('Choose at least one role or person.', 'error');
    const recipients = {};
    if (roles.length) recipients.roles = roles;
    if (people.length) recipients.userIds = people.map((p) => p.id);
    const payload = { recipients, title: title.value, body: body.value, type: type.value.trim() || undefined };
    const fingerprint = JSON.stringify(payload);
    const idempotencyKey = unanswered?.fingerprint === fingerprint ? unanswered.key : undefined;
    submit.disabled = true;
    submit.textContent = 'Sending…';
    try {
      const { id } = await client.notifications.send(payload, { idempotencyKey });
      unanswered = null;
      const names = people.map((p) => p.name || p.email);
      sent.add({ id, title: payload.title, roles, people: names, at: new Date().toISOString() });
      showResult(id, payload.title, recipientsSummary(roles, names));
      title.value = '';
      body.value = '';
      updatePreview();
      title.focus();
    } catch (err) {
      unanswered = err?.status === 0 && err.idempotencyKey ? { fingerprint, key: err.idempotencyKey } : null;
      const retry = unanswered ? ['Sending again is safe: it will not arrive twice.'] : [];
      status.show([problemText(err), ...fieldErrors(err, LABELS), ...retry].join('\n'), 'error');
    } finally {
      submit.disabled = false;
      submit.textContent = 'Send';
    }
  });

  function showResult(id, sentTitle, to) {
    const line = h('span', { id: 'send-delivery', class: 'send-result__status', 'data-kind': 'pending' }, 'Delivering…');
    result.replaceChildren(h('strong', {}, 'Sent “', bdi(sentTitle), '”'), h('span', {}, ' to ', to, '.'), h('br'), line);
    result.hidden = false;
    followSend(client, id, (r) => {
      line.textContent = r.text;
      line.dataset.kind = r.kind;
      sent.setStatus(id, r);
    }, () => line.isConnected);
  }

  const el = h('div', { id: 'send', class: 'send-page' },
    h('section', { class: 'card send', 'aria-labelledby': 'send-title-heading' },
      h('h1', { id: 'send-title-heading', tabindex: '-1' }, 'Send a notification'),
      form),
    h('div', { class: 'send-side' }, result, preview),
    sent.el);

  return {
    el,
    shown: () => sent.shown(),
  };
}
