/**
 * OpenTelemetry tracing (decision 0023), loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set:
 * the Node SDK with the http, amqplib and pg instrumentations, exporting spans as OTLP over
 * HTTP (JSON) to that endpoint; the other standard OTEL_* variables (sampler, batch delay,
 * headers, resource attributes) are read by the SDK itself. ES modules are patched through
 * import-in-the-middle's loader hook, registered here before the service's modules load.
 * While it runs, its active span is the trace Warren's log lines name (request-context.ts).
 */
import { register } from 'node:module';
import { isSpanContextValid, trace, TraceFlags } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { beforeProcessExit } from '../lifecycle.js';
import { useActiveSpanTraceparent } from '../request-context.js';

export async function startTelemetry(service: string): Promise<void> {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ?? `warren-${service}`,
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [
      // Probes and scrapes are not traced: they would drown the traces that matter.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|metrics)\b/.test(req.url ?? '') }),
      new AmqplibInstrumentation(),
      new PgInstrumentation(),
    ],
  });
  sdk.start();
  useActiveSpanTraceparent(() => {
    const context = trace.getActiveSpan()?.spanContext();
    if (!context || !isSpanContextValid(context)) return undefined;
    return `00-${context.traceId}-${context.spanId}-${context.traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`;
  });
  // Spans still batched when the service stops are sent before the process exits.
  beforeProcessExit(() => sdk.shutdown());
}
