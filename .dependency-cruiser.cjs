// Folders are the architecture: a folder may import only folders listed above it (STYLE.md),
// which also rules out cycles between folders. Files inside one folder may import each other.
const layers = {
  "functions-sdk/src": ["util", "state", "function", "time", "window", "connector", "job"],
  "runtime/src": [
    "util",
    "observe",
    "element",
    "codec",
    "partition",
    "time",
    "mailbox",
    "channel",
    "state",
    "transport",
    "operator",
    "window",
    "checkpoint",
    "handler",
    "plan",
    "checkpoint-protocol",
    "shard",
    "query",
    "node",
    "coordinator",
    "connectors",
    "cluster",
    "embedded",
    "rest",
    "cli",
    "testing",
  ],
};

const forbidden = [
  {
    name: "sdk-has-no-io",
    comment: "The functions SDK does no I/O: no node:*, NATS, level or runtime imports.",
    severity: "error",
    from: { path: "^functions-sdk/src" },
    to: {
      path: "^(node:|fs|net|worker_threads|child_process|@nats-io|level|classic-level|runtime/|@keyflow/runtime)",
      dependencyTypesNot: ["type-only"],
    },
  },
  {
    name: "no-circular-between-folders",
    severity: "error",
    from: {},
    to: { circular: true, viaNot: "^functions-sdk/src/job/" },
  },
];
for (const [root, order] of Object.entries(layers)) {
  order.forEach((folder, i) => {
    const below = order.slice(i + 1);
    if (below.length === 0) return;
    forbidden.push({
      name: `layer-${root.split("/")[0]}-${folder}`,
      comment: `${root}/${folder}/ may import only folders listed above it`,
      severity: "error",
      from: { path: `^${root}/${folder}/` },
      to: { path: `^${root}/(${below.join("|")})/` },
    });
  });
}

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
  },
};
