// OpenTelemetry, when configured, patches http, pg and amqplib as they load: it starts first,
// and the service's modules are imported after it.
import { startTelemetryIfConfigured } from '@warren/shared/telemetry/start-if-configured';

await startTelemetryIfConfigured('main-backend');
const { runMain } = await import('@warren/shared/lifecycle');
const { loadMainConfig } = await import('./config.js');
const { createMainBackendService } = await import('./service.js');

await runMain('main-backend', () => {
  const config = loadMainConfig();
  const service = createMainBackendService(config);
  return { service, shutdownTimeoutMs: config.shutdownTimeoutMs, log: (m, meta) => service.logger.info(m, meta) };
});
