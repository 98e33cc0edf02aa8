/**
 * Sign-in activity (admins, permission audit:read): the audit log of `GET /audit-events`, newest
 * first — sign-ins, failures, lockouts, sessions, account changes — filtered by kind and by a
 * person picked by name or email (never a raw id), with when (relative, and exact to the
 * second), the address and the device, and "Show older" to page back. Every read is recorded by
 * the server as "Activity viewed" (decision 0031).
 *
 * Everything the server sends is attacker-chosen at its origin (a user agent is any header, a
 * name is what someone registered with): it is written as text in <bdi> elements, never markup.
 */
import { bdi, h, srOnly, statusLine } from './dom.js';
import { absoluteTime, describeDevice, problemText, timeElement } from './format.js';
import { createRecipientPicker } from './recipient-picker.js';

const PAGE = 50;
/** Characters of a user agent shown in the row; the whole one (as the API cut it) is its title. */
const USER_AGENT_SHOWN = 60;

/**
 * The kinds in the filter: each one or more events of the API. The first, the default, leaves out
 * the views of this list: each look adds one, and they would push everything else down. They are
 * one choice away, and in "Everything" (with any event a later release adds).
 */
const SIGN_IN_AND_ACCOUNT = [
  'login_succeeded', 'login_failed', 'account_locked', 'login_refused_locked', 'login_throttled', 'login_failures_alerted',
  'logout', 'logout_all', 'session_revoked', 'refresh_reused',
  'registration_requested', 'registration_existing_email', 'email_verified', 'password_reset_requested', 'password_changed', 'role_changed',
];
const KINDS = [
  ['activity', 'Sign-ins and account events', SIGN_IN_AND_ACCOUNT],
  ['signins', 'Sign-ins', ['login_succeeded']],
  ['failures', 'Failed sign-ins', ['login_failed', 'login_throttled', 'login_refused_locked']],
  ['locks', 'Lockouts and alerts', ['account_locked', 'login_refused_locked', 'login_failures_alerted']],
  ['sessions', 'Sign-outs and ended sessions', ['logout', 'logout_all', 'session_revoked', 'refresh_reused']],
  ['account', 'Registrations, passwords and roles', ['registration_requested', 'registration_existing_email', 'email_verified', 'password_reset_requested', 'password_changed', 'role_changed']],
  ['reads', 'Views of this list', ['audit_read']],
  ['all', 'Everything', null],
];

/** What each event is called, and its colour (data-tone). An event this page does not know shows by its name. */
const EVENTS = {
  login_succeeded: ['Signed in', 'ok'],
  login_failed: ['Sign-in failed', 'bad'],
  account_locked: ['Locked out', 'bad'],
  login_refused_locked: ['Refused: locked out', 'bad'],
  login_throttled: ['Refused: too many tries', 'bad'],
  login_failures_alerted: ['Owner emailed about failures', 'warn'],
  logout: ['Signed out', 'plain'],
  logout_all: ['Signed out everywhere', 'plain'],
  session_revoked: ['Session ended', 'plain'],
  refresh_reused: ['Stolen token refused, session ended', 'bad'],
  registration_requested: ['Registration started', 'plain'],
  registration_existing_email: ['Registration with a taken email', 'warn'],
  email_verified: ['Email verified', 'ok'],
  password_reset_requested: ['Password reset asked', 'warn'],
  password_changed: ['Password changed', 'warn'],
  role_changed: ['Role changed', 'warn'],
  audit_read: ['Activity viewed', 'plain'],
};

export function createActivityView({ client }) {
  const kind = h('select', { id: 'activity-kind' }, ...KINDS.map(([value, label]) => h('option', { value }, label)));
  const picker = createRecipientPicker({
    client,
    onChange: () => load(false),
    id: 'activity-person',
    label: 'Person',
    hint: 'Search by name or email; leave empty for everyone.',
    single: true,
  });
  const status = statusLine('activity-status');
  const rows = h('tbody');
  const table = h('table', { class: 'audit-table', id: 'activity-table' },
    h('caption', { class: 'sr-only' }, 'Sign-in activity, newest first'),
    h('thead', {}, h('tr', {}, ...['Event', 'When', 'Person', 'Address', 'Device'].map((c) => h('th', { scope: 'col' }, c)))),
    rows);
  const more = h('button', { id: 'activity-more', type: 'button', class: 'button button--ghost', hidden: true }, 'Show older');
  const empty = h('p', { class: 'empty', hidden: true }, 'Nothing recorded for this choice.');
  const el = h('section', { id: 'activity', class: 'card activity', 'aria-labelledby': 'activity-title' },
    h('h1', { id: 'activity-title', tabindex: '-1' }, 'Sign-in activity'),
    h('p', { class: 'muted' }, 'Sign-ins, failures, lockouts and sessions of every account, newest first. Looking at this list is recorded too.'),
    h('div', { class: 'activity__filters' },
      h('div', { class: 'field' }, h('label', { for: kind.id, class: 'field__label' }, 'Events'), kind),
      picker.el),
    status.el, table, empty,
    h('div', { class: 'card__foot card__foot--center' }, more));

  let cursor = null;
  let asked = 0;

  async function load(append) {
    const ask = ++asked;
    more.disabled = true;
    if (!append) status.clear();
    const events = KINDS.find(([value]) => value === kind.value)?.[2] ?? null;
    const person = picker.chosen()[0];
    try {
      const page = await client.auditEvents({
        ...(person ? { userId: person.id } : {}),
        ...(events ? { event: events } : {}),
        limit: PAGE,
        ...(append && cursor ? { before: cursor } : {}),
      });
      if (ask !== asked) return; // a newer filter is on its way
      cursor = page.nextCursor;
      const made = page.items.map(row);
      if (append) rows.append(...made);
      else rows.replaceChildren(...made);
      empty.hidden = rows.childElementCount > 0;
      table.hidden = rows.childElementCount === 0;
      more.hidden = !cursor;
    } catch (err) {
      if (ask === asked) status.show(problemText(err), 'error');
    } finally {
      if (ask === asked) more.disabled = false;
    }
  }

  kind.addEventListener('change', () => load(false));
  more.addEventListener('click', () => load(true));

  return { el, shown: () => load(false) };
}

/** One event as a table row (a card on a phone). */
function row(item) {
  const [label, tone] = EVENTS[item.event] ?? [item.event, 'plain'];
  return h('tr', { 'data-event': item.event, 'data-id': item.id },
    h('th', { scope: 'row', class: 'audit__event', 'data-label': 'Event' },
      h('span', { class: 'event-pill', 'data-tone': tone }, label),
      repeats(item),
      detailLine(item)),
    h('td', { class: 'audit__when', 'data-label': 'When' },
      timeElement(item.at),
      h('span', { class: 'audit__sub audit__exact' }, exactTime(item.at))),
    h('td', { class: 'audit__person', 'data-label': 'Person' }, person(item)),
    h('td', { class: 'audit__ip', 'data-label': 'Address' }, item.ip ? bdi(item.ip) : h('span', { class: 'muted-text' }, 'no address')),
    h('td', { class: 'audit__device', 'data-label': 'Device' }, device(item.userAgent)));
}

/**
 * "×12" after the event when the server counted repeats of a refusal into this row (decision
 * 0031, amendment: a flood at one account is a row a minute, not a row a try); read out as
 * "repeated 12 times" (12 in all). The time shown is the first one's, `lastAt` the last's.
 */
function repeats(item) {
  const n = item.details?.repeats;
  if (!Number.isSafeInteger(n) || n < 2) return null;
  const last = item.details.lastAt ? exactTime(item.details.lastAt) : '';
  return h('span', { class: 'audit__repeats', title: `${n} times${last ? `, the last at ${last}` : ''}` },
    h('span', { 'aria-hidden': 'true' }, `×${n}`),
    srOnly(`repeated ${n} times`));
}

/** Who: the account's name and email, and who acted on it when that was someone else. */
function person(item) {
  const who = item.user
    ? [h('span', { class: 'audit__name' }, bdi(item.user.name || item.user.email)), h('span', { class: 'audit__sub' }, bdi(item.user.email))]
    : [h('span', { class: 'muted-text' }, item.event === 'audit_read' ? 'Everyone' : item.userId ? 'A removed account' : 'No account')];
  const by = item.actor ? h('span', { class: 'audit__sub' }, 'by ', bdi(item.actor.name || item.actor.email)) : null;
  return [...who, by];
}

/** The device in words ("Firefox on Linux"), and the user agent itself, shortened, whole in its title. */
function device(userAgent) {
  if (!userAgent) return h('span', { class: 'muted-text' }, 'Unknown device');
  return [
    h('span', {}, describeDevice(userAgent)),
    h('span', { class: 'audit__sub audit__ua', title: userAgent }, bdi(shorten(userAgent, USER_AGENT_SHOWN))),
  ];
}

/** What the details say, in words: "wrong password", "admin → manager", "3 sessions". */
function detailLine(item) {
  const d = item.details ?? {};
  const parts = [];
  if (d.reason === 'unknown_email') parts.push('unknown email');
  else if (d.reason === 'wrong_password') parts.push('wrong password');
  if (d.until) parts.push(`this address until ${absoluteTime(d.until)}`);
  if (d.from && d.to) parts.push(`${d.from} → ${d.to}`);
  if (typeof d.sessionsEnded === 'number' && d.sessionsEnded > 0) parts.push(`${d.sessionsEnded} ${d.sessionsEnded === 1 ? 'session' : 'sessions'} ended`);
  if (typeof d.sessions === 'number') parts.push(`${d.sessions} ${d.sessions === 1 ? 'session' : 'sessions'}`);
  if (d.emailed === false) parts.push('no email sent (limit reached)');
  if (typeof d.repeats === 'number' && d.repeats > 1 && d.lastAt) parts.push(`the last at ${absoluteTime(d.lastAt)}`);
  if (item.event === 'audit_read' && typeof d.returned === 'number') parts.push(`${d.returned} shown${d.before ? ', older page' : ''}`);
  return parts.length ? h('span', { class: 'audit__sub' }, parts.join(' · ')) : null;
}

const exact = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
/** To the second: what an investigation needs ("Mar 4, 2030, 9:00:12 AM"). */
function exactTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : exact.format(d);
}

/** At most `max` characters, never cutting a character in two, `…` marking a cut. */
function shorten(text, max) {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
