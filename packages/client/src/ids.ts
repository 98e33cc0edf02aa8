/**
 * Notification ids of one user sort in creation order when compared as strings of equal form
 * (the service's are 16 hex digits). Comparing by length first keeps that true for any
 * fixed-alphabet form whose ids grow in length, such as plain decimal numbers.
 */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The `after=` that means "everything": a subscription made while the inbox is empty starts
 * here, so a notification stored between the inbox read and the socket's start is not missed.
 */
export const BEFORE_FIRST_ID = '0000000000000000';
