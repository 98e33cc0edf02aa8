/**
 * Serves RPC methods from one queue. Each request is validated with its method's schema,
 * handled, answered on the caller's direct reply-to address, then acked. A request whose
 * caller's deadline has passed is dropped unprocessed. An AppError becomes an error reply
 * (the caller rethrows it); a database that cannot be reached becomes a 503 `database_unavailable`
 * reply with Retry-After; anything else becomes a generic 500 reply and is logged here.
 * A request with no reply address cannot be answered: it is dropped, logged and counted (never
 * kept on the broker, since requests such as a login carry secrets); so is one whose reply
 * address is not a direct reply-to one (the answer would go into that queue), or one a queue
 * dead-lettered into the exchange (past the broker's check of who may call which method).
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { z } from 'zod';
import { databaseUnavailable, isDatabaseUnavailable } from '../db/unavailable.js';
import { AppError, toErrorShape } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { runWithRequestId, sanitizeRequestId } from '../request-context.js';
import type { Broker } from './broker.js';
import { decode, encode, requestIdOf } from './envelope.js';
import { DEADLINE_HEADER, DIRECT_REPLY_TO, type RpcMethod, type RpcReply } from './rpc-protocol.js';
import { settle, Subscription } from './subscription.js';
import { deadLetteredByBroker, type Queue } from './topology.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMethod = RpcMethod<any, any>;
export interface RpcRoute<M extends AnyMethod = AnyMethod> {
  method: M;
  /** Runs inside the request's context: currentRequestId() gives its id. */
  handle: (req: z.output<M['request']>) => Promise<z.input<M['response']>>;
}

export function route<M extends AnyMethod>(method: M, handle: RpcRoute<M>['handle']): RpcRoute<M> {
  return { method, handle };
}

export interface RpcServerOptions {
  broker: Broker;
  logger: Logger;
  metrics?: Metrics;
  /**
   * Served from; declared (with its bindings) on every (re)connection, and again if the broker
   * cancels the consumer (the queue is non-durable: in a cluster it goes with its node).
   */
  queue: Queue;
  routes: RpcRoute[];
  /** Requests handled at once (default 32). */
  prefetch?: number;
}

export class RpcServer {
  private readonly subscription: Subscription;
  private readonly routes: Map<string, RpcRoute>;
  private readonly logger: Logger;
  private readonly metrics: Metrics | undefined;
  /** The queue's name, in metrics. */
  private readonly queue: string;

  constructor(opts: RpcServerOptions) {
    this.logger = opts.logger;
    this.metrics = opts.metrics;
    this.queue = opts.queue.name;
    this.routes = new Map(opts.routes.map((r) => [r.method.routingKey, r]));
    this.subscription = new Subscription(
      opts.broker,
      { name: `rpc-server:${this.queue}`, queue: opts.queue, prefetch: opts.prefetch ?? 32, logger: opts.logger },
      (ch, msg) => this.handle(ch, msg),
    );
  }

  waitReady(): Promise<void> {
    return this.subscription.waitReady();
  }

  stop(timeoutMs?: number): Promise<void> {
    return this.subscription.stop(timeoutMs);
  }

  private async handle(ch: Channel, msg: ConsumeMessage): Promise<void> {
    const requestId = sanitizeRequestId(requestIdOf(msg));
    await runWithRequestId(requestId, async () => {
      const { replyTo, correlationId } = msg.properties;
      const key = msg.fields.routingKey;
      if (!replyTo || !correlationId) {
        this.logger.error('rpc request without reply address dropped', { routingKey: key });
        this.metrics?.messagesConsumed.inc({ queue: this.queue, outcome: 'dropped_no_reply_to' });
        return settle(() => ch.nack(msg, false, false));
      }
      if (!String(replyTo).startsWith(`${DIRECT_REPLY_TO}.`)) {
        // The answer goes by the default exchange, which reaches every queue by name: a caller
        // naming another party's queue would have this server publish into it. Callers use
        // direct reply-to, which the broker rewrites to `amq.rabbitmq.reply-to.<token>`.
        this.logger.warn('rpc request with a reply address other than direct reply-to dropped', { routingKey: key, replyTo: String(replyTo).slice(0, 200) });
        this.metrics?.messagesConsumed.inc({ queue: this.queue, outcome: 'dropped_reply_to' });
        return settle(() => ch.nack(msg, false, false));
      }
      if (msg.fields.exchange !== '' && deadLetteredByBroker(msg.properties.headers)) {
        // Dead-lettered into the RPC exchange by someone's queue under a key of its choosing:
        // the broker checks topic permissions (who may call which method) only on a publish.
        this.logger.warn('rpc request dead-lettered into the exchange dropped', { routingKey: key });
        this.metrics?.messagesConsumed.inc({ queue: this.queue, outcome: 'dropped_dead_lettered' });
        return settle(() => ch.nack(msg, false, false));
      }
      const deadline = Number(msg.properties.headers?.[DEADLINE_HEADER]);
      if (Number.isFinite(deadline) && deadline < Date.now()) {
        this.logger.warn('rpc request expired before it was handled', { routingKey: key });
        return settle(() => ch.ack(msg));
      }
      const reply = await this.dispatch(key, msg);
      settle(() => {
        ch.publish('', replyTo, encode(reply), { correlationId, contentType: 'application/json' });
        ch.ack(msg);
      });
      this.metrics?.messagesConsumed.inc({ queue: this.queue, outcome: reply.ok ? 'ack' : 'error_reply' });
    });
  }

  private async dispatch(key: string, msg: ConsumeMessage): Promise<RpcReply> {
    const r = this.routes.get(key);
    if (!r) return errorReply(new AppError({
      status: 501,
      code: 'unknown_method',
      title: 'Not Implemented',
      detail: `No RPC method ${key}.`,
    }));
    const decoded = decode(msg);
    const parsed = decoded.ok ? r.method.request.safeParse(decoded.value) : undefined;
    if (!parsed?.success) {
      this.logger.warn('rpc request invalid', { routingKey: key });
      return errorReply(AppError.badRequest('invalid_rpc_request', 'The request message is not valid.'));
    }
    try {
      const result = await r.handle(parsed.data);
      return { ok: true, result: r.method.response.parse(result) };
    } catch (err) {
      if (err instanceof AppError) return errorReply(err);
      if (isDatabaseUnavailable(err)) {
        // The caller answers 503 with Retry-After, as it would for its own database.
        this.logger.warn('rpc handler: database unavailable', { routingKey: key, err: (err as Error).message });
        return errorReply(databaseUnavailable());
      }
      this.logger.error('rpc handler failed', { routingKey: key, err });
      return errorReply(new AppError({
        status: 500,
        code: 'internal_error',
        title: 'Internal Server Error',
        detail: 'Something went wrong.',
      }));
    }
  }
}

function errorReply(err: AppError): RpcReply {
  return { ok: false, error: toErrorShape(err) };
}
