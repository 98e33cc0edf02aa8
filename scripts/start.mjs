#!/usr/bin/env node
// `npm start`: the three services in one terminal, for development. Two things a plain
// `concurrently` command line cannot do:
// - the services' stdout is a pipe here, never a terminal, so they would log JSON; when this
//   script's own stdout is a terminal (and NODE_ENV is not production) it asks them for
//   readable lines (LOG_FORMAT=pretty), unless LOG_FORMAT says otherwise;
// - Ctrl-C must not look like a crash: each service drains, prints one "stopped" line and
//   exits 0; concurrently's own "exited with code 0" line is left out (a non-zero exit is
//   still reported), and this script exits 0 when every service did.
// - the portals of `npm run portals` (PORTALS_PORT, default 8080) call the stack from their own
//   origin, so unless CORS_ORIGINS says otherwise (here or in .env) it allows that origin, as
//   http://localhost and http://127.0.0.1; never with NODE_ENV=production.
// Commands start with `exec` so the shell concurrently spawns them through is replaced by
// node: a shell waiting on a child dies of the terminal's SIGINT and would report it.
import { join } from 'node:path';
import { concurrently, Logger } from 'concurrently';
import dotenv from 'dotenv';

// The services read .env themselves; read here too, so that a CORS_ORIGINS set there wins.
dotenv.config({ quiet: true, path: join(process.env.INIT_CWD ?? process.cwd(), '.env') });

class QuietCleanExits extends Logger {
  logCommandEvent(text, command) {
    if (/ exited with code 0$/.test(text)) return;
    super.logCommandEvent(text, command);
  }
}

const pretty = !process.env.LOG_FORMAT && process.stdout.isTTY && process.env.NODE_ENV !== 'production';
const env = pretty ? { LOG_FORMAT: 'pretty' } : {};
if (!process.env.CORS_ORIGINS && process.env.NODE_ENV !== 'production') {
  const port = process.env.PORTALS_PORT || '8080';
  env.CORS_ORIGINS = `http://localhost:${port},http://127.0.0.1:${port}`;
}
const service = (name, dir, prefixColor) => ({ name, prefixColor, env, command: `exec node --import tsx services/${dir}/src/main.ts` });

const { result } = concurrently(
  [service('auth', 'auth', 'blue'), service('main', 'main-backend', 'green'), service('notif', 'notification', 'magenta')],
  {
    logger: new QuietCleanExits({ hide: [] }),
    // One service failing (e.g. a bad variable) stops the others instead of leaving half a stack.
    killOthersOn: ['failure'],
    successCondition: 'all',
  },
);
result.then(
  () => process.exit(0),
  () => process.exit(1),
);
