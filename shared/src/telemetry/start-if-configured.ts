/**
 * The first thing a service's main.ts does: with OTEL_EXPORTER_OTLP_ENDPOINT set, start
 * OpenTelemetry (otel.ts) before any module that loads http, pg or amqplib, so its
 * instrumentations can patch them as they load. Unset, nothing of OpenTelemetry is loaded:
 * this module imports none of it.
 */
export async function startTelemetryIfConfigured(service: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return;
  const { startTelemetry } = await import('./otel.js');
  await startTelemetry(service);
}
