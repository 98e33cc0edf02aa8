/**
 * Public notification ids: the row's sequence number as 16 lowercase hex digits. Equal length
 * means they compare as strings exactly as they were created, for the whole bigint range.
 */
const ID = /^[0-9a-f]{16}$/;

export function toPublicId(seq: number | bigint | string): string {
  return BigInt(seq).toString(16).padStart(16, '0');
}

/** The sequence number (as a decimal string, for a bigint SQL parameter), or undefined if malformed. */
export function parsePublicId(id: string): string | undefined {
  return ID.test(id) ? BigInt(`0x${id}`).toString() : undefined;
}
