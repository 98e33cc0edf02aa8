/**
 * `user.upserted`: the auth service announces a user's existence and role, from a
 * transactional outbox (so no change is lost), each time they change. `version` grows with
 * every change of that user, so a consumer keeps the newest and ignores late or repeated ones.
 * The notification service builds its user directory (for role fan-out, and the names of the
 * senders it shows) from these. `name` came later (0.5.0): an event without it is still valid.
 */
import { z } from 'zod';
import { roleSchema } from './notifications.js';
import { text } from './text.js';

export const userUpsertedSchema = z
  .object({
    userId: z.uuid(),
    role: roleSchema,
    name: text().max(200).optional(),
    version: z.number().int().positive(),
    occurredAt: z.iso.datetime(),
  })
  .strict();
export type UserUpserted = z.infer<typeof userUpsertedSchema>;
