/** An RPC method as both parties know it, the reply envelope of every call, and the headers requests carry. */
import { z } from 'zod';

/** A method: its routing key, the request schema and the schema of a successful result. */
export interface RpcMethod<Req extends z.ZodType, Res extends z.ZodType> {
  routingKey: string;
  request: Req;
  response: Res;
}

export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';
/** Epoch milliseconds after which the caller has given up: the server must not do the work. */
export const DEADLINE_HEADER = 'x-deadline';

export const rpcErrorSchema = z.object({
  status: z.number().int().min(400).max(599),
  code: z.string(),
  title: z.string(),
  detail: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

export const rpcReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: rpcErrorSchema }),
]);
export type RpcReply = z.infer<typeof rpcReplySchema>;
