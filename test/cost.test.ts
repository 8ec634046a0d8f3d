// Time estimates: per-kernels, per-model rates measured by `npm run bench` (src/cost.ts RATES), interpolated
// in log FLOPs per step, behind every --dry-run's core-hours, at the rates of the kernels the command would run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { stepFlops, stepSeconds, rateKey, RATES, KINDS, RateKey } from "../src/cost.js";
import { loadKernels, KernelChoice } from "../src/kernels.js";
import { expand } from "../src/spec.js";
import { cfg, cli, specFile, tmp, TINY, BUILDS } from "./helpers.js";

const KEYS = Object.keys(RATES) as RateKey[];
const paper = cfg({ p: 59, d: 128, H: 256, frac: 0.4 }),
  small = cfg({ p: 23, d: 32, H: 64, frac: 0.4 });

test("the rates are keyed by the kernels that run: their build and SIMD width", () => {
  assert.deepEqual(KEYS.sort(), ["fma 128-bit", "fma 256-bit", "strict 128-bit", "strict 256-bit"]);
  assert.equal(rateKey({ name: "fma", wide: true }), "fma 256-bit");
  assert.equal(rateKey({ name: "fma", wide: false }), "fma 128-bit");
  assert.equal(rateKey({ name: "strict", wide: true }), "strict 256-bit");
  assert.equal(rateKey({ name: "strict", wide: false }), "strict 128-bit");
  for (const k of BUILDS) {
    const key = rateKey(k);
    assert.ok(key.startsWith(`${k.name} `) && key in RATES, key);
    assert.equal(key.endsWith("256-bit"), k.wide, key);
  }
});

test("every kernels key has rates for every kind of run, ascending in FLOPs; the MLP at several sizes", () => {
  for (const key of KEYS) {
    assert.deepEqual(Object.keys(RATES[key]).sort(), [...KINDS].sort(), key);
    for (const kind of KINDS) {
      const pts = RATES[key][kind];
      assert.ok(pts.length >= 1, `${key} ${kind}`);
      pts.forEach(([f, r], i) => {
        assert.ok(f > 0 && r > 0, `${key} ${kind}`);
        if (i) assert.ok(f > pts[i - 1][0], `${key} ${kind}: ascending`);
      });
    }
    assert.ok(RATES[key].mlp.length >= 3, key);
  }
});

test("256-bit kernels run the paper's MLP faster than 128-bit ones, and the estimate follows", () => {
  for (const name of ["fma", "strict"] as const) {
    const narrow = stepSeconds(paper, `${name} 128-bit`),
      wide = stepSeconds(paper, `${name} 256-bit`);
    // measured 1.28–1.39× on 2026-12-07: a margin that tells swapped keys from the VM's drift
    assert.ok(wide < narrow / 1.15, `${name}: ${wide} vs ${narrow}`);
  }
});

test("a step's time is its FLOPs at the kernels' rate: exact at the calibration points, log-linear between", () => {
  for (const key of KEYS) {
    const mlp = RATES[key].mlp;
    for (const [c, pt] of [
      [small, mlp[0]],
      [paper, mlp[1]],
    ] as const) {
      assert.ok(Math.abs(stepFlops(c) / pt[0] - 1) < 2e-3, "the calibration point is this configuration");
      assert.ok(Math.abs((stepSeconds(c, key) * pt[1] * 1e9) / stepFlops(c) - 1) < 3e-3, key);
    }
    const mid = cfg({ p: 41, d: 64, H: 128, frac: 0.4 }),
      f = stepFlops(mid);
    const [[f0, r0], [f1, r1]] = mlp;
    const want = r0 + ((r1 - r0) * Math.log(f / f0)) / Math.log(f1 / f0);
    assert.ok(Math.abs(f / stepSeconds(mid, key) / 1e9 - want) < 1e-9, key);
    assert.ok(stepSeconds(cfg({ optim: "muon", p: 59, d: 128, H: 256, frac: 0.4 }), key) > stepSeconds(paper, key) * 2);
    const tiny = cfg({ p: 3, d: 2, H: 4 });
    assert.equal(stepSeconds(tiny, key), stepFlops(tiny) / (mlp[0][1] * 1e9), "below the range: the nearest rate");
    const attn = cfg({ model: "attn", p: 59, d: 128, H: 512, frac: 0.4 });
    assert.equal(stepSeconds(attn, key), stepFlops(attn) / (RATES[key].attn[0][1] * 1e9), "attention's own rate");
  }
});

const doc = { p: 23, d: 32, H: 64, frac: 0.4, "max-steps": 100000, seeds: 36 };
const hoursAt = (key: RateKey) => expand(doc).runs.reduce((s, x) => s + x.seconds(key), 0) / 3600;
const fused = BUILDS.some((k) => k.name === "fma");

for (const choice of ["strict", "fma"] as KernelChoice[]) {
  test(
    `dry runs with --kernels ${choice} estimate at the rates of the kernels they would run, and say which`,
    {
      skip: choice === "fma" && !fused && "relaxed_madd is not fused here",
    },
    () => {
      const key = rateKey(loadKernels(choice));
      const hours = hoursAt(key);
      assert.ok(Math.abs(hours - (36 * 100000 * stepSeconds(small, key)) / 3600) < 1e-9);
      const r = cli(["sweep", specFile(doc), "--dry-run", "--kernels", choice]);
      assert.equal(r.code, 0, r.stderr);
      const line = `≈ ${hours.toFixed(2)} core-hours at the rates npm run bench measured for ${key} kernels`;
      assert.ok(r.stdout.includes(line), r.stdout);
      const j = JSON.parse(cli(["sweep", specFile(doc), "--dry-run", "--json", "--kernels", choice]).stdout);
      assert.equal(j.cost.rates, key);
      assert.ok(Math.abs(j.cost.core_hours - hours) < 1e-9);
      const slurm = cli(["slurm", TINY, "--out", tmp(), "--dry-run", "--kernels", choice]);
      assert.equal(slurm.code, 0, slurm.stderr);
      assert.match(slurm.stdout, new RegExp(`on 4 CPUs at the rates npm run bench measured for ${key} kernels`));
      const plan = JSON.parse(cli(["slurm", TINY, "--out", tmp(), "--dry-run", "--json", "--kernels", choice]).stdout);
      assert.equal(plan.rates, key);
      const rep = cli(["reproduce", "delay-law", "--dry-run", "--json", "--kernels", choice]);
      assert.equal(rep.code, 0, rep.stderr);
      assert.equal(JSON.parse(rep.stdout).cost.rates, key);
    },
  );
}

test("auto: the dry run takes the rates of the build auto picks (strict where relaxed_madd is not fused)", () => {
  const r = cli(["sweep", specFile(doc), "--dry-run"], { GROKSWEEP_TEST_UNFUSED: "1" });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`measured for ${rateKey(loadKernels("strict"))} kernels`));
  assert.equal(r.stderr, "", "the line names the kernels: no note on stderr");
  const rep = cli(["reproduce", "delay-law", "--dry-run"], { GROKSWEEP_TEST_UNFUSED: "1" });
  assert.match(rep.stdout, new RegExp(`measured for ${rateKey(loadKernels("strict"))} kernels`));
  assert.equal(rep.stderr, "");
});

test("the strict kernels' estimate is longer than the fma kernels' at the same width", () => {
  for (const w of [128, 256] as const) assert.ok(hoursAt(`strict ${w}-bit`) > hoursAt(`fma ${w}-bit`), `${w}-bit`);
});
