/**
 * Float64Arrays for columns copied at a snapshot's mark, reused from one checkpoint to the next:
 * a fresh array of a million numbers costs its page faults on first write (copying a million
 * keys and values measured 53 ms into fresh arrays, 7 ms into reused ones). They are given back
 * once the block encoder has encoded them.
 *
 * Their buffers are SharedArrayBuffers, so the encoder's thread reads them where they are: a
 * shard's thread must never transfer (detach) an ArrayBuffer. The first detach in a process
 * invalidates V8's array-buffer-detaching protector for good, and from then on every typed array
 * access in optimized code checks for a detached buffer: the checkpoints benchmark's counting job
 * (its state a Float64Array hash table, state/number-key-map.ts) ran about a fifth slower after
 * one detach of an unrelated 8-byte buffer, checkpoints or not.
 */
const pool: SharedArrayBuffer[] = [];
/** Buffers kept: a few tables' worth; the rest are left to the garbage collector. */
const MAX_POOLED = 4;

/** A Float64Array of `length` (contents undefined), on a pooled buffer when one is large enough. */
export function takeFloat64Array(length: number): Float64Array {
  const bytes = length * Float64Array.BYTES_PER_ELEMENT;
  for (let i = 0; i < pool.length; i++) {
    const buffer = pool[i] as SharedArrayBuffer;
    if (buffer.byteLength >= bytes) {
      pool.splice(i, 1);
      return new Float64Array(buffer, 0, length);
    }
  }
  // Room to grow: a table that gained keys reuses it next time.
  const bytes125 = Math.ceil(length * 1.25) * Float64Array.BYTES_PER_ELEMENT;
  return new Float64Array(new SharedArrayBuffer(bytes125), 0, length);
}

/** Gives a buffer back for reuse; nothing may use it afterwards. Buffers not from the pool are left to the garbage collector. */
export function giveBackBuffer(buffer: ArrayBufferLike): void {
  if (buffer instanceof SharedArrayBuffer && buffer.byteLength > 0 && pool.length < MAX_POOLED) pool.push(buffer);
}
