/**
 * Runs an operator command of the repository (as `npm run dlq -- …`, `npm run
 * directory:rebuild` or `npm run outbox:dead-letters -- …` would) in a child process with a test stack's variables, and collects its
 * exit code and output.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const DLQ_SCRIPT = 'services/notification/scripts/dlq.ts';
export const REBUILD_DIRECTORY_SCRIPT = 'services/auth/scripts/rebuild-directory.ts';
export const OUTBOX_DEAD_LETTERS_SCRIPT = 'services/auth/scripts/outbox-dead-letters.ts';

export function runCommand(script: string, args: string[], env: Record<string, string>): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
