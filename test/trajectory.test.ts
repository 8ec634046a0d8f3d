// Trajectory check against the independent PyTorch implementation (../shared/reference/paper_mlp.py
// replay): the same saved init and split, trained by both, compared at every step.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { cli, tmp, ROOT, BUILDS } from "./helpers.js";

const PY = "/usr/bin/python3";
const REF = join(ROOT, "..", "shared", "reference", "paper_mlp.py");
const hasTorch = existsSync(PY) && existsSync(REF) && spawnSync(PY, ["-c", "import torch"]).status === 0;
const skip = hasTorch
  ? false
  : `needs ${PY} with torch and ${REF} (apt-get install python3-torch libopenblas0-pthread)`;

function startJson(dir: string, hyper: Record<string, number>): string {
  const start: Record<string, unknown> = { ...hyper };
  for (const r of tableFromIPC(readFileSync(join(dir, "params.arrow")))) {
    const shape = [...r.shape] as number[],
      vals = r.values.toArray() as Float32Array;
    start[r.tensor] =
      shape.length === 2
        ? Array.from({ length: shape[0] }, (_, i) => Array.from(vals.subarray(i * shape[1], (i + 1) * shape[1])))
        : Array.from(vals);
  }
  for (const r of tableFromIPC(readFileSync(join(dir, "splits.arrow"))))
    if (r.split === "train") start.train = Array.from(r.pairs.toArray());
  const path = join(dir, "start.json");
  writeFileSync(path, JSON.stringify(start));
  return path;
}

function check(args: string[], hyper: Record<string, number>, steps: number, refArgs: string[] = []) {
  const dir = tmp();
  const r = cli(["run", ...args, "--max-steps", String(steps), "--log", "every:1", "--save-params", "0", "--out", dir]);
  assert.equal(r.code, 0, r.stderr);
  const py = spawnSync(PY, [REF, "replay", "--init", startJson(dir, hyper), "--steps", String(steps), ...refArgs], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  assert.equal(py.status, 0, py.stderr);
  const ref = py.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const curves = [...tableFromIPC(readFileSync(join(dir, "curves.arrow")))];
  assert.equal(curves.length, steps + 1);
  let worstNorm = 0,
    worstLoss = 0;
  for (const c of curves) {
    const q = ref[c.step];
    worstNorm = Math.max(worstNorm, Math.abs(c.weight_norm - q.weight_norm) / q.weight_norm);
    worstLoss = Math.max(worstLoss, Math.abs(c.train_loss - q.train_loss) / q.train_loss);
  }
  assert.ok(worstNorm <= 1e-4, `‖W‖ relative error ${worstNorm}`);
  assert.ok(worstLoss <= 1e-3, `train loss relative error ${worstLoss}`);
  return { worstNorm, worstLoss };
}

for (const b of BUILDS) {
  const kernels = ["--kernels", b.name];
  test(
    `free AdamW at the paper config (p 59, d 128, H 256) follows PyTorch for 150 steps [${b.name}]`,
    { skip },
    () => {
      const e = check(kernels, { p: 59, d: 128, H: 256, lr: 1e-3, wd: 1 }, 150);
      process.stdout.write(
        `# paper config, ${b.name}: max rel ‖W‖ error ${e.worstNorm.toExponential(2)}, ` +
          `loss ${e.worstLoss.toExponential(2)}\n`,
      );
    },
  );

  test(`sustained clamp (ρ·Wc = 18 from t_int = 40) follows PyTorch for 120 steps [${b.name}]`, { skip }, () => {
    const args = [
      ...kernels,
      "--p",
      "23",
      "--d",
      "32",
      "--H",
      "64",
      "--lr",
      "3e-3",
      "--arm",
      "clamp",
      "--wc",
      "20",
      "--rho",
      "0.9",
      "--t-int",
      "40",
    ];
    const e = check(args, { p: 23, d: 32, H: 64, lr: 3e-3, wd: 1 }, 120, ["--clamp-target", "18", "--t-int", "40"]);
    process.stdout.write(
      `# clamp, ${b.name}: max rel ‖W‖ error ${e.worstNorm.toExponential(2)}, loss ${e.worstLoss.toExponential(2)}\n`,
    );
  });
}
