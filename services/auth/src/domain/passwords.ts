/**
 * Password hashing with argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane). node-argon2
 * runs on libuv's thread pool, so hashing never blocks the event loop.
 */
import argon2 from 'argon2';

const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false; // a malformed stored hash never authenticates
  }
}

/**
 * A hash of a random password, made once: verifying against it when no user has the given
 * email costs the same time as a real check, so response timing does not reveal accounts.
 */
let dummyHash: Promise<string> | undefined;
export async function spendVerificationTime(password: string): Promise<void> {
  dummyHash ??= hashPassword(`dummy-${Math.random()}-${Date.now()}`);
  await verifyPassword(await dummyHash, password);
}
