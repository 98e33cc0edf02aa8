/** Sender addresses as operators write them: `Warren <no-reply@example.com>` or `no-reply@example.com`. */
import { z } from 'zod';
import type { Mailbox } from '../domain/ports.js';

const emailAddress = z.email();

export function parseMailbox(value: string): Mailbox | undefined {
  const v = value.trim();
  // A line break in a header value would let it inject headers of its own.
  if (/[\u0000-\u001f\u007f]/.test(v)) return undefined;
  const angle = /^(.*?)\s*<([^<>]+)>$/.exec(v);
  const name = angle ? (angle[1] ?? '').trim().replace(/^"(.*)"$/, '$1') : '';
  const address = angle ? (angle[2] ?? '') : v;
  if (/[<>"]/.test(name) || !emailAddress.safeParse(address).success) return undefined;
  return { name, address };
}
