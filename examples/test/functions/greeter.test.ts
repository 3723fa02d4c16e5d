import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execute } from "@keyflow/runtime";
import { greeterJob, lines } from "../../src/functions/greeter.js";

describe("the greeter (per-key functions)", () => {
  for (const parallelism of [1, 3]) {
    it(`greets each user by how often it was seen, at parallelism ${parallelism}`, async () => {
      const result = await execute(greeterJob({ print: false }), { parallelism, workers: 0 });
      assert.deepEqual(result.get(lines).sort(), [
        "ada (1): Hello ada! I'm so happy to meet you.",
        "ada (2): Hello again ada!",
        "ada (3): Hello again ada!",
        "alan (1): Hello alan! I'm so happy to meet you.",
        "barbara (1): Hello barbara! I'm so happy to meet you.",
        "grace (1): Hello grace! I'm so happy to meet you.",
        "grace (2): Hello again grace!",
      ]);
    });
  }
});
