/**
 * Variables set in the environment that look like one a service reads but are not: a
 * `NOTIFCATION_PORT` silently leaves the port at its default. Variables have no common prefix
 * (one `.env` or image serves all three services, and each reads its own), so a name counts as
 * a lookalike only when it is close to a name this service reads:
 * - the same but for case (`notification_port`);
 * - one edit away, two for names of 8 characters or more (a letter missing, extra or wrong; two
 *   swapped letters are two edits);
 * - the same first and last word (`NOTIFICATION_HTTP_PORT`, `AUTH_DB_URL` for `AUTH_DATABASE_URL`).
 * A variable another service reads is not close to this one's under these rules (a test walks
 * every pair), so a shared environment does not make noise. Only names are reported, never values.
 */
import { closestMatch } from 'leven';

export interface Lookalike {
  variable: string;
  didYouMean: string;
}

/** Longer names cannot be one or two edits from any variable name a service reads. */
const MAX_NAME_LENGTH = 64;
const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

function words(name: string): string[] {
  return name.split('_').filter(Boolean);
}

/** The variables of `present` that are not in `known` but look like one that is, in the order given. */
export function lookalikes(present: readonly string[], known: readonly string[]): Lookalike[] {
  const knownSet = new Set(known);
  const out: Lookalike[] = [];
  for (const variable of present) {
    if (knownSet.has(variable) || variable.length > MAX_NAME_LENGTH || !NAME.test(variable)) continue;
    const didYouMean = closestKnown(variable.toUpperCase(), known);
    if (didYouMean) out.push({ variable, didYouMean });
  }
  return out;
}

function closestKnown(name: string, known: readonly string[]): string | undefined {
  if (known.includes(name)) return name;
  const maxDistance = name.length >= 8 ? 2 : 1;
  const near = closestMatch(name, known, { maxDistance });
  if (near !== undefined) return near;
  const w = words(name);
  if (w.length < 2) return undefined;
  return known.find((k) => {
    const kw = words(k);
    return kw.length >= 2 && kw[0] === w[0] && kw.at(-1) === w.at(-1);
  });
}
