/** The options `service` is started with, from scripts/node-options.txt (none if it names none). */
export function nodeOptionsOf(service: string): string[];
