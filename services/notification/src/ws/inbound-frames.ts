/** Frames a client may send. Anything else is answered with an error frame (or a close, if it keeps on). */
import { z } from 'zod';

export const inboundFrameSchemas = {
  /** Extends the socket's life with a fresh access token of the same user. */
  auth: z.object({ type: z.literal('auth'), token: z.string().min(1).max(8192) }).strict(),
  /** Marks notifications read (like POST /inbox/:id/read), or all of them. */
  readIds: z.object({ type: z.literal('read'), ids: z.array(z.string().max(32)).min(1).max(100) }).strict(),
  readAll: z.object({ type: z.literal('read'), all: z.literal(true) }).strict(),
  /** Application-level keepalive for clients that cannot see protocol pings. */
  ping: z.object({ type: z.literal('ping') }).strict(),
};

export const inboundFrameSchema = z.union([inboundFrameSchemas.auth, inboundFrameSchemas.readIds, inboundFrameSchemas.readAll, inboundFrameSchemas.ping]);
export type InboundFrame = z.infer<typeof inboundFrameSchema>;

export function parseFrame(data: string): InboundFrame | undefined {
  try {
    const parsed = inboundFrameSchema.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
