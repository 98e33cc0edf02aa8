// OpenTelemetry, when configured, patches http, pg and amqplib as they load: it starts first,
// and the service's modules are imported after it.
import { startTelemetryIfConfigured } from '@warren/shared/telemetry/start-if-configured';

await startTelemetryIfConfigured('notification');
const { runMain } = await import('@warren/shared/lifecycle');
const { loadNotificationConfig } = await import('./config.js');
const { createNotificationService } = await import('./service.js');

await runMain('notification', () => {
  const config = loadNotificationConfig();
  const service = createNotificationService(config);
  return { service, shutdownTimeoutMs: config.shutdownTimeoutMs, log: (m, meta) => service.logger.info(m, meta) };
});
