// The outputs of a fixed set of runs (test/digest.ts: every model, arm, optimizer and loss), hashed bit
// for bit, per kernel build. A change meant to keep results must keep these; a change of the numerics
// updates them in the same commit, saying why. The strict digest has held since before the fma build
// existed (Node 20, 22 and 24 alike).
import { test } from "node:test";
import assert from "node:assert/strict";
import { digest } from "./digest.js";
import { abi, BUILDS } from "./helpers.js";

// keyed by build@revision (src/kernels.ts REVISION): new numerics get a new revision and a new entry
const EXPECTED: Record<string, string> = { "strict@1": "f4e7df32e6182765", "fma@1": "44198d30e6a9512d" };

for (const b of BUILDS) {
  test(`the ten-run digest of the ${b.id} kernels is ${EXPECTED[b.id]}`, () => {
    assert.ok(EXPECTED[b.id], `no digest pinned for ${b.id}`);
    assert.equal(
      digest(abi(b.name)),
      EXPECTED[b.id],
      `the ${b.name} numerics changed: bump REVISION.${b.name} and pin the new digest`,
    );
  });
}
