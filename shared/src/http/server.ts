/**
 * Listening and closing: the timeouts every service's server has, problem details for requests
 * Node's parser cannot even read, and a `close` that stops taking connections, ends idle
 * keep-alive sockets (Node's server.close does since v19) and waits for requests in flight.
 * Requests arriving on keep-alive connections that are busy when the drain starts are still
 * served (Node's own behaviour), so a client is never cut off mid-exchange; their answers say
 * `Connection: close`, so each such connection ends after its answer. Without that, a client
 * sending steadily (a gateway, a busy caller) kept its connections busy and the drain never
 * ended until the shutdown timeout cut everything off (found by the chaos table's SIGTERM row).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { AppError } from '../errors.js';
import type { HttpApp } from './app.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.js';
import { ShapedRequest, ShapedResponse } from './request-shapes.js';

export async function listen(app: HttpApp, port: number, host: string): Promise<Server> {
  // Requests and responses born with the properties Express and the edge give them (request-shapes.ts).
  const server = createServer({ IncomingMessage: ShapedRequest, ServerResponse: ShapedResponse }, app);
  // Idle keep-alive sockets close before a load balancer's typical 60 s and after clients' 4 s.
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

export async function close(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  // Ahead of the app's own listener, so the header is set before any answer is written.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => res.setHeader('Connection', 'close'));
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closed;
}

/** What Node's default client-error handler writes, as problem details. */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const appError =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new AppError({ status: 408, code: 'request_timeout', title: 'Request Timeout', detail: 'The request took too long to arrive.' })
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new AppError({
          status: 431,
          code: 'headers_too_large',
          title: 'Request Header Fields Too Large',
          detail: 'The request headers are too large.',
        })
        : AppError.badRequest('bad_request', 'The request could not be processed.');
  const body = JSON.stringify(toProblem(appError));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${appError.status} ${appError.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
