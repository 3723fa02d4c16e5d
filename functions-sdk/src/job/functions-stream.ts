import { InvalidJobError } from "../errors.js";
import type { Address } from "../function/address.js";
import type { AnyFunctionType, FunctionType } from "../function/define-function.js";
import type { DeadLetter, Egress } from "../function/egress.js";
import type { Key } from "../key.js";
import { DataStream } from "./data-stream.js";
import type { EdgeSpec, OperatorNode } from "./graph.js";
import type { GraphBuilder } from "./graph-builder.js";
import { OperatorSettings } from "./operator-settings.js";

/**
 * A message from ingress to one function: `{ to: counter.address(id), message }`. For a list of
 * function types it is the union, over the types, of a matching address and message, so routing a
 * message to an address that does not accept it fails to compile.
 */
export type Routed<Fs extends readonly AnyFunctionType[]> = {
  [I in keyof Fs]: Fs[I] extends FunctionType<infer M, infer _S>
    ? { readonly to: Address<M>; readonly message: M }
    : never;
}[number];

/** Turns an ingress record into a message for one address. */
export type Router<T, Fs extends readonly AnyFunctionType[]> = (record: T) => Routed<Fs>;

/** What `toFunctions` takes. */
export interface FunctionsOptions<T, Fs extends readonly AnyFunctionType[]> {
  /** The function types this operator hosts; messages between them stay inside it. */
  readonly functions: Fs;
  /** Routes each record of the stream to an address. */
  readonly route: Router<T, Fs>;
  /**
   * Where a message goes when its handler throws, with the error: the job then goes on with other
   * messages instead of failing. Read it with `functions.egress(tag)`. Default: the job fails.
   */
  readonly deadLetters?: Egress<DeadLetter>;
}

/** The key of a routed message: its address's id (checked, so a bad router fails with a clear error). */
export function routedKey(routed: unknown): Key {
  const to = (routed as { to?: { id?: unknown; type?: unknown } } | undefined)?.to;
  if (to === undefined || to === null || typeof to.id !== "string" || typeof to.type !== "string") {
    throw new TypeError(
      "a router must return { to: address, message } with an address made by functionType.address(id)",
    );
  }
  return to.id;
}

/**
 * A functions operator: the function types it hosts, fed by one or more ingress streams, with its
 * egress streams. One operator per call of `toFunctions`; every function type in it may message
 * every other (and itself) in any cycle. Keyed by the address id: a message for id `x` is handled
 * on the shard owning `x`'s key group, with that address's state.
 *
 * ```ts
 * const functions = orders
 *   .toFunctions({ functions: [cart, inventory], route: (o) => ({ to: cart.address(o.user), message: o }) })
 *   .uid("shop");
 * functions.ingress(restocks, (r) => ({ to: inventory.address(r.sku), message: { kind: "restock", n: r.n } }));
 * functions.egress(receipts).collect(receiptsSink);
 * ```
 */
export class FunctionsStream<Fs extends readonly AnyFunctionType[]> extends OperatorSettings<FunctionsStream<Fs>> {
  /** @internal */
  constructor(
    private readonly builder: GraphBuilder,
    node: OperatorNode,
  ) {
    super(node);
  }

  protected self(): FunctionsStream<Fs> {
    return this;
  }

  /** Routes another stream into these functions. */
  ingress<T>(stream: DataStream<T>, route: Router<T, Fs>): this {
    this.node.inputs.push(...routeInto(this.builder, stream, route as (record: T) => unknown));
    return this;
  }

  /** The values handlers emitted with `ctx.egress(tag, value)`, as a stream. */
  egress<T>(tag: Egress<T>): DataStream<T> {
    return new DataStream<T>(this.builder, [{ from: this.node.id, sideOutput: tag.id }]);
  }
}

/** Adds the router (a map chained to the stream) and returns its edge into a functions operator. */
function routeInto<T>(builder: GraphBuilder, stream: DataStream<T>, route: (record: T) => unknown): EdgeSpec[] {
  if (typeof route !== "function") throw new InvalidJobError("Route", "toFunctions needs a route function");
  const inputs = stream.edges(0);
  const router = builder.add({ kind: "map", fn: route }, inputs, "Route");
  // The router takes its stream's parallelism (when set), so it chains to it: a stream of one
  // shard keeps each key's order into the functions, instead of a rebalance over the router's shards.
  const upstream = inputs.length === 1 ? builder.nodes[(inputs[0] as EdgeSpec).from] : undefined;
  if (upstream?.parallelism !== undefined && (inputs[0] as EdgeSpec).partitioner.kind === "auto") {
    router.parallelism = upstream.parallelism;
  }
  return [
    {
      from: router.id,
      inputIndex: 0,
      partitioner: { kind: "hash", key: routedKey },
      sideOutput: undefined,
    },
  ];
}

/** Builds a functions operator fed by `stream` (DataStream.toFunctions). */
export function functionsOperator<T, Fs extends readonly AnyFunctionType[]>(
  builder: GraphBuilder,
  stream: DataStream<T>,
  options: FunctionsOptions<T, Fs>,
): FunctionsStream<Fs> {
  const types = new Set<string>();
  for (const fn of options.functions) {
    if (types.has(fn.type)) {
      throw new InvalidJobError("Functions", `function type "${fn.type}" is given twice`);
    }
    types.add(fn.type);
  }
  if (types.size === 0) throw new InvalidJobError("Functions", "toFunctions needs at least one function type");
  const inputs = routeInto(builder, stream, options.route as (record: T) => unknown);
  const node = builder.add(
    { kind: "functions", functions: [...options.functions], deadLetters: options.deadLetters?.id },
    inputs,
    "Functions",
  );
  return new FunctionsStream<Fs>(builder, node);
}
