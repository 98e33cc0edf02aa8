/** Creates the first admin from configuration, once: an existing user with that email is left alone. */
import { hashPassword } from './passwords.js';
import type { Logger, UserAccounts } from './ports.js';

export async function bootstrapAdmin(
  users: Pick<UserAccounts, 'findByEmail' | 'createVerifiedIfAbsent'>,
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
