/** Words and numbers for people: relative times, plurals, error messages, devices. */
import { bdi } from './dom.js';
import { WarrenProblem } from './warren-client.js';

const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
const dayAndMonth = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

/** "Mar 4, 2030, 9:00 AM" (the reader's locale), for a title attribute; '' for a bad date. */
export function absoluteTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : absolute.format(d);
}

/** "just now", "5 min. ago", "yesterday", then the date: short enough for one line on a phone. */
export function relativeTime(iso, now = Date.now()) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const seconds = Math.round((d.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  if (abs < 7 * 86_400) return relative.format(Math.round(seconds / 86_400), 'day');
  return dayAndMonth.format(d);
}

/** A <time> element showing the relative time, the exact one on hover; refreshed by refreshTimes. */
export function timeElement(iso) {
  const el = document.createElement('time');
  el.setAttribute('datetime', iso);
  el.title = absoluteTime(iso);
  el.className = 'reltime';
  el.textContent = relativeTime(iso);
  return el;
}

/** Rewrites every relative time under `root` (called every half minute). */
export function refreshTimes(root) {
  const now = Date.now();
  for (const el of root.querySelectorAll('time.reltime')) el.textContent = relativeTime(el.getAttribute('datetime'), now);
}

/** "1 person", "3 people". */
export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/** The accessible name of the badge. */
export function unreadLabel(n) {
  return `${n} unread ${n === 1 ? 'notification' : 'notifications'}`;
}

/** The message to show for a failed call: the problem's `detail`, else its title. */
export function problemText(err) {
  if (err instanceof WarrenProblem) {
    if (err.status === 0) return 'The server cannot be reached. Check your connection and try again.';
    const text = err.detail || err.title || `Request failed (${err.status}).`;
    return err.retryAfter ? `${text} Try again in ${formatSeconds(err.retryAfter)}.` : text;
  }
  return 'Something went wrong. Please try again.';
}

/** The field errors of a 400, as "Title: must not be empty" lines. */
export function fieldErrors(err, labels = {}) {
  if (!(err instanceof WarrenProblem) || !err.errors.length) return [];
  return err.errors.map((e) => `${labels[e.path] ?? (e.path || 'Request')}: ${e.message}`);
}

export function formatSeconds(s) {
  return s >= 120 ? `${Math.ceil(s / 60)} minutes` : `${s} seconds`;
}

/** "Chrome on Linux", from a User-Agent header; "Unknown device" when there is none. */
export function describeDevice(userAgent) {
  if (!userAgent) return 'Unknown device';
  const ua = userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge'
    : /OPR\//.test(ua) ? 'Opera'
    : /Firefox\//.test(ua) ? 'Firefox'
    : /Chrom(e|ium)\//.test(ua) ? 'Chrome'
    : /Safari\//.test(ua) ? 'Safari'
    : /node|undici/i.test(ua) ? 'A script'
    : /curl\//i.test(ua) ? 'curl'
    : 'A browser';
  const os = /Android/.test(ua) ? 'Android'
    : /iPhone|iPad|iPod/.test(ua) ? 'iOS'
    : /Windows/.test(ua) ? 'Windows'
    : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
    : /CrOS/.test(ua) ? 'ChromeOS'
    : /Linux/.test(ua) ? 'Linux'
    : '';
  return os ? `${browser} on ${os}` : browser;
}

const ROLE_PLURALS = { admin: 'all admins', manager: 'all managers', employee: 'all employees' };

/**
 * "all employees and Erin Employee": who a send goes to, for the preview and the sent list, as
 * children for h() (each person's name isolated: bdi). `people`: users, or their names.
 */
export function recipientsSummary(roles, people) {
  const parts = [...roles.map((r) => ROLE_PLURALS[r] ?? r), ...people.map((p) => bdi(typeof p === 'string' ? p : p.name || p.email))];
  if (parts.length === 0) return ['nobody yet'];
  return parts.flatMap((part, i) => (i === 0 ? [part] : [i === parts.length - 1 ? ' and ' : ', ', part]));
}
