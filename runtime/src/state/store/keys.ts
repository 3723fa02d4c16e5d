/**
 * The LevelDB key layout of the checkpoint store (format 1). Keys are binary and sort by
 * checkpoint id first, so everything one checkpoint wrote is one contiguous range: aborting or
 * dropping a checkpoint is one range delete, and a damaged table file written while checkpoint n
 * was taken rarely overlaps the key range of an older checkpoint.
 *
 * ```
 * 00 'f'                                          store format record
 * 01 id:u32                                       start of checkpoint id's range
 * 01 id:u32 00                                    checkpoint metadata (present while retained)
 * 01 id:u32 01                                    settled: id completed (kept while any of its data is)
 * 01 id:u32 02 uid shard:u16                      shard manifest (mode, key groups, list state)
 * 01 id:u32 03 uid keyGroup:u16 kind:u8           key group record (blocks, entries, bytes, prev)
 * 01 id:u32 04 uid keyGroup:u16 kind:u8 seq:u32   block of entries of that key group
 * ```
 * `uid` is a u16 byte length and the UTF-8 bytes. `kind` 0 is what checkpoint id's snapshot
 * wrote; kind 1 is a base the store compacted at id (the merged view of that key group at id).
 * All numbers are big-endian, so numeric order is byte order.
 */

export const MAX_CHECKPOINT_ID = 0xffff_fffe;
export const MAX_KEY_GROUPS = 0x1_0000;

export const TAG_METADATA = 0x00;
export const TAG_SETTLED = 0x01;
export const TAG_MANIFEST = 0x02;
export const TAG_GROUP = 0x03;
export const TAG_BLOCK = 0x04;

export type GroupKind = 0 | 1;
export const KIND_SNAPSHOT: GroupKind = 0;
export const KIND_BASE: GroupKind = 1;

const CHECKPOINTS = 0x01;

export const FORMAT_KEY: Buffer = Buffer.from([0x00, 0x66]);
/** Everything after the format record. */
export const ALL_CHECKPOINTS_START: Buffer = Buffer.from([CHECKPOINTS]);
export const ALL_CHECKPOINTS_END: Buffer = Buffer.from([CHECKPOINTS + 1]);

export function checkpointStart(id: number): Buffer {
  const key = Buffer.allocUnsafe(5);
  key[0] = CHECKPOINTS;
  key.writeUInt32BE(id, 1);
  return key;
}

/** The first key after checkpoint id's range. */
export function checkpointEnd(id: number): Buffer {
  return checkpointStart(id + 1);
}

function tagged(id: number, tag: number, extra = 0): Buffer {
  const key = Buffer.allocUnsafe(6 + extra);
  key[0] = CHECKPOINTS;
  key.writeUInt32BE(id, 1);
  key[5] = tag;
  return key;
}

export function metadataKey(id: number): Buffer {
  return tagged(id, TAG_METADATA);
}

export function settledKey(id: number): Buffer {
  return tagged(id, TAG_SETTLED);
}

/** The first key after checkpoint id's small records (metadata, settled, manifests, groups): where its blocks start. */
export function blocksStart(id: number): Buffer {
  return tagged(id, TAG_BLOCK);
}

export function manifestKey(id: number, uid: string, shard: number): Buffer {
  const length = Buffer.byteLength(uid);
  const key = tagged(id, TAG_MANIFEST, 2 + length + 2);
  writeUid(key, 6, uid, length);
  key.writeUInt16BE(shard, 8 + length);
  return key;
}

export function groupKey(id: number, uid: string, keyGroup: number, kind: GroupKind): Buffer {
  const length = Buffer.byteLength(uid);
  const key = tagged(id, TAG_GROUP, 2 + length + 3);
  writeUid(key, 6, uid, length);
  key.writeUInt16BE(keyGroup, 8 + length);
  key[10 + length] = kind;
  return key;
}

export function blockKey(id: number, uid: string, keyGroup: number, kind: number, seq: number): Buffer {
  const length = Buffer.byteLength(uid);
  const key = tagged(id, TAG_BLOCK, 2 + length + 7);
  writeUid(key, 6, uid, length);
  key.writeUInt16BE(keyGroup, 8 + length);
  key[10 + length] = kind;
  key.writeUInt32BE(seq, 11 + length);
  return key;
}

/** The range of a key group's blocks of one kind: [start, end). */
export function blockRange(id: number, uid: string, keyGroup: number, kind: GroupKind): [Buffer, Buffer] {
  return [blockKey(id, uid, keyGroup, kind, 0), blockKey(id, uid, keyGroup, kind + 1, 0)];
}

function writeUid(key: Buffer, at: number, uid: string, length: number): void {
  if (length > 0xffff) throw new RangeError(`operator uid of ${length} bytes is too long`);
  key.writeUInt16BE(length, at);
  key.write(uid, at + 2, "utf8");
}

/** A decoded key of a checkpoint's range. */
export type CheckpointKey =
  | { readonly id: number; readonly tag: typeof TAG_METADATA | typeof TAG_SETTLED }
  | { readonly id: number; readonly tag: typeof TAG_MANIFEST; readonly uid: string; readonly shard: number }
  | {
      readonly id: number;
      readonly tag: typeof TAG_GROUP;
      readonly uid: string;
      readonly keyGroup: number;
      readonly kind: GroupKind;
    }
  | {
      readonly id: number;
      readonly tag: typeof TAG_BLOCK;
      readonly uid: string;
      readonly keyGroup: number;
      readonly kind: GroupKind;
      readonly seq: number;
    };

/** Decodes a key of a checkpoint's range, or undefined for a key of another shape. */
export function parseCheckpointKey(key: Buffer): CheckpointKey | undefined {
  if (key.length < 5 || key[0] !== CHECKPOINTS) return undefined;
  const id = key.readUInt32BE(1);
  if (key.length === 5) return undefined;
  const tag = key[5];
  if (tag === TAG_METADATA || tag === TAG_SETTLED) return key.length === 6 ? { id, tag } : undefined;
  if (key.length < 8) return undefined;
  const length = key.readUInt16BE(6);
  const uid = key.toString("utf8", 8, 8 + length);
  const rest = key.length - 8 - length;
  if (tag === TAG_MANIFEST && rest === 2) return { id, tag, uid, shard: key.readUInt16BE(8 + length) };
  if ((tag === TAG_GROUP && rest === 3) || (tag === TAG_BLOCK && rest === 7)) {
    const kind = key[10 + length];
    if (kind !== KIND_SNAPSHOT && kind !== KIND_BASE) return undefined;
    const keyGroup = key.readUInt16BE(8 + length);
    return tag === TAG_GROUP
      ? { id, tag, uid, keyGroup, kind }
      : { id, tag, uid, keyGroup, kind, seq: key.readUInt32BE(11 + length) };
  }
  return undefined;
}

/** The checkpoint id of a key of a checkpoint's range. */
export function checkpointIdOf(key: Buffer): number | undefined {
  return key.length >= 5 && key[0] === CHECKPOINTS ? key.readUInt32BE(1) : undefined;
}
