/**
 * Operator command for auth's outbox dead letters (rows the relay could never publish):
 * `npm run outbox:dead-letters -- list|replay|discard ...` (or `-w services/auth`). Lists what
 * died and why, moves rows back to the outbox once the cause is fixed (rows that would fail
 * again are kept), and deletes one that never will publish. Payloads are printed only with
 * --payloads. Uses the service's variables (APP_ENV, AUTH_DATABASE_URL). The work is in
 * shared/src/messaging/outbox-dead-letters.ts.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import dotenv from 'dotenv';
import { z } from 'zod';
import { ConfigError } from '@warren/shared/config';
import { createPool } from '@warren/shared/db/database';
import { createLogger } from '@warren/shared/logger';
import {
  discardOutboxDeadLetter,
  listOutboxDeadLetters,
  replayOutboxDeadLetters,
  type OutboxDeadLetter,
} from '@warren/shared/messaging/outbox-dead-letters';
import { loadAuthConfig } from '../src/config.js';
import { AUTH_OUTBOX } from '../src/db/outbox-repository.js';

const USAGE = `Usage: npm run outbox:dead-letters -- <command> [options]

Commands:
  list [--limit N]              how many rows auth's outbox could never publish, and the first N
                                (default 100): outbox id, message id, routing key, when it was
                                written and dead-lettered, size, and why
       [--payloads]             also print each payload (may contain personal data)
  replay [--limit N]            move dead letters back to the outbox, oldest first (all, or the
                                first N), for the running auth service to publish; a row that
                                still fails its schema is kept, with why
         [--message-id ID]      only the row with this message id
  discard --message-id ID       delete the row with this message id for good

Options:
  --json                        machine-readable output
  -h, --help                    this text

Environment: APP_ENV (dev), AUTH_DATABASE_URL, as for the auth service.
Exit status: 0 done, 1 bad usage or configuration or database unreachable, 2 some rows were kept
(replay) or no row has that message id (discard).`;

class UsageError extends Error {}

const UNDEFINED_TABLE = '42P01';

function positive(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${option} must be a positive whole number`);
  return n;
}

function messageId(value: string | undefined): string | undefined {
  if (value !== undefined && !z.uuid().safeParse(value).success) throw new UsageError('--message-id must be a UUID');
  return value;
}

function line(d: OutboxDeadLetter, extra = ''): string {
  return `${d.outboxId}  ${d.messageId}  ${d.routingKey}  written ${d.createdAt.toISOString()}  dead-lettered ${d.deadLetteredAt.toISOString()}  ${d.bytes} B${extra}\n    ${d.error}`;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      limit: { type: 'string' },
      'message-id': { type: 'string' },
      payloads: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (command !== 'list' && command !== 'replay' && command !== 'discard') {
    throw new UsageError(command ? `unknown command "${command}"` : 'name a command');
  }
  const limit = positive(values.limit, '--limit');
  const id = messageId(values['message-id']);
  if (values.payloads && command !== 'list') throw new UsageError('--payloads is for list');
  if (id && command === 'list') throw new UsageError('--message-id is for replay and discard');
  if (command === 'discard' && (!id || limit !== undefined)) throw new UsageError('discard takes --message-id, and only that');
  const out = (human: string, json: unknown) => process.stdout.write(values.json ? `${JSON.stringify(json)}\n` : `${human}\n`);

  // Like the service: a .env where npm was started fills in what the environment does not set.
  dotenv.config({ quiet: true, path: join(process.env.INIT_CWD ?? process.cwd(), '.env') });
  const config = loadAuthConfig();
  const logger = createLogger({ service: 'auth', env: config.appEnv, level: config.logLevel });
  const pool = createPool(config.databaseUrl, 1, logger);
  try {
    if (command === 'list') {
      const listing = await listOutboxDeadLetters(pool, { limit: limit ?? 100, withPayloads: values.payloads ?? false });
      const shown = listing.items.length < listing.total ? `, first ${listing.items.length} shown` : '';
      const human = [
        `outbox_dead_letters: ${listing.total} row${listing.total === 1 ? '' : 's'}${shown}`,
        ...listing.items.map((d) => line(d, d.payload !== undefined ? `\n    ${JSON.stringify(d.payload)}` : '')),
      ].join('\n');
      out(human, listing);
      return 0;
    }
    if (command === 'replay') {
      const result = await replayOutboxDeadLetters(pool, AUTH_OUTBOX, { limit, messageId: id });
      const human = [
        `replayed ${result.replayed.length}, kept ${result.kept.length}`,
        ...result.replayed.map((d) => `replayed  ${d.messageId}  ${d.routingKey}  → outbox id ${d.newOutboxId}`),
        ...result.kept.map((d) => `kept      ${d.messageId}  ${d.routingKey}  (${d.why})`),
        ...(result.replayed.length ? ['the running auth service publishes the replayed rows'] : []),
      ].join('\n');
      out(human, result);
      return result.kept.length > 0 ? 2 : 0;
    }
    const discarded = await discardOutboxDeadLetter(pool, id as string);
    out(discarded.length ? discarded.map((d) => `discarded ${line(d)}`).join('\n') : `no dead letter has message id ${id}`, { discarded });
    return discarded.length ? 0 : 2;
  } catch (err) {
    if ((err as { code?: unknown }).code === UNDEFINED_TABLE) {
      throw new Error('this database has no outbox_dead_letters table yet: start the auth service once (it migrates it)');
    }
    throw err;
  } finally {
    await pool.end();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`outbox:dead-letters: ${(err as Error).message}\n\n${USAGE}\n`);
  } else {
    process.stderr.write(`outbox:dead-letters: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
  }
  process.exitCode = 1;
}
