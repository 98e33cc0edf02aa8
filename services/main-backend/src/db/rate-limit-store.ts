/**
 * An express-rate-limit Store on main-backend's own PostgreSQL database, so the per-IP limit
 * holds across replicas (an in-memory store lets N replicas allow N × the limit). One atomic
 * upsert per hit counts it and starts a new fixed window when the old one has ended; rows of
 * ended windows are pruned once a window. Written here rather than taken from a community
 * package: the one for PostgreSQL pins its own pg and runs its own migrations with its own pool.
 */
import type { Pool } from 'pg';
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';

const HIT = `
  INSERT INTO rate_limit_hits AS r (key, hits, reset_at)
  VALUES ($1, 1, now() + make_interval(secs => $2::double precision / 1000))
  ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN r.reset_at <= now() THEN 1 ELSE r.hits + 1 END,
    reset_at = CASE WHEN r.reset_at <= now() THEN excluded.reset_at ELSE r.reset_at END
  RETURNING hits, reset_at`;

interface Row {
  hits: number;
  reset_at: Date;
}

export class PostgresRateLimitStore implements Store {
  /** Keys are counted per limiter: two limiters on one table do not share counts. */
  readonly prefix: string;
  private windowMs = 60_000;
  private pruning: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: Pool,
    prefix: string,
  ) {
    this.prefix = `${prefix}:`;
  }

  init(options: Options): void {
    this.windowMs = options.windowMs;
    clearInterval(this.pruning);
    this.pruning = setInterval(() => void this.prune().catch(() => undefined), this.windowMs);
    this.pruning.unref();
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    // A named statement: parsed and planned once per pooled connection, not once per hit.
    const { rows } = await this.pool.query<Row>({ name: 'rate_limit_hit', text: HIT, values: [this.prefix + key, this.windowMs] });
    const row = rows[0] as Row;
    return { totalHits: row.hits, resetTime: row.reset_at };
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const { rows } = await this.pool.query<Row>('SELECT hits, reset_at FROM rate_limit_hits WHERE key = $1 AND reset_at > now()', [this.prefix + key]);
    const row = rows[0];
    return row ? { totalHits: row.hits, resetTime: row.reset_at } : undefined;
  }

  async decrement(key: string): Promise<void> {
    await this.pool.query('UPDATE rate_limit_hits SET hits = greatest(hits - 1, 0) WHERE key = $1 AND reset_at > now()', [this.prefix + key]);
  }

  async resetKey(key: string): Promise<void> {
    await this.pool.query('DELETE FROM rate_limit_hits WHERE key = $1', [this.prefix + key]);
  }

  /** Rows of ended windows count for nothing: the next hit would start over anyway. */
  async prune(): Promise<void> {
    await this.pool.query('DELETE FROM rate_limit_hits WHERE reset_at <= now()');
  }

  shutdown(): void {
    clearInterval(this.pruning);
    this.pruning = undefined;
  }
}
