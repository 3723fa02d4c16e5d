import { InvalidSubjectTokenError } from "./errors.js";

const TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * The NATS subjects of one job. Every subject starts with `kf.<jobId>.`, so jobs sharing a NATS
 * server never see each other's messages:
 * - `kf.<jobId>.e<edge>.s<targetShard>`: the elements of every channel of edge `edge` into shard
 *   `targetShard`, whatever their source shard (the channel id travels in the payload), so a
 *   receiving shard needs one subscription per input edge, not one per channel;
 * - `kf.<jobId>.c<channel>.credit`: the reader's grant for channel `channel`, as an absolute total;
 * - `kf.<jobId>.c<channel>.ask`: a writer without credit asks the reader to repeat its grant;
 * - `kf.<jobId>.control`: node status, failure and cancellation, seen by every node of the job;
 * - `kf.<jobId>.checkpoint.down`: the checkpoint coordinator (node 0) to every node: trigger, complete, abort;
 * - `kf.<jobId>.checkpoint.up`: nodes to the coordinator: their shards' snapshots, declined triggers;
 * - `kf.<jobId>.checkpoint.restore`: requests to the coordinator for the state a node restores;
 * - `kf.<jobId>.query`: queryable-state requests; every node hears each, the node owning the key's
 *   shard replies (node 0 replies to a query no node can answer, such as an unknown type).
 * - `kf.<jobId>.status`: requests for the job's status (JobStatus), answered by node 0, which
 *   leads the checkpoints.
 * - `kf.<jobId>.fb.l<location>`: messages between per-key functions (feedback batches, of every
 *   functions operator, with loop control messages) to the thread at location index `location`
 *   (node × threads per node + thread), from any node; no credit (the loop is unbounded).
 */
export class JobSubjects {
  readonly control: string;
  readonly checkpointDown: string;
  readonly checkpointUp: string;
  readonly checkpointRestore: string;
  readonly query: string;
  readonly status: string;
  private readonly prefix: string;

  /** Throws InvalidSubjectTokenError unless `jobId` is one subject token of letters, digits, "-" and "_". */
  constructor(readonly jobId: string) {
    if (!TOKEN.test(jobId)) throw new InvalidSubjectTokenError("job id", jobId);
    this.prefix = `kf.${jobId}`;
    this.control = `${this.prefix}.control`;
    this.checkpointDown = `${this.prefix}.checkpoint.down`;
    this.checkpointUp = `${this.prefix}.checkpoint.up`;
    this.checkpointRestore = `${this.prefix}.checkpoint.restore`;
    this.query = `${this.prefix}.query`;
    this.status = `${this.prefix}.status`;
  }

  data(edge: number, targetShard: number): string {
    return `${this.prefix}.e${edge}.s${targetShard}`;
  }

  credit(channelId: number): string {
    return `${this.prefix}.c${channelId}.credit`;
  }

  feedback(location: number): string {
    return `${this.prefix}.fb.l${location}`;
  }

  ask(channelId: number): string {
    return `${this.prefix}.c${channelId}.ask`;
  }
}

/** A job id made from a job name: characters a subject token may not hold become "_". */
export function jobIdFromName(name: string): string {
  const token = name.replace(/[^A-Za-z0-9_-]/g, "_");
  return token.length === 0 ? "job" : token;
}
