/**
 * Public notification ids: the row's sequence number as 16 lowercase hex digits. Equal length
 * means they compare as strings exactly as they were created. The service handles a seq as a
 * JavaScript number (the database driver reads int8 as one), so an id names a seq only up to
 * 2^53 - 1 (001fffffffffffff): anything above is out of range, a client error like any other
 * malformed id, never a failed query or a rounded cursor.
 */
const ID = /^[0-9a-f]{16}$/;
const MAX_SEQ = BigInt(Number.MAX_SAFE_INTEGER);

export function toPublicId(seq: number | bigint | string): string {
  return BigInt(seq).toString(16).padStart(16, '0');
}

/** The sequence number (as a decimal string, for a bigint SQL parameter), or undefined if malformed or out of range. */
export function parsePublicId(id: string): string | undefined {
  if (!ID.test(id)) return undefined;
  const seq = BigInt(`0x${id}`);
  return seq <= MAX_SEQ ? seq.toString() : undefined;
}
