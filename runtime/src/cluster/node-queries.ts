import { type HostPlace, type QueryableHost, readOnHost } from "../query/answer-on-host.js";
import { StateQueryError } from "../query/errors.js";
import { type QueryTarget, resolveQuery } from "../query/resolve-query.js";
import type { QueryReply, StateQuery } from "../query/state-query.js";
import { type NatsLink, NO_REPLY } from "../transport/nats-link.js";

/**
 * Serves queryable-state requests for one node of a static cluster on `kf.<jobId>.query`.
 *
 * Every node subscribes to the one subject and hears every request; each resolves it against the
 * plan (the same on every node, checked when they join) and only the node placement puts the key's
 * shard on replies, after reading the key on that shard's thread between two elements. A query no
 * node can answer (an unknown function type or uid, a malformed query) is answered by node 0
 * alone, so the asker gets one clear error rather than a timeout. One subject per job (rather than
 * one per node) keeps clients simple: they need the NATS URL and the job id, not the job's plan or
 * node count; the price is that every node decodes every query, which is cheap next to the read.
 * A node that is down leaves its keys' queries unanswered: the asker times out
 * (QUERY_JOB_UNREACHABLE). Serves until the link closes.
 */
export function serveNodeQueries(link: NatsLink, host: QueryableHost, place: HostPlace): void {
  link.serveSome(link.subjects.query, async (value): Promise<QueryReply | typeof NO_REPLY> => {
    let target: QueryTarget;
    try {
      target = resolveQuery(host.plan, value as StateQuery, place);
    } catch (error) {
      return place.node === 0 ? { ok: false, error: StateQueryError.wireOf(error) } : NO_REPLY;
    }
    if (target.location.node !== place.node) return NO_REPLY;
    try {
      return { ok: true, answer: await readOnHost(host, target, place) };
    } catch (error) {
      return { ok: false, error: StateQueryError.wireOf(error) };
    }
  });
}
