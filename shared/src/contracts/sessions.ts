/**
 * `session.ended`: the auth service announces, from its transactional outbox, every session
 * that ended (logout, logout-all, a deleted session, a password reset, a reused refresh token,
 * a demotion). Access tokens are verified locally and stay valid until they expire, so the
 * services that verify them remember an ended session until `expiresAt` (the latest expiry
 * any access token of that session can carry) and refuse its tokens meanwhile.
 */
import { z } from 'zod';

export const sessionEndedSchema = z
  .object({
    sessionId: z.uuid(),
    userId: z.uuid(),
    endedAt: z.iso.datetime(),
    /** After this instant no access token of the session is valid anyway: forget it then. */
    expiresAt: z.iso.datetime(),
  })
  .strict();
export type SessionEnded = z.infer<typeof sessionEndedSchema>;
