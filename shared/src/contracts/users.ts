/**
 * `user.upserted`: the auth service announces a user's existence and role, from a
 * transactional outbox (so no change is lost), each time they change. `version` grows with
 * every change of that user, so a consumer keeps the newest and ignores late or repeated ones.
 * The notification service builds its user directory (for role fan-out) from these alone.
 */
import { z } from 'zod';
import { roleSchema } from './notifications.js';

export const userUpsertedSchema = z
  .object({
    userId: z.uuid(),
    role: roleSchema,
    version: z.number().int().positive(),
    occurredAt: z.iso.datetime(),
  })
  .strict();
export type UserUpserted = z.infer<typeof userUpsertedSchema>;
