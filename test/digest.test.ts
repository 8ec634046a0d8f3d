// The outputs of a fixed set of runs (test/digest.ts: every model, arm, optimizer and loss), hashed bit
// for bit, per kernel build. A change meant to keep results must keep these; a change of the numerics
// updates them in the same commit, saying why. The strict digest has held since before the fma build
// existed (Node 20, 22 and 24 alike).
import { test } from "node:test";
import assert from "node:assert/strict";
import { digest, KNOB_RUNS } from "./digest.js";
import { abi, BUILDS } from "./helpers.js";

// keyed by build@revision (src/kernels.ts REVISION): new numerics get a new revision and a new entry
// (0.2.0 changed only --observe's definitions, computed on the host: the digest without observe runs held)
const EXPECTED: Record<string, string> = { "strict@1": "5645efd7f2e1002b", "fma@1": "4433c9dbb7b78074" };

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

// issue 17's knobs (minibatches, label noise, grokfast, τ, ⊥Grad, StableMax; test/digest.ts KNOB_RUNS), pinned
// when they were added: the same under Node 20 and Node 24, with and without 256-bit code
const KNOBS: Record<string, string> = { "strict@1": "94eaa5ef8fdf3d37", "fma@1": "530dfae210c989c4" };

for (const b of BUILDS) {
  test(`the knobs' digest of the ${b.id} kernels is ${KNOBS[b.id]}`, () => {
    assert.ok(KNOBS[b.id], `no knobs digest pinned for ${b.id}`);
    assert.equal(digest(abi(b.name), KNOB_RUNS), KNOBS[b.id], `the ${b.name} numerics of the knobs changed`);
  });
}
