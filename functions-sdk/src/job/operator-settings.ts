import { InvalidJobError } from "../errors.js";
import type { OperatorNode } from "./graph.js";

/** Settings shared by operators, sinks and functions operators, in Flink's names. */
export abstract class OperatorSettings<Self> {
  /** @internal */
  constructor(readonly node: OperatorNode) {}
  protected abstract self(): Self;

  /** A stable id: state in savepoints is matched to operators by uid. */
  uid(uid: string): Self {
    if (uid.length === 0) throw new InvalidJobError(this.node.name, "uid must not be empty");
    this.node.uid = uid;
    this.node.uidSet = true;
    return this.self();
  }
  name(name: string): Self {
    this.node.name = name;
    return this.self();
  }
  setParallelism(parallelism: number): Self {
    this.node.parallelism = parallelism;
    return this.self();
  }
  setMaxParallelism(maxParallelism: number): Self {
    this.node.maxParallelism = maxParallelism;
    return this.self();
  }
  /** Starts a new chain at this operator: it is not chained to its input. */
  startNewChain(): Self {
    this.node.chaining = "head";
    return this.self();
  }
  /** Chains this operator with neither its input nor its output. */
  disableChaining(): Self {
    this.node.chaining = "never";
    return this.self();
  }
}
