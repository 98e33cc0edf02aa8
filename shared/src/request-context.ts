/**
 * The correlation id of the work in progress (an HTTP request, a consumed message, an RPC call).
 * AsyncLocalStorage carries it through awaits, so the logger and the publisher find it
 * without every function passing it along.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Incoming ids are accepted only in a safe, short form: they end up in logs and headers. */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function sanitizeRequestId(candidate: unknown): string {
  return typeof candidate === 'string' && SAFE_ID.test(candidate) ? candidate : randomUUID();
}

export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return storage.run({ requestId }, fn);
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}
