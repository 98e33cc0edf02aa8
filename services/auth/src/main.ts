import { runMain } from '@warren/shared/lifecycle';
import { loadAuthConfig } from './config.js';
import { createAuthService } from './service.js';

await runMain('auth', () => {
  const config = loadAuthConfig();
  const service = createAuthService(config);
  return { service, shutdownTimeoutMs: config.shutdownTimeoutMs, log: (m, meta) => service.logger.info(m, meta) };
});
