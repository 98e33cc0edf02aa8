/**
 * The load generator for POST /notifications: `size` keep-alive HTTP/1.1 connections over
 * node:net, one request in flight on each (no pipelining), the request head built once per
 * token. It exists because the benchmark shares the two cores with the stack it measures, so
 * its own cost per request is taken from the services: measured here per request, node:http's
 * client costs ~0.14 ms, undici's Pool ~0.14 ms, autocannon ~0.12 ms, this ~0.05 ms (the role
 * wrk or oha play for a C or Rust benchmark). It reads only what it needs from each answer:
 * the status and, by Content-Length, where the answer ends.
 */
import net from 'node:net';

interface Pending {
  resolve: (status: number) => void;
  reject: (err: Error) => void;
}

class Connection {
  private socket: net.Socket | undefined;
  private buffer = '';
  private pending: Pending | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  send(request: string): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.connected().write(request, 'utf8');
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connected(): net.Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.onData(chunk));
    // The server ends idle keep-alive connections; the next send opens a new one.
    const lost = (err?: Error) => {
      if (this.socket === socket) this.socket = undefined;
      this.buffer = '';
      this.settle()?.reject(err ?? new Error('connection closed before the answer'));
    };
    socket.on('error', lost);
    socket.on('close', () => lost());
    this.socket = socket;
    return socket;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = this.buffer.slice(0, headEnd);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) {
      this.settle()?.reject(new Error(`an answer without Content-Length: ${head.split('\r\n')[0]}`));
      this.close();
      return;
    }
    const end = headEnd + 4 + Number(length[1]);
    if (this.buffer.length < end) return;
    this.buffer = this.buffer.slice(end);
    this.settle()?.resolve(Number(head.slice(9, 12)));
  }

  private settle(): Pending | undefined {
    const p = this.pending;
    this.pending = undefined;
    return p;
  }
}

export class SendConnections {
  private readonly connections: Connection[];
  private readonly idle: Connection[];
  private readonly waiting: ((c: Connection) => void)[] = [];
  private readonly head: (path: string, length: number) => string;

  constructor(baseUrl: string, token: string, size: number) {
    const url = new URL(baseUrl);
    this.connections = Array.from({ length: size }, () => new Connection(url.hostname, Number(url.port)));
    this.idle = [...this.connections];
    const host = url.host;
    this.head = (path, length) =>
      `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
  }

  /** POSTs the JSON body; resolves with the answer's status. */
  async post(path: string, body: unknown): Promise<number> {
    const json = JSON.stringify(body);
    const connection = this.idle.pop() ?? (await new Promise<Connection>((resolve) => this.waiting.push(resolve)));
    try {
      return await connection.send(this.head(path, Buffer.byteLength(json)) + json);
    } finally {
      // Hand the connection straight to the longest waiter, else back to the idle list.
      const next = this.waiting.shift();
      if (next) next(connection);
      else this.idle.push(connection);
    }
  }

  close(): void {
    for (const c of this.connections) c.close();
  }
}
