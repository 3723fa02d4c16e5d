import type { GroupKind } from "./keys.js";
import type { CheckpointMetadata, GroupRecord, ShardManifest } from "./records.js";

/** A key group record as the catalog keeps it: where it is, plus what LevelDB holds for it. */
export interface Group extends GroupRecord {
  readonly id: number;
  readonly uid: string;
  readonly keyGroup: number;
  readonly kind: GroupKind;
}

/**
 * The store's in-memory index of what LevelDB holds, loaded at open and kept in step with every
 * batch the store writes: retained checkpoints' metadata, the ids that completed, manifests, and
 * per (operator uid, key group) the list of group records sorted by (id, kind). Everything a
 * restore or a retention pass decides is computed here, without reading LevelDB.
 *
 * A key group's state at checkpoint c is its chain: the newest full record (a full snapshot or a
 * compacted base) with id <= c, then every newer completed snapshot record with id <= c, in order.
 */
export class Catalog {
  /** Completed checkpoints whose metadata is present: the ones that can be restored. */
  readonly metadata = new Map<number, CheckpointMetadata>();
  /** Ids that completed and still hold records (retained or not): only their records count. */
  readonly settled = new Set<number>();
  /** Manifests by checkpoint id, then by `uid \0 shard`. */
  readonly manifests = new Map<number, Map<string, ShardManifest>>();
  private readonly groups = new Map<string, Map<number, Group[]>>();

  manifest(id: number, uid: string, shard: number): ShardManifest | undefined {
    return this.manifests.get(id)?.get(manifestSlot(uid, shard));
  }

  addManifest(id: number, manifest: ShardManifest): void {
    let byShard = this.manifests.get(id);
    if (byShard === undefined) this.manifests.set(id, (byShard = new Map()));
    byShard.set(manifestSlot(manifest.uid, manifest.shardIndex), manifest);
  }

  addGroup(group: Group): void {
    let byKeyGroup = this.groups.get(group.uid);
    if (byKeyGroup === undefined) this.groups.set(group.uid, (byKeyGroup = new Map()));
    let list = byKeyGroup.get(group.keyGroup);
    if (list === undefined) byKeyGroup.set(group.keyGroup, (list = []));
    let at = list.length;
    while (at > 0 && compare(list[at - 1], group) > 0) at--;
    if (at > 0 && compare(list[at - 1], group) === 0) list[at - 1] = group;
    else list.splice(at, 0, group);
  }

  removeGroup(group: Group): void {
    const byKeyGroup = this.groups.get(group.uid);
    const list = byKeyGroup?.get(group.keyGroup);
    if (byKeyGroup === undefined || list === undefined) return;
    const at = list.findIndex((other) => compare(other, group) === 0);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) byKeyGroup.delete(group.keyGroup);
    if (byKeyGroup.size === 0) this.groups.delete(group.uid);
  }

  /** Drops everything the catalog knows of checkpoint id (an aborted or discarded checkpoint). */
  forget(id: number): void {
    this.metadata.delete(id);
    this.settled.delete(id);
    this.manifests.delete(id);
    for (const group of this.allGroups()) if (group.id === id) this.removeGroup(group);
  }

  *allGroups(): Generator<Group> {
    for (const byKeyGroup of this.groups.values()) for (const list of byKeyGroup.values()) yield* [...list];
  }

  /** Groups of one checkpoint id. */
  groupsOf(id: number): Group[] {
    return [...this.allGroups()].filter((group) => group.id === id);
  }

  /** Key groups of an operator that hold any record. */
  keyGroupsOf(uid: string): number[] {
    return [...(this.groups.get(uid)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** The records that make up key group `keyGroup` of `uid` at checkpoint `id`, oldest first. */
  chain(uid: string, keyGroup: number, id: number): Group[] {
    const list = this.groups.get(uid)?.get(keyGroup);
    if (list === undefined) return [];
    const chain: Group[] = [];
    for (let i = list.length - 1; i >= 0; i--) {
      const group = list[i];
      if (group.id > id || !group.complete || !this.settled.has(group.id)) continue;
      chain.push(group);
      if (group.full) break;
    }
    return chain.reverse();
  }

  /** The id a record written now for checkpoint `id` builds on: the newest completed record older than it, or -1. */
  prevOf(uid: string, keyGroup: number, id: number): number {
    const list = this.groups.get(uid)?.get(keyGroup);
    if (list === undefined) return -1;
    for (let i = list.length - 1; i >= 0; i--) {
      const group = list[i];
      if (group.id < id && group.complete && this.settled.has(group.id)) return group.id;
    }
    return -1;
  }

  /** The newest ids with metadata, newest first. */
  completedIds(): number[] {
    return [...this.metadata.keys()].sort((a, b) => b - a);
  }

  /** The highest id the catalog knows of (completed or not), or 0. */
  highestId(): number {
    let highest = 0;
    for (const id of this.settled) highest = Math.max(highest, id);
    for (const id of this.manifests.keys()) highest = Math.max(highest, id);
    return highest;
  }
}

/**
 * What is wrong with a chain, or undefined: every record's `prev` must be in the chain, or older
 * than a full first record that replaces it. A missing `prev` is a checkpoint the chain builds on
 * whose records are gone.
 */
export function chainProblem(chain: readonly Group[]): string | undefined {
  if (chain.length === 0) return undefined;
  const first = chain[0];
  const ids = new Set(chain.map((group) => group.id));
  for (const group of chain) {
    const prev = group.prev;
    if (prev === -1 || ids.has(prev) || (first.full && prev < first.id)) continue;
    return `the records of checkpoint ${prev}, which checkpoint ${group.id} builds on, are missing`;
  }
  return undefined;
}

function compare(a: Group, b: Group): number {
  return a.id - b.id || a.kind - b.kind;
}

function manifestSlot(uid: string, shard: number): string {
  return `${uid}\u0000${shard}`;
}
