// OpenTelemetry, when configured, patches http, pg and amqplib as they load: it starts first,
// and the service's modules are imported after it.
import { startTelemetryIfConfigured } from '@warren/shared/telemetry/start-if-configured';

await startTelemetryIfConfigured('auth');
const { runMain } = await import('@warren/shared/lifecycle');
const { loadAuthConfig } = await import('./config.js');
const { createAuthService } = await import('./service.js');

await runMain('auth', () => {
  const config = loadAuthConfig();
  const service = createAuthService(config);
  return { service, shutdownTimeoutMs: config.shutdownTimeoutMs, log: (m, meta) => service.logger.info(m, meta) };
});
