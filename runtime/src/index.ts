export type { CheckpointCoordinator, CheckpointingOptions } from "./checkpoint/checkpoint-coordinator.js";
export type { CheckpointMetadata, CheckpointStorage } from "./checkpoint/checkpoint-storage.js";
export type { CoordinatorState } from "./checkpoint/coordinator-machine.js";
export {
  CheckpointFailedError,
  CheckpointRefusedError,
  SourceNotCheckpointableError,
} from "./checkpoint/errors.js";
export { MemoryCheckpointStorage } from "./checkpoint/memory-checkpoint-storage.js";
export {
  DuplicateNodeError,
  InvalidNodeOptionsError,
  PeerCancelledError,
  PeerFailedError,
  PeerLostError,
  PlanMismatchError,
} from "./cluster/errors.js";
export type { ClusterQueryClient, QueryClientOptions } from "./cluster/query-client.js";
export { queryClient } from "./cluster/query-client.js";
export type { NodeResult, StaticNodeOptions } from "./cluster/static-node.js";
export { runNode } from "./cluster/static-node.js";
export type { ClusterStatusOptions } from "./cluster/status-client.js";
export { clusterStatus } from "./cluster/status-client.js";
export type { CheckpointedOutcome, JobControl } from "./coordinator/checkpointed-run.js";
export { JobEndedBeforeStopError, NonRestoredStateError } from "./coordinator/errors.js";
export type { CheckpointSummary, JobStatus } from "./coordinator/job-status.js";
export type { RestartDecision, RestartStrategy } from "./coordinator/restart-strategy.js";
export { RestartPolicy } from "./coordinator/restart-strategy.js";
export type { ExecuteOptions } from "./embedded/execute.js";
export { execute } from "./embedded/execute.js";
export type { JobResult } from "./embedded/job-result.js";
export type { FunctionStateQuery } from "./handler/function-state-reader.js";
export { inspectMachineInCheckpoint, readFunctionState } from "./handler/function-state-reader.js";
export { JobCancelledError, JobFailedError } from "./node/errors.js";
export { JobModuleError, loadJob } from "./node/load-job.js";
export { InvalidTimestampError, UserFunctionError } from "./operator/errors.js";
export { PartitionOutOfRangeError } from "./partition/errors.js";
export type { KeyGroupRange } from "./partition/key-groups.js";
export { keyGroupOf, keyGroupRangeOf, shardOfKey, shardOfKeyGroup } from "./partition/key-groups.js";
export type { StateQueryErrorCode } from "./query/errors.js";
export { StateQueryError } from "./query/errors.js";
export type { QueryOrigin, StateQuery, StateQueryAnswer } from "./query/state-query.js";
export type { QueryOptions, StateQueryClient } from "./query/state-query-client.js";
export { StateMigrationError, StateRestoreError, StateVersionError } from "./state/errors.js";
export type { CheckpointStoreOptions } from "./state/store/checkpoint-store.js";
export { CheckpointStore } from "./state/store/checkpoint-store.js";
export type { Clock } from "./time/clock.js";
export { SimulatedClock, systemClock } from "./time/clock.js";
export {
  CreditViolationError,
  ElementTooLargeError,
  InvalidSubjectTokenError,
  NatsDisconnectedError,
  NatsUnreachableError,
} from "./transport/errors.js";
export type { SerializedError } from "./util/serialized-error.js";
