/** How Warren puts JSON payloads and correlation ids into AMQP messages, and reads them back. */
import type { ConsumeMessage, Options } from 'amqplib';
import { currentRequestId, currentTraceparent } from '../request-context.js';
import { parseTraceparent, TRACEPARENT_HEADER } from '../trace-context.js';

export const REQUEST_ID_HEADER = 'x-request-id';

export function encode(payload: unknown): Buffer {
  return Buffer.from(JSON.stringify(payload));
}

/**
 * Properties every Warren message carries: id, JSON content type, correlation header. It fills
 * in `props`, a fresh object from the caller, instead of copying it: on the send path each
 * object spread costs a few microseconds of a ~0.3 ms request.
 */
export function baseProperties(messageId: string, props: Options.Publish = {}): Options.Publish {
  props.messageId = messageId;
  props.contentType = 'application/json';
  props.timestamp = Math.floor(Date.now() / 1000);
  const requestId = currentRequestId();
  if (requestId) (props.headers ??= {})[REQUEST_ID_HEADER] = requestId;
  // W3C's name for the header, as OpenTelemetry's amqplib instrumentation writes and reads it.
  const traceparent = currentTraceparent();
  if (traceparent) (props.headers ??= {})[TRACEPARENT_HEADER] = traceparent;
  return props;
}

export function requestIdOf(msg: ConsumeMessage): unknown {
  return msg.properties.headers?.[REQUEST_ID_HEADER] ?? msg.properties.correlationId;
}

/** The message's traceparent if it is a valid one; whatever else a publisher put there is ignored. */
export function traceparentOf(msg: ConsumeMessage): string | undefined {
  const value: unknown = msg.properties.headers?.[TRACEPARENT_HEADER];
  // amqplib hands a header sent as a byte array (not a string) over as a Buffer.
  return parseTraceparent(Buffer.isBuffer(value) ? value.toString('latin1') : value);
}

export type DecodeResult = { ok: true; value: unknown } | { ok: false; reason: string };

export function decode(msg: ConsumeMessage): DecodeResult {
  try {
    return { ok: true, value: JSON.parse(msg.content.toString('utf8')) };
  } catch {
    return { ok: false, reason: 'invalid_json' };
  }
}

/** Number of earlier deliveries of this copy: quorum queues count them in x-delivery-count. */
export function previousDeliveries(msg: ConsumeMessage): number {
  const n = Number(msg.properties.headers?.['x-delivery-count'] ?? 0);
  if (Number.isFinite(n) && n > 0) return n;
  return msg.fields.redelivered ? 1 : 0;
}

/** Attempts a message has had before this copy (set on each copy sent to a delay queue). */
export const ATTEMPTS_HEADER = 'x-warren-attempts';
/** Of those, the failures that count against maxAttempts (an unreachable dependency does not). */
export const FAILURES_HEADER = 'x-warren-failures';
/** Tells a returned (unroutable) delayed copy apart from the others in flight. */
export const RETRY_ID_HEADER = 'x-warren-retry-id';
/** The routing key the message was first published with (a delayed copy comes back under its queue's name). */
export const ROUTING_KEY_HEADER = 'x-warren-routing-key';

function countHeader(msg: ConsumeMessage, name: string): number {
  const n = Number(msg.properties.headers?.[name] ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

export interface RetryCounts {
  /** This delivery's attempt number, 1 for the first. */
  attempt: number;
  /** Failures before this delivery that count against maxAttempts. */
  failures: number;
}

/**
 * Attempts so far: those recorded on the copy, plus the broker's redeliveries of this copy
 * (a consumer that died holding it). A redelivery counts as a failure too: whatever killed the
 * consumer may be the message.
 */
export function retryCounts(msg: ConsumeMessage): RetryCounts {
  const redeliveries = previousDeliveries(msg);
  return {
    attempt: countHeader(msg, ATTEMPTS_HEADER) + redeliveries + 1,
    failures: countHeader(msg, FAILURES_HEADER) + redeliveries,
  };
}

export function originalRoutingKey(msg: ConsumeMessage): string {
  const key = msg.properties.headers?.[ROUTING_KEY_HEADER];
  return typeof key === 'string' ? key : msg.fields.routingKey;
}

/** Headers the broker adds on dead-lettering and redelivery; a fresh copy starts without them. */
const BROKER_HEADERS = /^x-(death|delivery-count|first-death-|last-death-)/;

/**
 * The properties of a copy of `msg` for a delay queue: same id, body type, correlation and
 * timestamp, persistent, with the retry counts after this failed attempt.
 */
export function retryCopyProperties(msg: ConsumeMessage, next: RetryCounts, extra: Record<string, unknown>): Options.Publish {
  const p = msg.properties;
  const headers: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p.headers ?? {})) if (!BROKER_HEADERS.test(k)) headers[k] = v;
  headers[ATTEMPTS_HEADER] = next.attempt;
  headers[FAILURES_HEADER] = next.failures;
  headers[ROUTING_KEY_HEADER] = originalRoutingKey(msg);
  Object.assign(headers, extra);
  const props: Options.Publish = { persistent: true, mandatory: true, headers };
  if (p.messageId !== undefined) props.messageId = p.messageId as string;
  if (p.contentType !== undefined) props.contentType = p.contentType as string;
  if (p.contentEncoding !== undefined) props.contentEncoding = p.contentEncoding as string;
  if (p.correlationId !== undefined) props.correlationId = p.correlationId as string;
  if (p.timestamp !== undefined) props.timestamp = p.timestamp as number;
  if (p.type !== undefined) props.type = p.type as string;
  if (p.appId !== undefined) props.appId = p.appId as string;
  return props;
}
