/**
 * The correlation of the work in progress (an HTTP request, a consumed message, an RPC call):
 * its request id and, where one travels, its W3C traceparent (trace-context.ts).
 * AsyncLocalStorage carries them through awaits, so the logger and the publisher find them
 * without every function passing them along.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface RequestContext {
  requestId: string;
  traceparent?: string | undefined;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Incoming ids are accepted only in a safe, short form: they end up in logs and headers. */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function sanitizeRequestId(candidate: unknown): string {
  return typeof candidate === 'string' && SAFE_ID.test(candidate) ? candidate : randomUUID();
}

export function runWithRequestId<T>(requestId: string, fn: () => T, traceparent?: string): T {
  return storage.run({ requestId, traceparent }, fn);
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/**
 * With OpenTelemetry running (telemetry/register.ts), its active span is the truth: its
 * instrumentations continue incoming traces and write the AMQP headers themselves. Set once at
 * start; without it nothing of OpenTelemetry is loaded.
 */
let activeSpanTraceparent: (() => string | undefined) | undefined;

export function useActiveSpanTraceparent(source: () => string | undefined): void {
  activeSpanTraceparent = source;
}

export function currentTraceparent(): string | undefined {
  return activeSpanTraceparent?.() ?? storage.getStore()?.traceparent;
}
