// The helpers live in the runtime's `./testing` entry, so benchmarks and users' tests can start servers too.

export type { NatsClusterHandle, NatsServerHandle } from "../../src/testing/nats-server.js";
export { startNatsCluster, startNatsServer } from "../../src/testing/nats-server.js";
