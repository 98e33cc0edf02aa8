/**
 * Operator command: `npm run directory:rebuild` (or `npm run directory:rebuild -w services/auth`).
 * Announces every user again (`user.upserted` at its current version) through the auth outbox,
 * so that a consumer's user directory that lost updates (a dead-lettered event, a restored
 * backup) is complete again: consumers keep the highest version they saw, so users they already
 * have change nothing, and missing ones come back. The running auth service's relay publishes
 * the events; this command waits until it has (up to --wait seconds, 0 to not wait).
 * Uses the service's own variables (APP_ENV, AUTH_DATABASE_URL).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import dotenv from 'dotenv';
import { ConfigError } from '@warren/shared/config';
import { createPool } from '@warren/shared/db/database';
import { createLogger } from '@warren/shared/logger';
import { loadAuthConfig } from '../src/config.js';
import { OutboxRepository } from '../src/db/outbox-repository.js';
import { UsersRepository } from '../src/db/users-repository.js';

const USAGE = `Usage: npm run directory:rebuild [-- --wait SECONDS]

Announces every user again (user.upserted, at its current version) through the auth outbox, so
that the notification service's user directory gets back any user it lost. Users it already has
are unchanged (it keeps the highest version it saw). The running auth service publishes the
events; the command waits until they are published.

Options:
  --wait SECONDS   how long to wait for the auth service to publish them (default 60; 0: do not wait)
  -h, --help       this text

Environment: APP_ENV (dev), AUTH_DATABASE_URL, as for the auth service.
Exit status: 0 announced (and published, when waiting), 1 bad usage or configuration or database
unreachable, 2 not all published within --wait (is the auth service running? they stay queued), or
some dead-lettered (npm run outbox:dead-letters -- list).`;

const POLL_MS = 250;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { wait: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const waitSeconds = Number(values.wait ?? 60);
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0) throw new UsageError('--wait must be a whole number of seconds');

  // Like the service: a .env where npm was started fills in what the environment does not set.
  dotenv.config({ quiet: true, path: join(process.env.INIT_CWD ?? process.cwd(), '.env') });
  const config = loadAuthConfig();
  const logger = createLogger({ service: 'auth', env: config.appEnv, level: config.logLevel });
  const pool = createPool(config.databaseUrl, 1, logger);
  try {
    const { users, firstOutboxId, lastOutboxId } = await new UsersRepository(pool).announceAll();
    process.stdout.write(`${users} user${users === 1 ? '' : 's'} announced through the outbox\n`);
    if (firstOutboxId === undefined || lastOutboxId === undefined || waitSeconds === 0) return 0;
    const outbox = new OutboxRepository(pool);
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      const { pending, deadLettered } = await outbox.progressBetween(firstOutboxId, lastOutboxId);
      if (pending === 0 && deadLettered > 0) {
        process.stdout.write(`${deadLettered} could not be published: see npm run outbox:dead-letters -- list\n`);
        return 2;
      }
      if (pending === 0) {
        process.stdout.write('all published\n');
        return 0;
      }
      if (Date.now() >= deadline) {
        process.stdout.write(`${pending} not published yet: they stay in the outbox until an auth service publishes them\n`);
        return 2;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    await pool.end();
  }
}

class UsageError extends Error {}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`directory:rebuild: ${(err as Error).message}\n\n${USAGE}\n`);
  } else {
    process.stderr.write(`directory:rebuild: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
  }
  process.exitCode = 1;
}
