/** Creates the first admin from configuration, once: an existing user with that email is left alone. */
import type { Logger } from '@warren/shared/logger';
import type { UsersRepository } from '../db/users-repository.js';
import { hashPassword } from './passwords.js';

export async function bootstrapAdmin(
  users: UsersRepository,
  admin: { email: string; password: string; name: string } | undefined,
  logger: Logger,
): Promise<void> {
  if (!admin) return;
  if (await users.findByEmail(admin.email)) return;
  const created = await users.createVerifiedIfAbsent({
    email: admin.email,
    name: admin.name,
    role: 'admin',
    passwordHash: await hashPassword(admin.password),
  });
  if (created) logger.info('bootstrap admin created', { email: admin.email });
}
