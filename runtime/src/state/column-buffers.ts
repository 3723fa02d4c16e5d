/**
 * Float64Arrays for columns copied at a snapshot's mark, reused from one checkpoint to the next:
 * a fresh array of a million numbers costs its page faults on first write (copying a million
 * keys and values measured 53 ms into fresh arrays, 7 ms into reused ones). The block encoder
 * gives the buffers back once it has encoded them.
 */
const pool: ArrayBuffer[] = [];
/** Buffers kept: a few tables' worth; the rest are left to the garbage collector. */
const MAX_POOLED = 4;

/** A Float64Array of `length` (contents undefined), on a pooled buffer when one is large enough. */
export function takeFloat64Array(length: number): Float64Array {
  const bytes = length * Float64Array.BYTES_PER_ELEMENT;
  for (let i = 0; i < pool.length; i++) {
    const buffer = pool[i] as ArrayBuffer;
    if (buffer.byteLength >= bytes) {
      pool.splice(i, 1);
      return new Float64Array(buffer, 0, length);
    }
  }
  // Room to grow: a table that gained keys reuses it next time.
  return new Float64Array(new ArrayBuffer(Math.ceil(length * 1.25) * Float64Array.BYTES_PER_ELEMENT), 0, length);
}

/** Gives a buffer back for reuse; nothing may use it afterwards. */
export function giveBackBuffer(buffer: ArrayBuffer): void {
  if (buffer.byteLength > 0 && pool.length < MAX_POOLED) pool.push(buffer);
}
