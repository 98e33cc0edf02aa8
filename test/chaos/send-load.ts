/**
 * A steady send load, as a careful client produces it: POST /notifications at a fixed rate,
 * each send with an Idempotency-Key of its own, and a send that answered 503 or 504, timed out
 * or lost its connection retried with the same key and body (backoff doubling from 100 ms to
 * 2 s) until it is accepted. Any other answer is kept as refused (a defect: the rows assert
 * none). Every attempt is recorded: when, how long its answer took, what it was.
 */
import { randomUUID } from 'node:crypto';
import { sleep } from '../support/http.js';

/** A request that takes longer than this is abandoned and retried, as a client with a timeout does. */
const REQUEST_TIMEOUT_MS = 15_000;
const RETRIED = new Set([503, 504]);

export interface Attempt {
  at: number;
  /** How long the answer (or the failure) took. */
  ms: number;
  /** The HTTP status; 0 for a connection error or a timeout. */
  status: number;
  /** For status 0: `connection refused`, `connection reset` (cut off after it was sent), `timeout`, or the error's code. */
  error?: string;
  /** For another status than 202: the problem's `code` (`broker_unavailable`…). */
  code?: string;
}

export interface Send {
  n: number;
  startedAt: number;
  acceptedAt?: number;
  /** The notification id of the 202. */
  id?: string;
  /** Another answer than 202/503/504/connection error: the send is given up. */
  refused?: { status: number; body: string };
  attempts: Attempt[];
}

export interface SendLoadOptions {
  mainUrl: string;
  token: () => string;
  recipients: string[];
  /** Sends started per second. */
  rate: number;
  /** Tags each notification's data, so a row's inbox items are told from others. */
  row: string;
}

export interface SendLoad {
  sends: Send[];
  /** Stops starting new sends and waits (at most `timeoutMs`) until every started send was accepted or refused. */
  stop(timeoutMs: number): Promise<void>;
}

export function startSendLoad(opts: SendLoadOptions): SendLoad {
  const sends: Send[] = [];
  const inFlight = new Set<Promise<void>>();
  let running = true;
  let giveUpAt = Infinity;

  const attempt = async (send: Send, key: string): Promise<{ status: number; body: string } | Attempt> => {
    const at = Date.now();
    try {
      const res = await fetch(`${opts.mainUrl}/notifications`, {
        method: 'POST',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.token()}`, 'idempotency-key': key },
        body: JSON.stringify({
          recipients: { userIds: opts.recipients },
          title: `${opts.row} #${send.n}`,
          body: 'chaos load',
          data: { row: opts.row, n: send.n },
        }),
      });
      const body = await res.text();
      send.attempts.push({ at, ms: Date.now() - at, status: res.status, ...(res.status === 202 ? {} : { code: problemCode(body) }) });
      return { status: res.status, body };
    } catch (err) {
      const failed: Attempt = { at, ms: Date.now() - at, status: 0, error: failureOf(err) };
      send.attempts.push(failed);
      return failed;
    }
  };

  const run = async (send: Send) => {
    const key = randomUUID();
    for (let wait = 100; Date.now() < giveUpAt; wait = Math.min(wait * 2, 2000)) {
      const answer = await attempt(send, key);
      if (answer.status === 202 && 'body' in answer) {
        send.acceptedAt = Date.now();
        send.id = (JSON.parse(answer.body) as { id: string }).id;
        return;
      }
      if (answer.status !== 0 && !RETRIED.has(answer.status)) {
        send.refused = { status: answer.status, body: 'body' in answer ? answer.body.slice(0, 300) : '' };
        return;
      }
      await sleep(wait / 2 + Math.random() * (wait / 2));
    }
  };

  const started = Date.now();
  const ticker = (async () => {
    // Sends are started on a fixed schedule, not after the previous one: a slow answer never slows the load.
    for (let n = 0; running; n++) {
      const dueAt = started + (n * 1000) / opts.rate;
      if (dueAt > Date.now()) await sleep(dueAt - Date.now());
      if (!running) break;
      const send: Send = { n, startedAt: Date.now(), attempts: [] };
      sends.push(send);
      const p = run(send).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  })();

  return {
    sends,
    async stop(timeoutMs) {
      running = false;
      await ticker;
      giveUpAt = Date.now() + timeoutMs;
      await Promise.all([...inFlight]);
    },
  };
}

/** What kind of connection failure an error is (undici wraps the socket's error in `cause`). */
function failureOf(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } };
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') return 'timeout';
  const code = e.cause?.code ?? (err as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'connection reset';
  return code ?? String((err as Error).message);
}

function problemCode(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { code?: string }).code;
  } catch {
    return undefined;
  }
}
