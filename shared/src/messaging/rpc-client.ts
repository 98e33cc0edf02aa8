/**
 * RPC over RabbitMQ's direct reply-to: no reply queue to declare or clean up. Each call has a
 * correlation id, a timeout that rejects with a 504 AppError instead of hanging, and a
 * per-message expiration equal to that timeout, so a request nobody picked up in time is
 * discarded by the broker rather than processed late. A request no server queue is bound
 * for comes back at once (mandatory) as a 503. The client declares the exchange it sends to;
 * the server declares its queue and bindings (so until a server has started once, a request
 * is unroutable: 503 at once rather than a 504 after the timeout).
 */
import { randomUUID } from 'node:crypto';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { z } from 'zod';
import { AppError, fromErrorShape } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Broker } from './broker.js';
import { baseProperties, encode } from './envelope.js';
import { DEADLINE_HEADER, DIRECT_REPLY_TO, rpcReplySchema, type RpcMethod } from './rpc-protocol.js';
import { declareTopology, type Exchange } from './topology.js';

interface Pending {
  resolve: (body: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export interface RpcClientOptions {
  broker: Broker;
  logger: Logger;
  metrics?: Metrics;
  /** Where requests go; declared on every (re)connection. */
  exchange: Exchange;
  /** Default deadline of a call. */
  timeoutMs: number;
}

export class RpcClient {
  private readonly broker: Broker;
  private readonly logger: Logger;
  private readonly metrics: Metrics | undefined;
  private readonly exchange: string;
  private readonly timeoutMs: number;
  private readonly channel: ChannelWrapper;
  private readonly pending = new Map<string, Pending>();

  constructor(opts: RpcClientOptions) {
    this.broker = opts.broker;
    this.logger = opts.logger;
    this.metrics = opts.metrics;
    this.exchange = opts.exchange.name;
    this.timeoutMs = opts.timeoutMs;
    this.channel = opts.broker.channel('rpc-client', {
      confirm: false,
      setup: async (raw) => {
        const ch = raw as Channel;
        await declareTopology(ch, [opts.exchange]);
        // Replies to requests sent on an earlier channel can never arrive: fail them now.
        ch.on('close', () => this.failAll(brokerUnavailable()));
        ch.on('return', (msg: ConsumeMessage) => {
          this.settle(msg.properties.correlationId, (p) =>
            p.reject(AppError.unavailable('service_unavailable', 'No service is serving this request.')),
          );
        });
        await ch.consume(DIRECT_REPLY_TO, (msg) => msg && this.onReply(msg), { noAck: true });
      },
    });
  }

  /** Resolves once the client can call; rejects if the broker refused it a permission it needs. */
  async waitReady(): Promise<void> {
    await this.broker.waitForChannel(this.channel);
  }

  async call<Req extends z.ZodType, Res extends z.ZodType>(
    method: RpcMethod<Req, Res>,
    request: z.input<Req>,
    timeoutMs = this.timeoutMs,
  ): Promise<z.output<Res>> {
    const body = method.request.parse(request);
    // No connection: answer 503 now rather than hold the caller for the whole timeout.
    if (this.broker.isDown()) throw brokerUnavailable();
    const correlationId = randomUUID();
    const started = process.hrtime.bigint();
    const observe = (outcome: string) =>
      this.metrics?.rpcDuration.observe(
        { method: method.routingKey, outcome },
        Number(process.hrtime.bigint() - started) / 1e9,
      );

    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(AppError.timeout('upstream_timeout', 'The service did not answer in time; try again.'));
      }, timeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer });
    });
    // The promise may reject (timeout) while publish is still pending; never leave it unhandled.
    reply.catch(() => undefined);

    try {
      await this.channel.publish(
        this.exchange,
        method.routingKey,
        encode(body),
        baseProperties(randomUUID(), {
          correlationId,
          replyTo: DIRECT_REPLY_TO,
          expiration: String(timeoutMs),
          persistent: false,
          mandatory: true,
          type: method.routingKey,
          headers: { [DEADLINE_HEADER]: Date.now() + timeoutMs },
          timeout: timeoutMs,
        } as Parameters<ChannelWrapper['publish']>[3]),
      );
    } catch (err) {
      this.settle(correlationId, () => undefined);
      observe('unavailable');
      this.logger.warn('rpc publish failed', { method: method.routingKey, err: (err as Error).message });
      throw brokerUnavailable();
    }

    try {
      const raw = await reply;
      const parsed = rpcReplySchema.parse(raw);
      if (!parsed.ok) {
        observe('error');
        throw fromErrorShape(parsed.error);
      }
      const result = method.response.parse(parsed.result);
      observe('ok');
      return result;
    } catch (err) {
      if (err instanceof AppError) {
        if (err.status >= 500) {
          observe(err.status === 504 ? 'timeout' : 'unavailable');
          this.logger.warn('rpc failed', { method: method.routingKey, errorCode: err.code });
        }
        throw err;
      }
      observe('bad_reply');
      this.logger.error('rpc reply invalid', { method: method.routingKey, err: (err as Error).message });
      throw new AppError({
        status: 502,
        code: 'bad_upstream_reply',
        title: 'Bad Gateway',
        detail: 'A service answered in an unexpected form.',
      });
    }
  }

  private onReply(msg: ConsumeMessage) {
    const id = msg.properties.correlationId as string | undefined;
    this.settle(id, (p) => {
      try {
        p.resolve(JSON.parse(msg.content.toString('utf8')));
      } catch {
        p.reject(new Error('reply is not JSON'));
      }
    });
  }

  private settle(id: string | undefined, fn: (p: Pending) => void) {
    if (!id) return;
    const p = this.pending.get(id);
    if (!p) return; // late reply after a timeout: dropped
    this.pending.delete(id);
    clearTimeout(p.timer);
    fn(p);
  }

  private failAll(err: Error) {
    for (const id of [...this.pending.keys()]) this.settle(id, (p) => p.reject(err));
  }

  async close(): Promise<void> {
    this.failAll(AppError.unavailable('shutting_down', 'The service is shutting down.'));
    await this.channel.close();
  }
}

/** 503 with a hint: the services reconnect within a few seconds of the broker's return. */
function brokerUnavailable(): AppError {
  return new AppError({
    status: 503,
    code: 'broker_unavailable',
    title: 'Service Unavailable',
    detail: 'The message broker is unavailable; try again.',
    headers: { 'Retry-After': '2' },
  });
}
