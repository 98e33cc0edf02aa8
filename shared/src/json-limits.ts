/**
 * Limits on what JSON Warren accepts, checked in one walk: no text (key or string value) may
 * contain U+0000 or an unpaired UTF-16 surrogate (`"\ud800"` is valid JSON), which PostgreSQL
 * cannot store in text or jsonb (a message holding one could never be stored, only retried and
 * dead-lettered), and nesting is bounded, so no later
 * recursive step (JSON.stringify, jsonb, a client's renderer) meets a 5 000-level document.
 * The walk is iterative with an explicit stack: a hostile document cannot overflow ours either.
 */

export type JsonViolation = { kind: 'nul' | 'depth'; path: string };

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True if `s` holds what PostgreSQL cannot store as text: U+0000 or an unpaired surrogate. */
export function hasUnstorableText(s: string): boolean {
  return s.includes('\u0000') || UNPAIRED_SURROGATE.test(s);
}

/**
 * The first violation found in `value`, or undefined. Depth counts containers: `{}` and `[]`
 * are 1, `{"a":{}}` is 2, a scalar is 0. `path` names the offending place with dots (`data.a.0`),
 * prefixed by `base` when given.
 */
export function findJsonViolation(value: unknown, maxDepth: number, base = ''): JsonViolation | undefined {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 0, path: base }];
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown; depth: number; path: string };
    const v = item.value;
    if (typeof v === 'string') {
      if (hasUnstorableText(v)) return { kind: 'nul', path: item.path || '(root)' };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    const depth = item.depth + 1;
    if (depth > maxDepth) return { kind: 'depth', path: item.path || '(root)' };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], depth, path: join(item.path, String(i)) });
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      const path = join(item.path, key);
      if (hasUnstorableText(key)) return { kind: 'nul', path };
      stack.push({ value: (v as Record<string, unknown>)[key], depth, path });
    }
  }
  return undefined;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
