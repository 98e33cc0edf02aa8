// The Node options of a service, from scripts/node-options.txt (what that file says and why).
import { readFileSync } from 'node:fs';

const FILE = new URL('./node-options.txt', import.meta.url);

/** The options `service` is started with (none if the file does not name it). */
export function nodeOptionsOf(service) {
  for (const line of readFileSync(FILE, 'utf8').split('\n')) {
    const [name, ...options] = line.trim().split(/\s+/);
    if (name === service && !line.trim().startsWith('#')) return options;
  }
  return [];
}
