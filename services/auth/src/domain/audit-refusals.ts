/**
 * Refusals that anyone can repeat at an account for nothing are counted, not each kept as a row
 * (decision 0031, amendment). Main-backend's rate limit is per address, so a stranger with many
 * addresses (an IPv6 /48 is 256 /56s at 30 a minute each) could otherwise write thousands of
 * rows a minute at one account, each with a user agent of their choosing, kept
 * AUDIT_RETENTION_DAYS. Counted, such a flood is one row per account and kind per minute (a
 * few more when refusals race), saying when it began, how many and when the last came.
 *
 * Counted: the refusals that cost the caller no password check and that nothing else bounds —
 * `login_throttled`, `login_refused_locked`; `registration_existing_email` and
 * `password_reset_requested` once the hourly cap has stopped their emails (before that they are
 * five an hour); `refresh_reused`, which whoever holds one copied token can replay without limit.
 * Not counted: wrong passwords (each costs an argon2 check and the per-address lockout and the
 * account-wide cap bound them: a few per address, 20 × the threshold per alert window in all,
 * then refused unchecked, which is counted), lockouts and alerts (bounded by the failures),
 * sign-ins, logouts, ended sessions, verifications, password and role changes, reads of the log:
 * each needs a password, a code, a session or a role, and each is worth its own row. Events with
 * no account (an unknown email, a new registration) are not counted either: they stay one row
 * each, bounded by the per-address rate limit.
 */
import type { AuditEntry, AuditLog } from './ports.js';

/**
 * A repeat this long after the row's first refusal starts a new row. A constant, not a
 * variable: it fixes both the bound (per account and kind, at most a row a minute) and how
 * finely a flood's course can be read afterwards, neither of which differs between deployments.
 */
export const REFUSAL_COUNT_WINDOW_SECONDS = 60;

export type CountedRefusal =
  | 'login_throttled'
  | 'login_refused_locked'
  | 'registration_existing_email'
  | 'password_reset_requested'
  | 'refresh_reused';

/** Records the refusal, counted into the account's row of the last minute if there is one. */
export function recordRefusal(audit: AuditLog, event: CountedRefusal, entry: AuditEntry): Promise<void> {
  const { userId } = entry;
  if (!userId) return audit.record(event, entry);
  return audit.recordOrCount(event, { ...entry, userId }, REFUSAL_COUNT_WINDOW_SECONDS);
}
