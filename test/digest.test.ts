// The outputs of a fixed set of runs (test/digest.ts: every model, arm, optimizer and loss), hashed bit
// for bit, per kernel build. A change meant to keep results must keep these; a change of the numerics
// updates them in the same commit, saying why. The strict digest has held since before the fma build
// existed (Node 20, 22 and 24 alike).
import { test } from "node:test";
import assert from "node:assert/strict";
import { digest } from "./digest.js";
import { abi, BUILDS } from "./helpers.js";

const EXPECTED: Record<string, string> = { strict: "dbc5f54a832fa987", fma: "280bc020da12fb8d" };

for (const b of BUILDS) {
  test(`the eight-run digest of the ${b.name} kernels is ${EXPECTED[b.name]}`, () => {
    assert.equal(digest(abi(b.name)), EXPECTED[b.name]);
  });
}
