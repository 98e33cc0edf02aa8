/**
 * Listening and closing: `close` stops taking connections, ends idle keep-alive sockets (Node's
 * server.close does since v19) and waits for requests in flight (Fastify's close).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpApp } from './app.js';

export async function listen(app: HttpApp, port: number, host: string): Promise<Server> {
  await app.listen({ port, host });
  return app.server;
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

export async function close(app: HttpApp): Promise<void> {
  await app.close();
}
