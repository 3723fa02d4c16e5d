import type { KeyedColumns } from "../snapshot.js";

/** What to encode: the columns of one shard's snapshot (one per copied state), and where their blocks go. */
export interface ColumnsJob {
  readonly id: number;
  readonly uid: string;
  /** The shard's key groups: a key outside them fails the job. */
  readonly start: number;
  readonly end: number;
  readonly blockEntries: number;
  readonly blockBytes: number;
  readonly columns: readonly KeyedColumns[];
  /** A buffer for the output (set by the encoder's thread: its last written job's); else a new one. */
  readonly spare?: ArrayBuffer;
}

/**
 * The blocks of a ColumnsJob, in few objects so they cross threads cheaply: every block's
 * LevelDB key and value back to back in `data`, four numbers per block in `ops` (key offset,
 * key length, value offset, value length), and three per key group of start..end in `groups`
 * (blocks written, entries, bytes), from which the writer continues each key group's blocks.
 */
export interface EncodedColumns {
  readonly data: Uint8Array;
  readonly ops: Int32Array;
  readonly groups: Int32Array;
  /** The encoder wrote the blocks to LevelDB itself (`data` and `ops` are then empty). */
  readonly written?: boolean;
}

/** Encodes ColumnsJobs off the writing thread (BlockEncoder). */
export interface ColumnsEncoder {
  /** The blocks of `job`; a key outside the job's key groups gives `{ outOfRange }` with its key group. */
  encode(job: ColumnsJob): Promise<EncodedColumns | { readonly outOfRange: number }>;
  close(): Promise<void>;
}
