/**
 * A small JSON-over-HTTP client on node:http with a keep-alive agent, for the benchmark's setup
 * and reads (logins, registration, unread counts, /metrics). The measured sends go through
 * send-connections.ts, which costs a third of this per request.
 */
import http from 'node:http';

export interface JsonResponse<T = unknown> {
  status: number;
  body: T;
}

export class HttpClient {
  private readonly agent: http.Agent;

  /**
   * `maxSockets` bounds the connections per origin. Idle sockets are dropped after 4 s, before
   * the services' 5 s keep-alive timeout closes them under us.
   */
  constructor(maxSockets = 64) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets, timeout: 4000 });
  }

  request<T = unknown>(method: string, url: string, opts: { token?: string; body?: unknown; timeoutMs?: number } = {}): Promise<JsonResponse<T>> {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = {};
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method, headers, agent: this.agent, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: text as T });
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  get<T = unknown>(url: string, token?: string): Promise<JsonResponse<T>> {
    return this.request<T>('GET', url, { token });
  }

  post<T = unknown>(url: string, body: unknown, token?: string): Promise<JsonResponse<T>> {
    return this.request<T>('POST', url, { body, token });
  }

  close(): void {
    this.agent.destroy();
  }
}
