#!/usr/bin/env node
// Runs every compiled test file of the workspaces with node's test runner, two files at a time
// (this machine has two cores). Extra arguments are passed to `node --test`.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const roots = ["functions-sdk/dist/test", "runtime/dist/test", "examples/dist/test"];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(".test.js")) files.push(path);
  }
};
for (const root of roots) if (existsSync(root)) walk(root);
if (files.length === 0) {
  console.error("no test files found: run `npm run build` first");
  process.exit(1);
}
const filter = process.env.KEYFLOW_TEST_FILTER;
const selected = filter === undefined ? files : files.filter((file) => file.includes(filter));
const result = spawnSync(
  process.execPath,
  ["--test", "--test-concurrency=2", "--test-timeout=300000", ...process.argv.slice(2), ...selected.sort()],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
