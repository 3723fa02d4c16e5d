export { collectionSource } from "./connector/collection-source.js";
export type { GeneratorOptions } from "./connector/generator-source.js";
export { generatorSource } from "./connector/generator-source.js";
export type { SensorReading, SensorSourceOptions } from "./connector/sensor-source.js";
export { sensorSource } from "./connector/sensor-source.js";
export type * from "./connector/sink.js";
export { collectSink } from "./connector/sink.js";
export type * from "./connector/source.js";
export { describeRecord, InvalidJobError, KeyflowError, MissingTimestampError } from "./errors.js";
export type { Address, AnyAddress } from "./function/address.js";
export type { Collector, OutputTag } from "./function/collector.js";

export { outputTag } from "./function/collector.js";
export type {
  AnyFunctionType,
  CancellationToken,
  FunctionContext,
  FunctionSpec,
  FunctionTimerService,
  FunctionType,
  MessageOf,
} from "./function/define-function.js";
export { defineFunction } from "./function/define-function.js";
export type { DeadLetter, Egress } from "./function/egress.js";
export { egress } from "./function/egress.js";
export { MachineEmitUnhandledError, MachineFeatureUnsupportedError } from "./function/errors.js";
export type {
  EmittedHandlers,
  MachineEffectContext,
  MachineFunctionType,
  MachineInspection,
  MachineSpec,
  MachineState,
  MachineStateDeclarations,
} from "./function/from-machine.js";
export { fromMachine, inspectMachineState } from "./function/from-machine.js";
export type * from "./function/functions.js";
export type * from "./function/join-functions.js";
export type { FunctionStateOf, KeyedStateOf, StateValueOf } from "./function/queryable-state.js";
export type { RichFunction, RuntimeContext } from "./function/runtime-context.js";
export type { TimeDomain, TimerService } from "./function/timer-service.js";
export type {
  CoGroupEqualTo,
  CoGroupedStreams,
  CoGroupWhere,
  CoGroupWithWindow,
  TaggedUnion,
} from "./job/co-group.js";
export type {
  BroadcastConnectedStream,
  BroadcastStream,
  ConnectedStreams,
  KeyedBroadcastConnectedStream,
  KeyedConnectedStreams,
} from "./job/connected-streams.js";
export type { DataStream, KeyedStream, NumericField, OperatorStream, SinkOperator } from "./job/data-stream.js";
export type { JobDefinition, JobOptions } from "./job/define-job.js";
export { defineJob, isJobDefinition } from "./job/define-job.js";
export type { StreamEnvironment } from "./job/environment.js";
export { fieldCopier } from "./job/field-copy.js";
export type { FunctionsOptions, FunctionsStream, Routed, Router } from "./job/functions-stream.js";
export type {
  ChainingStrategy,
  EdgeSpec,
  JobGraph,
  OperatorKind,
  OperatorNode,
  OperatorSpec,
  PartitionerSpec,
  WindowFunctionSpec,
  WindowSpec,
} from "./job/graph.js";
export { KEYED_KINDS } from "./job/graph.js";
export type { IntervalJoin, IntervalJoined } from "./job/interval-join.js";
export type { JoinEqualTo, JoinedStreams, JoinWhere, JoinWithWindow } from "./job/join.js";
export type { WindowedStream } from "./job/windowed-stream.js";
export type { Key, KeyPrimitive, KeySelector } from "./key.js";
export type * from "./state/descriptors.js";
export { aggregatingState, listState, mapState, reducingState, valueState } from "./state/descriptors.js";
export type * from "./state/handles.js";
export type { StateTtl } from "./state/ttl.js";
export type {
  TimestampAssigner,
  WatermarkGenerator,
  WatermarkOutput,
} from "./time/watermark-strategy.js";
export { WatermarkStrategy } from "./time/watermark-strategy.js";
export { SeededRandom } from "./util/random.js";
export type { AssignerShape, WindowAssigner, WindowAssignerContext } from "./window/assigner.js";
export {
  eventTimeSessionWindows,
  eventTimeSessionWindowsWithDynamicGap,
  globalWindows,
  mergeTimeWindows,
  processingTimeSessionWindows,
  processingTimeSessionWindowsWithDynamicGap,
  slidingEventTimeWindows,
  slidingProcessingTimeWindows,
  tumblingEventTimeWindows,
  tumblingProcessingTimeWindows,
} from "./window/assigner.js";
export type { Evictor, EvictorContext, TimestampedValue } from "./window/evictor.js";
export { countEvictor, deltaEvictor, timeEvictor } from "./window/evictor.js";
export type { OnMergeContext, Trigger, TriggerContext, TriggerResult } from "./window/trigger.js";
export {
  continuousEventTimeTrigger,
  countTrigger,
  eventTimeTrigger,
  neverTrigger,
  processingTimeTrigger,
  purgingTrigger,
} from "./window/trigger.js";
export { GlobalWindow, TimeWindow, type Window } from "./window/window.js";
export type { ProcessWindowContext, ProcessWindowFunction } from "./window/window-functions.js";
