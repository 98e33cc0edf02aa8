/** A logger whose lines are kept in memory: tests read them (correlation ids, no secrets). */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@warren/shared/logger';

export interface CapturedLogs {
  logger: Logger;
  lines: Record<string, unknown>[];
  text(): string;
}

export function captureLogs(service = 'test', level = 'debug'): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      const s = chunk.toString();
      raw.push(s);
      for (const line of s.split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: createLogger({ service, env: 'test', level, stream }), lines, text: () => raw.join('') };
}
