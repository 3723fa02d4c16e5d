import { FunctionDispatcherOperator } from "../handler/function-dispatcher-operator.js";
import { BroadcastProcessOperator } from "../operator/broadcast-process-operator.js";
import {
  CoFlatMapOperator,
  CoMapOperator,
  CoProcessOperator,
  KeyedCoProcessOperator,
} from "../operator/co-operators.js";
import { FieldAggregateOperator } from "../operator/field-aggregate-operator.js";
import { KeyedProcessOperator } from "../operator/keyed-process-operator.js";
import type { OperatorContext, StreamOperator } from "../operator/operator.js";
import { ProcessOperator } from "../operator/process-operator.js";
import { RollingReduceOperator } from "../operator/rolling-reduce-operator.js";
import { SinkOperator } from "../operator/sink-operator.js";
import { FilterOperator, FlatMapOperator, MapOperator } from "../operator/stateless-operators.js";
import { TimestampsAndWatermarksOperator } from "../operator/timestamps-and-watermarks-operator.js";
import { createWindowOperator } from "../window/create-window-operator.js";

/** The runtime's implementation of each operator kind of the SDK's graph (sources are driven by the shard). */
export function createOperator(context: OperatorContext): StreamOperator {
  const spec = context.node.spec;
  switch (spec.kind) {
    case "map":
      return new MapOperator(context, spec.fn);
    case "filter":
      return new FilterOperator(context, spec.fn);
    case "flatMap":
      return new FlatMapOperator(context, spec.fn);
    case "process":
      return new ProcessOperator(context, spec.fn);
    case "keyedProcess":
      return new KeyedProcessOperator(context, spec.fn, spec.state);
    case "rollingReduce":
      return spec.field === undefined
        ? new RollingReduceOperator(context, spec.reduce)
        : new FieldAggregateOperator(context, spec.field.name, spec.field.aggregation);
    case "coMap":
      return new CoMapOperator(context, spec.fn);
    case "coFlatMap":
      return new CoFlatMapOperator(context, spec.fn);
    case "coProcess":
      return new CoProcessOperator(context, spec.fn);
    case "keyedCoProcess":
      return new KeyedCoProcessOperator(context, spec.fn, spec.state);
    case "broadcastProcess":
      return new BroadcastProcessOperator(context, spec.fn, spec.keyed, spec.state, spec.broadcastState);
    case "timestampsAndWatermarks":
      return new TimestampsAndWatermarksOperator(context, spec.strategy);
    case "window":
      return createWindowOperator(context, spec.window);
    case "sink":
      return new SinkOperator(context, spec.sink);
    case "functions":
      return new FunctionDispatcherOperator(context, spec.functions, spec.deadLetters);
    case "source":
      throw new Error(
        `operator "${context.node.name}" is a source: sources are driven by their shard, not created as operators`,
      );
  }
}
