/** How Warren puts JSON payloads and correlation ids into AMQP messages, and reads them back. */
import type { ConsumeMessage, Options } from 'amqplib';
import { currentRequestId } from '../request-context.js';

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
  return props;
}

export function requestIdOf(msg: ConsumeMessage): unknown {
  return msg.properties.headers?.[REQUEST_ID_HEADER] ?? msg.properties.correlationId;
}

export type DecodeResult = { ok: true; value: unknown } | { ok: false; reason: string };

export function decode(msg: ConsumeMessage): DecodeResult {
  try {
    return { ok: true, value: JSON.parse(msg.content.toString('utf8')) };
  } catch {
    return { ok: false, reason: 'invalid_json' };
  }
}

/** Number of earlier delivery attempts: quorum queues count them in x-delivery-count. */
export function previousDeliveries(msg: ConsumeMessage): number {
  const n = Number(msg.properties.headers?.['x-delivery-count'] ?? 0);
  if (Number.isFinite(n) && n > 0) return n;
  return msg.fields.redelivered ? 1 : 0;
}
