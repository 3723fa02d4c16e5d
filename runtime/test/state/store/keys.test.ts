import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  blockKey,
  blocksStart,
  checkpointEnd,
  checkpointStart,
  groupKey,
  manifestKey,
  metadataKey,
  parseCheckpointKey,
  settledKey,
} from "../../../src/state/store/keys.js";

const uid = fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 });
const id = fc.integer({ min: 1, max: 0xffff_fffe });
const keyGroup = fc.integer({ min: 0, max: 0xffff });
const kind = fc.constantFrom<0 | 1>(0, 1);
const seq = fc.integer({ min: 0, max: 0xffff_ffff });

describe("checkpoint store key layout", () => {
  it("keeps every key of a checkpoint inside its range, small records before its blocks", () => {
    fc.assert(
      fc.property(id, uid, keyGroup, kind, seq, fc.integer({ min: 0, max: 0xffff }), (at, name, group, k, s, shard) => {
        const [start, end] = [checkpointStart(at), checkpointEnd(at)];
        const small = [metadataKey(at), settledKey(at), manifestKey(at, name, shard), groupKey(at, name, group, k)];
        const block = blockKey(at, name, group, k, s);
        for (const key of [...small, block]) {
          assert.ok(Buffer.compare(start, key) <= 0 && Buffer.compare(key, end) < 0);
        }
        for (const key of small) assert.ok(Buffer.compare(key, blocksStart(at)) < 0);
        assert.ok(Buffer.compare(blocksStart(at), block) <= 0);
      }),
    );
  });

  it("orders one operator's blocks by key group, kind and sequence, as numbers", () => {
    fc.assert(
      fc.property(id, uid, fc.tuple(keyGroup, kind, seq), fc.tuple(keyGroup, kind, seq), (at, name, a, b) => {
        const numeric = a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
        const bytes = Buffer.compare(blockKey(at, name, ...a), blockKey(at, name, ...b));
        assert.equal(Math.sign(bytes), Math.sign(numeric));
      }),
    );
  });

  it("parses back what it encodes", () => {
    fc.assert(
      fc.property(id, uid, keyGroup, kind, seq, (at, name, group, k, s) => {
        assert.deepEqual(parseCheckpointKey(groupKey(at, name, group, k)), {
          id: at,
          tag: 3,
          uid: name,
          keyGroup: group,
          kind: k,
        });
        assert.deepEqual(parseCheckpointKey(blockKey(at, name, group, k, s)), {
          id: at,
          tag: 4,
          uid: name,
          keyGroup: group,
          kind: k,
          seq: s,
        });
        assert.deepEqual(parseCheckpointKey(manifestKey(at, name, group)), { id: at, tag: 2, uid: name, shard: group });
        assert.deepEqual(parseCheckpointKey(metadataKey(at)), { id: at, tag: 0 });
      }),
    );
    assert.equal(parseCheckpointKey(Buffer.from([0x00, 0x66])), undefined);
  });
});
