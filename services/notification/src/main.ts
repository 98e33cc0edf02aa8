import { runMain } from '@warren/shared/lifecycle';
import { loadNotificationConfig } from './config.js';
import { createNotificationService } from './service.js';

await runMain('notification', () => {
  const config = loadNotificationConfig();
  const service = createNotificationService(config);
  return { service, shutdownTimeoutMs: config.shutdownTimeoutMs, log: (m, meta) => service.logger.info(m, meta) };
});
