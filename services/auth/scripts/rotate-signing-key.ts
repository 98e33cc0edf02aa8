/**
 * Operator command: `npm run rotate-signing-key -w services/auth`. Makes a new signing key
 * active. The previous key keeps verifying until every access token it signed has expired
 * (ACCESS_TOKEN_TTL plus the replicas' reload interval), then leaves the JWKS by itself.
 * Uses the same variables as the service (APP_ENV, AUTH_DATABASE_URL, AUTH_KEY_ENCRYPTION_KEY).
 */
import { createPool } from '@warren/shared/db/database';
import { createLogger } from '@warren/shared/logger';
import { loadAuthConfig } from '../src/config.js';
import { SigningKeysRepository } from '../src/db/signing-keys-repository.js';
import { SigningKeys } from '../src/domain/signing-keys.js';

const config = loadAuthConfig();
const logger = createLogger({ service: 'auth', env: config.appEnv, level: config.logLevel });
const pool = createPool(config.databaseUrl, 1, logger);
try {
  const keys = new SigningKeys(new SigningKeysRepository(pool), config.keyEncryptionKey, logger);
  await keys.ensureActiveKey();
  const kid = await keys.rotate(config.accessTokenTtlSeconds + config.signingKeysReloadSeconds);
  process.stdout.write(`new signing key ${kid} is active\n`);
} finally {
  await pool.end();
}
