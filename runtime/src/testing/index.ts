/**
 * Helpers for tests and benchmarks of Keyflow jobs: real nats-server processes on free loopback
 * ports with their own store folders, stopped exactly (never the shared server on 4222).
 */

export type { NatsClusterHandle, NatsServerHandle } from "./nats-server.js";
export { startNatsCluster, startNatsServer } from "./nats-server.js";
