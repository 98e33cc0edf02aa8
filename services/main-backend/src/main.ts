import { runMain } from '@warren/shared/lifecycle';
import { loadMainConfig } from './config.js';
import { createMainBackendService } from './service.js';

await runMain('main-backend', () => {
  const config = loadMainConfig();
  const service = createMainBackendService(config);
  return { service, shutdownTimeoutMs: config.shutdownTimeoutMs, log: (m, meta) => service.logger.info(m, meta) };
});
